//! Exports: a case (a finding, usually) as a test others run, in the ethereum/tests formats —
//! a state test, or a BlockchainTest (the one block exporter, `write_chain`, underneath) —
//! with the outcome it must have.
//!
//! The expected outcome is the execution specification's when it ran (the reference backend);
//! otherwise that of the majority of the backends that produced one; a tie has no expected
//! outcome, and the case is not exported (the reason names the sides). Under a mainnet profile
//! the export is a test any client's runner replays; under another its expectations are
//! filed under the profile's label (`Cancun+eip7530-b`, [`evmdiff_core::network`]) and the
//! profile's rules travel in `_info.evmdiff.profile_toml`, so no client mistakes it for a
//! mainnet test.

use std::fmt;

use evmdiff_core::blockchaintest::write_chain;
use evmdiff_core::case::Expectation;
use evmdiff_core::compare::compare_chains;
use evmdiff_core::network::label;
use evmdiff_core::seal::as_chain;
use evmdiff_core::statetest::write_case;
use evmdiff_core::{Backend, Case, ChainOutcome, Profile};
use serde_json::{Value, json};

use crate::backends::is_reference;
use crate::execute::run_case;
use crate::seal::{seal, seal_with};

/// The format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An ethereum/tests state test (one transaction).
    StateTest,
    /// An ethereum/tests BlockchainTest.
    BlockchainTest,
}

impl Format {
    /// The format a case has: a chain's is a BlockchainTest.
    pub fn of(case: &Case) -> Format {
        if case.is_chain() {
            Format::BlockchainTest
        } else {
            Format::StateTest
        }
    }

    /// Its name on the command line and in file names.
    pub fn name(self) -> &'static str {
        match self {
            Format::StateTest => "statetest",
            Format::BlockchainTest => "blockchaintest",
        }
    }
}

/// Where an export's expected outcome comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedFrom {
    /// The reference backend (the execution specification).
    Reference(&'static str),
    /// The largest group of backends with equal outcomes.
    Majority {
        /// The backends that agree on it.
        agree: Vec<&'static str>,
        /// How many backends produced an outcome.
        of: usize,
    },
}

impl fmt::Display for ExpectedFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedFrom::Reference(r) => write!(f, "the reference, {r}"),
            ExpectedFrom::Majority { agree, of } => {
                write!(
                    f,
                    "the majority, {} ({} of {of})",
                    agree.join(", "),
                    agree.len()
                )
            }
        }
    }
}

/// An exported test.
#[derive(Debug, Clone)]
pub struct Exported {
    /// The test file's JSON.
    pub json: Value,
    /// Its format.
    pub format: Format,
    /// The label its expectations are filed under.
    pub network: String,
    /// Where its expected outcome comes from.
    pub expected: ExpectedFrom,
    /// The backends whose outcome differs from the expected one (in the exported form).
    pub disagree: Vec<&'static str>,
}

/// Why a case is not exported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotExported {
    /// A chain cannot be a state test.
    #[error("a chain ({0} blocks) exports as a blockchaintest only")]
    ChainAsStateTest(usize),
    /// No backend produced an outcome.
    #[error("no backend produced an outcome ({0})")]
    NoOutcome(String),
    /// The backends split evenly and no reference ran.
    #[error(
        "no expected outcome: the backends split evenly ({0}) and the execution spec did not run"
    )]
    Tie(String),
    /// The chain could not be sealed or written.
    #[error("{0}")]
    Chain(String),
}

/// Exports `case` (run under `profile` on `backends`) as `format`, named `name`.
pub fn export(
    case: &Case,
    profile: &Profile,
    backends: &mut [Box<dyn Backend>],
    format: Format,
    name: &str,
) -> Result<Exported, NotExported> {
    let mut case = match (format, case.is_chain()) {
        (Format::StateTest, true) => return Err(NotExported::ChainAsStateTest(case.blocks.len())),
        (Format::BlockchainTest, false) => {
            let mut chain = as_chain(case).ok_or_else(|| {
                NotExported::Chain("a state test of more than one transaction".into())
            })?;
            seal(&mut chain, profile).map_err(NotExported::Chain)?;
            chain
        }
        _ => case.clone(),
    };
    case.expect = None;
    let run = run_case(backends, &case, profile);
    let outcomes: Vec<(usize, &ChainOutcome)> = run
        .executions
        .iter()
        .enumerate()
        .filter_map(|(i, e)| e.result.as_ref().ok().map(|o| (i, o)))
        .collect();
    let (chosen, expected) = choose(&run, &outcomes)?;
    let mut outcome = outcomes[chosen].1.clone();
    let at = outcomes[chosen].0;
    // A chain's headers commit to the expected outcome: sealed again by the backend that has
    // it (revm sealed it first), block by block, then its outcome on the sealed chain.
    if case.is_chain() {
        let b = backends[at].as_mut();
        seal_with(&mut case, profile, b).map_err(NotExported::Chain)?;
        outcome = b
            .execute(&case, profile)
            .map_err(|e| NotExported::Chain(format!("{}: {e}", b.name())))?;
    }
    let disagree = outcomes
        .iter()
        .filter(|(_, o)| compare_chains(&outcome, o).is_some())
        .map(|(i, _)| run.executions[*i].backend)
        .collect();
    let network = label(profile);
    let mut meta = case
        .meta
        .clone()
        .and_then(|m| m.as_object().cloned())
        .unwrap_or_default();
    meta.insert("profile".into(), json!(profile.name));
    meta.insert("profile_toml".into(), json!(profile.to_toml()));
    meta.insert(
        "export".into(),
        json!({ "format": format.name(), "expected": expected.to_string() }),
    );
    case.meta = Some(Value::Object(meta));
    let comment = format!("evmdiff export: expected outcome from {expected}");
    let json = match format {
        Format::BlockchainTest => write_chain(&case, Some(&outcome), name, &comment, &network)
            .map_err(|e| NotExported::Chain(e.to_string()))?,
        Format::StateTest => {
            let last = outcome.last_tx();
            case.expect =
                last.map(|o| Expectation::of(o, || format!("evmdiff: rejected ({})", o.detail)));
            write_case(&case, name, &comment, &network)
                .ok_or_else(|| NotExported::Chain("not a state test".into()))?
        }
    };
    Ok(Exported {
        json,
        format,
        network,
        expected,
        disagree,
    })
}

/// The outcome to expect, as a position in `outcomes`: the reference's, else the largest
/// group's.
fn choose(
    run: &crate::execute::CaseRun,
    outcomes: &[(usize, &ChainOutcome)],
) -> Result<(usize, ExpectedFrom), NotExported> {
    let name = |i: usize| run.executions[outcomes[i].0].backend;
    if outcomes.is_empty() {
        let why: Vec<String> = run
            .executions
            .iter()
            .filter_map(|e| {
                e.result
                    .as_ref()
                    .err()
                    .map(|x| format!("{}: {x}", e.backend))
            })
            .collect();
        return Err(NotExported::NoOutcome(why.join("; ")));
    }
    if let Some(k) = (0..outcomes.len()).find(|&k| is_reference(name(k))) {
        return Ok((k, ExpectedFrom::Reference(name(k))));
    }
    // Groups of equal outcomes, in the order of their first backend.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for k in 0..outcomes.len() {
        match groups
            .iter_mut()
            .find(|g| compare_chains(outcomes[g[0]].1, outcomes[k].1).is_none())
        {
            Some(g) => g.push(k),
            None => groups.push(vec![k]),
        }
    }
    let largest = groups.iter().map(Vec::len).max().unwrap_or(0);
    let top: Vec<&Vec<usize>> = groups.iter().filter(|g| g.len() == largest).collect();
    if top.len() > 1 {
        let sides: Vec<String> = groups
            .iter()
            .map(|g| g.iter().map(|&k| name(k)).collect::<Vec<_>>().join(", "))
            .collect();
        return Err(NotExported::Tie(sides.join(" against ")));
    }
    let agree = top[0].iter().map(|&k| name(k)).collect();
    Ok((
        top[0][0],
        ExpectedFrom::Majority {
            agree,
            of: outcomes.len(),
        },
    ))
}
