//! Prover views (`--prover witness,rw-log`): observations compared across backends on top of
//! outcomes and steps, for the cases a prover team cares about.
//!
//! Each view is one [`ProverView`] in its own module, listed once in [`VIEWS`]: the `--prover`
//! parsing and its error, the help text, the comparison and the trace files written next to
//! a backend's EIP-3155 trace all read that table, so a new view is a new module and a row.
//! The fields a view reports are [`Field`](evmdiff_core::Field)s that say they come from a view
//! ([`Field::is_view`](evmdiff_core::Field::is_view)), since no step localization applies to
//! them.
//!
//! Each costs extra observed executions per backend, so none runs unless asked for.

mod rw_log;
mod witness;

use std::fmt;

use crate::error::{OracleError, Result};
use evmdiff_core::compare::{Difference, Divergence};
use evmdiff_core::{Backend, Case, Profile};

pub use rw_log::RwLogView;
pub use witness::WitnessView;

use crate::execute::{CaseRun, Verdict};

/// One observation a prover makes of an execution, compared across backends.
pub trait ProverView: Sync {
    /// Its `--prover` name.
    fn name(&self) -> &'static str;

    /// Whether it is built for chains too (per block); a view that is not skips them.
    fn chains(&self) -> bool {
        false
    }

    /// What it checks, in a line of the help text.
    fn help(&self) -> &'static str;

    /// Compares this view of the backends at positions `observed` (those that produced an
    /// outcome in `run` and report their steps), returning each pair that differs (positions,
    /// left one the reference) with its divergence. `run` is the case's run before any view
    /// added to it. A backend that fails while observed is left out.
    fn compare(
        &self,
        backends: &mut [Box<dyn Backend>],
        case: &Case,
        profile: &Profile,
        observed: &[usize],
        run: &CaseRun,
    ) -> Vec<((usize, usize), Divergence)>;

    /// The extension of its trace file (`rw.jsonl`: `<case>.<backend>.rw.jsonl`).
    fn trace_extension(&self) -> &'static str;

    /// The content of `backend`'s trace file for `case`, `None` when the backend fails while
    /// observed (no file is written for it).
    fn trace(
        &self,
        backend: &mut dyn Backend,
        case: &Case,
        profile: &Profile,
    ) -> Result<Option<Vec<u8>>>;
}

/// Every prover view, in the order they are compared (and their divergences reported).
pub static VIEWS: &[&dyn ProverView] = &[&WitnessView, &RwLogView];

/// A selection of [`VIEWS`]: bit `i` asks for `VIEWS[i]`. A bitset so that it stays `Copy`
/// inside the [`Oracle`](crate::Oracle) that every worker clones.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Views(u32);

const _: () = assert!(VIEWS.len() <= u32::BITS as usize);

impl Views {
    /// Parses a comma-separated list of view names (empty for none).
    pub fn parse(list: &str) -> Result<Views> {
        let mut v = Views::default();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let Some(i) = VIEWS.iter().position(|x| x.name() == name) else {
                let known: Vec<&str> = VIEWS.iter().map(|x| x.name()).collect();
                return Err(OracleError::input(format!(
                    "unknown prover view `{name}` (known: {})",
                    known.join(", ")
                )));
            };
            v.0 |= 1 << i;
        }
        Ok(v)
    }

    /// True when no view is asked for.
    pub fn none(&self) -> bool {
        self.0 == 0
    }

    /// The names, comma-separated (what [`Views::parse`] reads back; empty for none).
    pub fn render(self) -> String {
        self.iter().map(|v| v.name()).collect::<Vec<_>>().join(",")
    }

    /// The views asked for, in [`VIEWS`] order.
    pub fn iter(self) -> impl Iterator<Item = &'static dyn ProverView> {
        VIEWS
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, v)| *v)
    }
}

impl fmt::Debug for Views {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(|v| v.name()))
            .finish()
    }
}

/// The help text of `--prover`: one line per view, from [`VIEWS`].
pub fn help() -> String {
    let mut s = String::from(
        "Prover views to compare too, comma-separated (each costs extra executions; with \
         --trace, each writes a file next to a backend's trace):",
    );
    for v in VIEWS {
        s.push_str(&format!(
            "\n  {}: {} (`.{}`)",
            v.name(),
            v.help(),
            v.trace_extension()
        ));
    }
    s
}

pub(crate) fn divergence(left: &str, right: &str, differences: Vec<Difference>) -> Divergence {
    Divergence {
        left: left.to_string(),
        right: right.to_string(),
        at: None,
        differences,
        step: None,
    }
}

/// Compares the asked-for views of every backend that produced an outcome in `run` and
/// reports its steps, adding a divergence (and its pair of positions) for each view that
/// differs.
pub fn compare_views(
    backends: &mut [Box<dyn Backend>],
    case: &Case,
    profile: &Profile,
    views: Views,
    run: &mut CaseRun,
) {
    // The read/write log is built for one transaction; the witness is per block.
    if views.none() {
        return;
    }
    let observed: Vec<usize> = (0..backends.len())
        .filter(|&i| run.executions[i].result.is_ok() && backends[i].observes_live_steps())
        .collect();
    let mut found = Vec::new();
    for view in views.iter().filter(|v| v.chains() || !case.is_chain()) {
        found.extend(view.compare(backends, case, profile, &observed, run));
    }
    for (pair, d) in found {
        run.pairs.push(pair);
        run.divergences.push(d);
        run.verdict = Verdict::Diverge;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_are_parsed_from_the_table() {
        let both = Views::parse(" rw-log ,witness,").unwrap();
        let names: Vec<&str> = both.iter().map(|v| v.name()).collect();
        assert_eq!(names, ["witness", "rw-log"]);
        assert_eq!(format!("{both:?}"), r#"{"witness", "rw-log"}"#);
        assert!(Views::parse("").unwrap().none());
        let one = Views::parse("rw-log").unwrap();
        assert_eq!(one.iter().map(|v| v.name()).collect::<Vec<_>>(), ["rw-log"]);
        let err = Views::parse("witness,proof").unwrap_err().to_string();
        assert_eq!(err, "unknown prover view `proof` (known: witness, rw-log)");
        let help = help();
        for v in VIEWS {
            assert!(help.contains(&format!("{}: {}", v.name(), v.help())));
        }
    }
}
