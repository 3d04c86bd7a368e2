//! Checking an outcome against what ethereum/tests expects, and the tests that replay skips.

use std::path::Path;

use crate::case::{Block, BlockExpect, Case};
use crate::outcome::{BlockOutcome, ChainOutcome, Status};

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
pub fn check(case: &Case, outcome: &ChainOutcome) -> Check {
    if case.is_chain() {
        return check_chain(case, outcome);
    }
    let Some(x) = &case.expect else {
        return Check::NoExpectation;
    };
    let Some(outcome) = outcome.last_tx() else {
        return Check::Fail("no transaction outcome".into());
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
    if outcome.scope.is_full() && outcome.logs_hash() != x.logs {
        return Check::Fail(format!(
            "logs hash {} != expected {}",
            outcome.logs_hash(),
            x.logs
        ));
    }
    if outcome.state_root() != x.hash {
        return Check::Fail(format!(
            "state root {} != expected {}",
            outcome.state_root(),
            x.hash
        ));
    }
    Check::Pass
}

/// Checks a chain against what its BlockchainTest expects of each block: a valid block
/// accepted with results that match its header, an invalid one refused.
fn check_chain(case: &Case, outcome: &ChainOutcome) -> Check {
    let mut expected = false;
    for (i, block) in case.blocks.iter().enumerate() {
        let Some(expect) = &block.expect else {
            continue;
        };
        expected = true;
        let verdict = accepted(case, block, outcome.blocks.get(i));
        match (expect, verdict) {
            (BlockExpect::Valid, Err(why)) => {
                return Check::Fail(format!("block {}: {why}", i + 1));
            }
            (BlockExpect::Invalid(x), Ok(())) => {
                return Check::Fail(format!(
                    "block {}: expected {x}, but it was accepted with results that match its \
                     header",
                    i + 1
                ));
            }
            _ => {}
        }
    }
    if expected {
        Check::Pass
    } else {
        Check::NoExpectation
    }
}

/// `Ok` when a backend accepted `block` (refused none of its transactions, nor the block) and
/// its results are those the header commits to: state root, receipts root, logs bloom, gas
/// used and blob gas used. `Err` says where it parts.
pub fn accepted(case: &Case, block: &Block, outcome: Option<&BlockOutcome>) -> Result<(), String> {
    let o = outcome.ok_or("the backend executed no such block")?;
    if let Some(why) = &o.invalid {
        return Err(format!("the backend refused the block: {why}"));
    }
    if let Some((t, r)) = o
        .txs
        .iter()
        .enumerate()
        .find(|(_, t)| t.status == Status::Rejected)
    {
        return Err(format!("transaction {} refused: {}", t + 1, r.detail));
    }
    let end = o.end.as_ref().ok_or("no block processing")?;
    let header = block.header.as_ref().ok_or("the block has no header")?;
    let receipts = crate::receipts::receipts(block, o, case.fork);
    let blob_gas: u64 = block
        .txs
        .iter()
        .map(|t| t.blob_versioned_hashes.as_ref().map_or(0, Vec::len) as u64)
        .sum::<u64>()
        * crate::block_processing::GAS_PER_BLOB;
    let mismatch = |what: &str, ours: String, theirs: String| {
        Err(format!("{what} {ours} != header's {theirs}"))
    };
    if end.gas_used != header.gas_used {
        return mismatch(
            "gas used",
            end.gas_used.to_string(),
            header.gas_used.to_string(),
        );
    }
    if let Some(h) = header.blob_gas_used
        && h != blob_gas
    {
        return mismatch("blob gas used", blob_gas.to_string(), h.to_string());
    }
    let bloom = crate::receipts::logs_bloom(&receipts);
    if bloom != header.logs_bloom {
        return mismatch(
            "logs bloom",
            bloom.to_string(),
            header.logs_bloom.to_string(),
        );
    }
    let root = crate::receipts::receipts_root(&receipts);
    if root != header.receipts_root {
        return mismatch(
            "receipts root",
            root.to_string(),
            header.receipts_root.to_string(),
        );
    }
    if end.state_root() != header.state_root {
        return mismatch(
            "state root",
            end.state_root().to_string(),
            header.state_root.to_string(),
        );
    }
    Ok(())
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
