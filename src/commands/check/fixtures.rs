//! `evmdiff check`'s fixture replay: the shared GeneralStateTests at the forks a backend
//! declares, judged by its floor (a shipped backend) or by a 1% failure bound (any other).

use std::path::PathBuf;

use anyhow::Result;
use evmdiff_conformance::fixture::TOO_SLOW_FOR_PYTHON;
use evmdiff_conformance::{Floor, Tally, spread};
use evmdiff_core::expect::check;
use evmdiff_core::{Capabilities, Case, Profile};

use crate::backends;

/// Passes, failures and sit-outs, with the first failure.
#[derive(Debug, Default)]
pub struct Count {
    pub passed: usize,
    pub failed: usize,
    pub out: usize,
    pub first: Option<(String, Case, String)>,
    /// Every failure's name and first line (scenarios only: fixtures can fail by thousands).
    pub failures: Vec<(String, String)>,
    /// Scenarios passed but for the halt class (`other`, which the protocol allows, or another
    /// one: the fuzzer's comparison only notes a halt class).
    pub halt_class_untold: usize,
    /// The backend's outcomes cannot be checked against the scenarios.
    pub not_checkable: bool,
}

/// Replays `files` at the forks the backend declares.
pub fn replay_fixtures(
    name: &str,
    caps: &Capabilities,
    files: &[PathBuf],
    threads: usize,
) -> Result<(Count, Result<(), String>)> {
    let files: Vec<PathBuf> = files
        .iter()
        .filter(|p| {
            caps.in_process
                || !p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| TOO_SLOW_FOR_PYTHON.contains(&n))
        })
        .cloned()
        .collect();
    let forks = caps.forks.clone();
    // Cases of forks it does not declare are not run: counted as the walk passes them.
    let skipped_forks = std::cell::Cell::new(0usize);
    let (walk, tallies) = spread(
        &files,
        threads,
        |c| {
            let runs = forks.contains(&c.fork);
            skipped_forks.set(skipped_forks.get() + usize::from(!runs));
            runs
        },
        || backends::instantiate(name).expect("checked").remove(0),
        |backend, file, case, acc: &mut (Tally, Option<(String, Case, String)>)| {
            let result = backend
                .execute(case, &Profile::mainnet(case.fork))
                .map(|o| check(case, &o));
            let before = acc.0.failed.len();
            acc.0.count(file, case, result);
            if acc.0.failed.len() > before && acc.1.is_none() {
                let why = acc
                    .0
                    .failed
                    .last()
                    .map(|(_, w)| w.clone())
                    .unwrap_or_default();
                acc.1 = Some((case.name.clone(), case.clone(), why));
            }
        },
    )
    .map_err(anyhow::Error::msg)?;
    let mut tally = Tally {
        walk,
        ..Tally::default()
    };
    let mut first = None;
    for (t, f) in tallies {
        tally.merge(t);
        if first.is_none() {
            first = f;
        }
    }
    tally.failed.sort();
    let unsupported: usize = tally.unsupported.values().sum();
    let count = Count {
        passed: tally.passed,
        failed: tally.failed.len(),
        out: unsupported + skipped_forks.get(),
        first,
        failures: Vec::new(),
        halt_class_untold: 0,
        not_checkable: false,
    };
    let floor = match Floor::of(name) {
        // A shipped backend holds its own floor (its known failures are explained).
        Some(f) => f.judge(&tally, false),
        None => {
            let ran = count.passed + count.failed;
            if ran == 0 {
                Err("no fixture case ran".into())
            } else if count.failed * 100 > ran {
                Err(format!(
                    "{} of {ran} cases fail (more than 1%)",
                    count.failed
                ))
            } else {
                Ok(())
            }
        }
    };
    Ok((count, floor))
}
