//! # evmdiff-triage
//!
//! What happens to a divergence after it is found: its [`signature`], which decides when two
//! divergences are "the same bug" (for deduplication and allowlists), and [`minimize`], which
//! shrinks a divergent case to the few instructions that make the backends part.

pub mod minimize;
pub mod signature;

pub use signature::Signature;
