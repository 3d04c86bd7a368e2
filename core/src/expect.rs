//! Checking an outcome against what ethereum/tests expects, and the tests that replay skips.

use std::path::Path;

use crate::case::Case;
use crate::outcome::{Outcome, Status};

/// The verdict of one backend on one case with an expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Root, logs hash (and `out`, if given) match; or the tx was refused as expected.
    Pass,
    /// Something differs; the reason says what.
    Fail(String),
    /// Nothing to check against.
    NoExpectation,
}

/// Checks `outcome` against `case.expect`.
///
/// An expected exception passes when the backend refused the transaction. Its `hash` is not
/// checked, as revm's own runner does not: for rejected typed transactions on pre-Berlin forks
/// the filler touched the coinbase, which no backend reproduces (see `docs/backends.md`).
pub fn check(case: &Case, outcome: &Outcome) -> Check {
    let Some(x) = &case.expect else {
        return Check::NoExpectation;
    };
    if let Some(ex) = &x.exception {
        return if outcome.status == Status::Rejected {
            Check::Pass
        } else {
            Check::Fail(format!("expected exception {ex}, got {}", outcome.status))
        };
    }
    if outcome.status == Status::Rejected {
        return Check::Fail(format!("transaction rejected: {}", outcome.detail));
    }
    if let Some(out) = &x.out
        && *out != outcome.output
    {
        return Check::Fail(format!("output {} != expected {}", outcome.output, out));
    }
    if outcome.scope.is_full() && outcome.logs_hash != x.logs {
        return Check::Fail(format!(
            "logs hash {} != expected {}",
            outcome.logs_hash, x.logs
        ));
    }
    if outcome.state_root != x.hash {
        return Check::Fail(format!(
            "state root {} != expected {}",
            outcome.state_root, x.hash
        ));
    }
    Check::Pass
}

/// Test files replay skips, with the reason. The same list as revm's `revme statetest`:
/// pre-existing storage at a CREATE address (impossible on mainnet since EIP-7610, and not
/// representable by backends that build state from accounts) and a few very slow tests.
pub fn skip_reason(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(".json").unwrap_or(name);
    let collision = [
        "RevertInCreateInInit_Paris",
        "RevertInCreateInInit",
        "dynamicAccountOverwriteEmpty",
        "dynamicAccountOverwriteEmpty_Paris",
        "RevertInCreateInInitCreate2Paris",
        "create2collisionStorage",
        "RevertInCreateInInitCreate2",
        "create2collisionStorageParis",
        "InitCollision",
        "InitCollisionParis",
        "test_init_collision_create_opcode",
    ];
    if collision.contains(&stem)
        || path
            .to_string_lossy()
            .contains("paris/eip7610_create_collision")
    {
        return Some("pre-existing storage at a CREATE address (EIP-7610; skipped by revme too)");
    }
    if stem.starts_with("ValueOverflow") {
        return Some("value overflows 256 bits in the transaction (skipped by revme too)");
    }
    if [
        "Call50000_sha256",
        "static_Call50000_sha256",
        "loopMul",
        "CALLBlake2f_MaxRounds",
    ]
    .contains(&stem)
    {
        return Some("very slow (skipped by revme too)");
    }
    None
}
