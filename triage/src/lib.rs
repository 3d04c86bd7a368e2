//! # evmdiff-triage
//!
//! What happens to a divergence after it is found. For now: its [`signature`], which decides
//! when two divergences are "the same bug" (for deduplication and allowlists). Minimization
//! and reports come with the fuzzing campaign.

pub mod signature;

pub use signature::Signature;
