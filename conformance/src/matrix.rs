//! The conformance matrix of a profile: every opcode and precompile it names, against every
//! backend, each probed in six contexts ([`Context`]) and judged against what the profile says
//! (behaves / differs, with the case / sits out). The table a prover team hands its auditors,
//! which EIP-7530 implies and nobody publishes.
//!
//! - [`rule`]: the rows, from the profile;
//! - [`probe`]: the targeted case of a row in a context, which records what it saw;
//! - [`judge`]: whether a backend's outcome is what the rule's behaviour implies.

pub mod judge;
pub mod probe;
pub mod rule;

use std::collections::BTreeMap;

use evmdiff_core::{Backend, Case, Outcome, Profile};

pub use judge::judge;
pub use probe::{Context, Probe, probe};
pub use rule::{Item, Rule, Says, Unprobed, rules};

use crate::scenario::Verdict;

/// A backend's column.
#[derive(Debug, Clone)]
pub struct Column {
    /// The backend's name.
    pub name: String,
    /// Its version, as it reports it.
    pub version: String,
    /// Why it cannot run this profile at all, if it cannot.
    pub sits_out: Option<String>,
}

/// One row: a rule and a cell per backend.
#[derive(Debug, Clone)]
pub struct Row {
    /// The rule.
    pub rule: Rule,
    /// One cell per column, in column order.
    pub cells: Vec<Cell>,
    /// Per context, the first backend whose outcome is as the profile says, and that
    /// outcome: the expectation a differing backend's case file carries.
    pub expected: BTreeMap<Context, (String, Outcome)>,
}

/// What a backend did with one rule: a verdict per context.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    /// Each context's verdict, in [`Context::ALL`] order.
    pub verdicts: Vec<(Context, Verdict)>,
    /// The probes it failed, to write out and replay.
    pub failed: Vec<(Context, Case)>,
}

/// A cell's summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Every context it ran is as the profile says (at least one ran).
    Behaves,
    /// At least one context is not.
    Differs,
    /// It ran none.
    SitsOut,
}

impl State {
    /// The words a reader sees.
    pub fn name(self) -> &'static str {
        match self {
            State::Behaves => "behaves",
            State::Differs => "differs",
            State::SitsOut => "sits out",
        }
    }
}

impl Cell {
    /// The summary.
    pub fn state(&self) -> State {
        if self
            .verdicts
            .iter()
            .any(|(_, v)| matches!(v, Verdict::Fail(_)))
        {
            State::Differs
        } else if self.verdicts.iter().any(|(_, v)| *v == Verdict::Pass) {
            State::Behaves
        } else {
            State::SitsOut
        }
    }

    /// The contexts with this kind of verdict.
    pub fn contexts(&self, pass: bool) -> Vec<Context> {
        self.verdicts
            .iter()
            .filter(|(_, v)| match v {
                Verdict::Pass => pass,
                Verdict::Fail(_) => !pass,
                Verdict::Unsupported(_) => false,
            })
            .map(|(c, _)| *c)
            .collect()
    }
}

/// A whole matrix.
#[derive(Debug, Clone)]
pub struct Matrix {
    /// The profile.
    pub profile: Profile,
    /// The backends, in the order given.
    pub columns: Vec<Column>,
    /// The rows, in [`rules`] order.
    pub rows: Vec<Row>,
    /// Rules listed without a probe, with why.
    pub unprobed: Vec<Unprobed>,
}

impl Matrix {
    /// Cells that differ.
    pub fn differing(&self) -> usize {
        self.rows
            .iter()
            .flat_map(|r| &r.cells)
            .filter(|c| c.state() == State::Differs)
            .count()
    }
}

/// Probes every rule of `profile` in every context on each backend; `progress` hears each
/// backend's name and how many probes it ran once it is done.
pub fn run(
    profile: &Profile,
    backends: &mut [Box<dyn Backend>],
    mut progress: impl FnMut(&str, usize),
) -> Matrix {
    let (rules, unprobed) = rules(profile);
    let probes: Vec<Vec<Probe>> = rules
        .iter()
        .map(|r| Context::ALL.iter().map(|c| probe(profile, r, *c)).collect())
        .collect();
    let mut rows: Vec<Row> = rules
        .into_iter()
        .map(|rule| Row {
            rule,
            cells: Vec::new(),
            expected: BTreeMap::new(),
        })
        .collect();
    let mut columns = Vec::new();
    for backend in backends.iter_mut() {
        let sits_out = backend.capabilities().sits_out(profile);
        let mut ran = 0;
        for (row, probes) in rows.iter_mut().zip(&probes) {
            let mut cell = Cell::default();
            for p in probes {
                let verdict = match &sits_out {
                    Some(why) => Verdict::Unsupported(why.clone()),
                    None => {
                        ran += 1;
                        let (verdict, outcome) = judge(backend.as_mut(), profile, &row.rule, p);
                        if let Some(o) = outcome {
                            row.expected
                                .entry(p.context)
                                .or_insert_with(|| (backend.name().to_string(), o));
                        }
                        verdict
                    }
                };
                if matches!(verdict, Verdict::Fail(_)) {
                    cell.failed.push((p.context, p.case.clone()));
                }
                cell.verdicts.push((p.context, verdict));
            }
            row.cells.push(cell);
        }
        progress(backend.name(), ran);
        columns.push(Column {
            name: backend.name().to_string(),
            version: backend.version().to_string(),
            sits_out,
        });
    }
    Matrix {
        profile: profile.clone(),
        columns,
        rows,
        unprobed,
    }
}
