//! A root derived from data kept beside it (an outcome's post-state or logs, a block's end
//! state), computed the first time it is read and kept.
//!
//! Every backend built a state-trie root and a logs hash for every transaction it ran, and a
//! state root for every block: about 106,000 instructions a transaction, a sixth of a bare
//! backend's work on a generated case (callgrind, `scripts/instructions.sh`). Yet two complete
//! outcomes are compared on their states and logs, of which the roots are functions, so most
//! were never read. A root is read where nothing else stands for the state: a fixture's
//! expected `hash`, a header's `stateRoot` while sealing, a receipt before Byzantium, a runner
//! that prints only a root, a report, a file written.

use std::fmt;
use std::sync::OnceLock;

use alloy_primitives::B256;

/// A root computed on first read (or known from the start, as a runner's printed root is).
#[derive(Clone, Default)]
pub struct LazyRoot(OnceLock<B256>);

impl fmt::Debug for LazyRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.get() {
            Some(root) => write!(f, "{root}"),
            None => f.write_str("(not computed)"),
        }
    }
}

impl LazyRoot {
    /// A root that is already known.
    pub fn known(root: B256) -> LazyRoot {
        LazyRoot(OnceLock::from(root))
    }

    /// The root: the one known or computed before, else `derive`'s, kept for the next read.
    pub fn get_or(&self, derive: impl FnOnce() -> B256) -> B256 {
        *self.0.get_or_init(derive)
    }

    /// True once the root is known (tests check that the fast path computes none).
    pub fn is_known(&self) -> bool {
        self.0.get().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_is_derived_once_and_kept() {
        let root = LazyRoot::default();
        assert!(!root.is_known());
        assert_eq!(root.get_or(|| B256::repeat_byte(1)), B256::repeat_byte(1));
        // Kept: a second derivation is not run.
        assert_eq!(root.get_or(|| B256::repeat_byte(2)), B256::repeat_byte(1));
        assert!(root.clone().is_known());
        let known = LazyRoot::known(B256::repeat_byte(3));
        assert_eq!(known.get_or(|| B256::ZERO), B256::repeat_byte(3));
    }
}
