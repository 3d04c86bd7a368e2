//! # evmdiff-triage
//!
//! What happens to a divergence after it is found: its [`signature`], which decides when two
//! divergences are "the same bug" (for deduplication and allowlists), and [`minimize`], which
//! shrinks a divergent case to the few instructions that make the backends part, and
//! [`identity`], the one identity every kind of finding (divergence, crash, hang, slow) has.

pub mod identity;
pub mod minimize;
pub mod signature;

pub use identity::{Identity, Kind};
pub use signature::Signature;
