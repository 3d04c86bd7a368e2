//! What generated programs actually execute: `evmdiff fuzz --coverage`.
//!
//! A differential campaign only finds bugs in what its programs reach, and a generator can
//! emit an opcode that never runs (its frame halted first, its branch was skipped). So
//! coverage is measured on execution, not on emitted code: the campaign's own cases (case
//! `i` from [`input_bytes`]`(seed, i)`, exactly as the campaign generates them) run on one
//! backend through [`Backend::execute_observed`], and every executed instruction and every
//! precompile call is counted.
//!
//! The report holds, for the profile, every opcode and precompile the profile *allows* with
//! how often it ran, the ones never run, the share of cases that halt exceptionally within
//! their first [`EARLY_STEPS`] top-frame instructions (cases that test almost nothing), and
//! the mix of top-level statuses.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use alloy_primitives::Address;
use anyhow::{Result, bail};
use arbitrary::Unstructured;
use evmdiff_core::observe::{Flow, Observer, Step};
use evmdiff_core::opcode::Opcode;
use evmdiff_core::precompile::PRECOMPILES;
use evmdiff_core::{Backend, BackendError, Behaviour, Case, Profile, Status};
use serde::Serialize;

use evmdiff_generator::input_bytes;

mod features;
pub use features::{Features, Tag};

/// A case whose top frame halts exceptionally within this many executed instructions counts
/// as an early halt.
pub const EARLY_STEPS: u64 = 5;

/// What to measure.
#[derive(Debug, Clone)]
pub struct Options {
    /// The profile the cases are generated and run under.
    pub profile: Profile,
    /// The backend that runs them (one name, e.g. `revm`).
    pub backend: String,
    /// The campaign seed.
    pub seed: u64,
    /// The campaign's gas budget per transaction (`--case-gas`).
    pub gas_budget: Option<u64>,
    /// First case index.
    pub first: u64,
    /// Number of cases.
    pub runs: u64,
    /// Worker threads (the result does not depend on it).
    pub jobs: usize,
}

/// How often one allowed opcode or precompile ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// Mnemonic or precompile name.
    pub name: String,
    /// Opcode byte or precompile address, in hex (`0x5c`, `0x100`).
    pub code: String,
    /// Its behaviour under the profile (`supported`, `constant 0x0`, `halt`...).
    pub behaviour: String,
    /// Executions (steps, or calls for a precompile), at every depth.
    pub executed: u64,
    /// Cases in which it executed at least once.
    pub cases: u64,
    /// The opcode byte, or the precompile's index in the precompile table.
    #[serde(skip)]
    key: usize,
}

/// The coverage of a range of campaign cases on one backend.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Coverage {
    /// Profile name.
    pub profile: String,
    /// The backend that ran the cases, with its version.
    pub backend: String,
    /// Campaign seed.
    pub seed: u64,
    /// First case index.
    pub first_index: u64,
    /// Cases generated and executed (not unsupported, not failed).
    pub cases: u64,
    /// Cases the generator could not build.
    pub generator_errors: u64,
    /// Cases the backend does not support (not counted in `cases`).
    pub unsupported: u64,
    /// Cases the backend failed on (not counted in `cases`).
    pub failures: u64,
    /// Every opcode the profile allows (in the base fork, not `invalid` or `reject`), by byte.
    pub opcodes: Vec<Item>,
    /// Every precompile the profile allows (in the base fork, not `absent`), by address.
    pub precompiles: Vec<Item>,
    /// Executed opcodes the profile does not allow (undefined, not yet active, `invalid`,
    /// `reject`): name -> executions.
    pub other_opcodes: BTreeMap<String, u64>,
    /// Cases whose top-level status is an exceptional halt and whose top frame executed at
    /// most [`EARLY_STEPS`] instructions.
    pub early_halts: u64,
    /// Top-level status -> cases.
    pub statuses: BTreeMap<String, u64>,
    /// Feature tag ([`Tag`]) -> cases that exercised it; a tag no case hit is absent.
    pub features: BTreeMap<String, u64>,
}

impl Coverage {
    /// Allowed opcodes that never executed.
    pub fn missed_opcodes(&self) -> Vec<&Item> {
        self.opcodes.iter().filter(|i| i.executed == 0).collect()
    }

    /// Allowed precompiles that were never called.
    pub fn missed_precompiles(&self) -> Vec<&Item> {
        self.precompiles
            .iter()
            .filter(|i| i.executed == 0)
            .collect()
    }

    /// The share of executed cases that halt early, in percent.
    pub fn early_halt_percent(&self) -> f64 {
        100.0 * self.early_halts as f64 / self.cases.max(1) as f64
    }

    fn add(&mut self, other: &Coverage) {
        self.cases += other.cases;
        self.generator_errors += other.generator_errors;
        self.unsupported += other.unsupported;
        self.failures += other.failures;
        self.early_halts += other.early_halts;
        for (mine, theirs) in self
            .opcodes
            .iter_mut()
            .zip(&other.opcodes)
            .chain(self.precompiles.iter_mut().zip(&other.precompiles))
        {
            mine.executed += theirs.executed;
            mine.cases += theirs.cases;
        }
        for (k, v) in &other.other_opcodes {
            *self.other_opcodes.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.statuses {
            *self.statuses.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.features {
            *self.features.entry(k.clone()).or_default() += v;
        }
    }

    /// Feature tags no case exercised.
    pub fn missed_features(&self) -> Vec<&'static str> {
        Tag::ALL
            .iter()
            .map(|t| t.name())
            .filter(|n| !self.features.contains_key(*n))
            .collect()
    }

    /// The report for people.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let executed = |items: &[Item]| items.iter().filter(|i| i.executed > 0).count();
        let _ = writeln!(
            s,
            "coverage on {} under {}: seed {}, cases {}..{} ({} executed, {} unsupported, {} failed, {} not generated)",
            self.backend,
            self.profile,
            self.seed,
            self.first_index,
            self.first_index
                + self.cases
                + self.unsupported
                + self.failures
                + self.generator_errors,
            self.cases,
            self.unsupported,
            self.failures,
            self.generator_errors,
        );
        let _ = writeln!(
            s,
            "  opcodes executed      {}/{} allowed",
            executed(&self.opcodes),
            self.opcodes.len()
        );
        let _ = writeln!(
            s,
            "  precompiles called    {}/{} allowed",
            executed(&self.precompiles),
            self.precompiles.len()
        );
        let names = |items: Vec<&Item>| {
            if items.is_empty() {
                "none".to_string()
            } else {
                items
                    .iter()
                    .map(|i| i.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        };
        let _ = writeln!(
            s,
            "  never executed        {}",
            names(self.missed_opcodes())
        );
        let _ = writeln!(
            s,
            "  never called          {}",
            names(self.missed_precompiles())
        );
        let _ = writeln!(
            s,
            "  early halts           {:.2}% ({} cases halt within their first {EARLY_STEPS} top-frame instructions)",
            self.early_halt_percent(),
            self.early_halts
        );
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(s, "  statuses              {}", statuses.join(", "));
        let _ = writeln!(s, "  opcode executions (cases):");
        for row in self.opcodes.chunks(4) {
            let cells: Vec<String> = row
                .iter()
                .map(|i| format!("{:<14}{:>9} ({:>5})", i.name, i.executed, i.cases))
                .collect();
            let _ = writeln!(s, "    {}", cells.join("  "));
        }
        let _ = writeln!(s, "  precompile calls (cases):");
        for i in &self.precompiles {
            let _ = writeln!(
                s,
                "    {:<6}{:<20}{:<16}{:>9} ({:>5})",
                i.code, i.name, i.behaviour, i.executed, i.cases
            );
        }
        let _ = writeln!(
            s,
            "  feature tags          {}/{} exercised; never: {}",
            Tag::ALL.len() - self.missed_features().len(),
            Tag::ALL.len(),
            if self.missed_features().is_empty() {
                "none".to_string()
            } else {
                self.missed_features().join(" ")
            }
        );
        let _ = writeln!(s, "  feature tags (cases):");
        let tagged: Vec<(&str, u64)> = Tag::ALL
            .iter()
            .map(|t| (t.name(), self.features.get(t.name()).copied().unwrap_or(0)))
            .collect();
        for row in tagged.chunks(3) {
            let cells: Vec<String> = row.iter().map(|(n, c)| format!("{n:<30}{c:>7}")).collect();
            let _ = writeln!(s, "    {}", cells.join("  "));
        }
        if !self.other_opcodes.is_empty() {
            let other: Vec<String> = self
                .other_opcodes
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            let _ = writeln!(s, "  executed, not allowed {}", other.join(", "));
        }
        s
    }
}

/// The opcodes a profile lets programs execute: those of its base fork that it does not make
/// invalid or rejected.
pub fn allowed_opcodes(profile: &Profile) -> Vec<u8> {
    (0..=255u8)
        .filter(|&b| Opcode(b).exists_in(profile.base_fork))
        .filter(|&b| !matches!(profile.opcode(b), Behaviour::Invalid | Behaviour::Reject))
        .collect()
}

/// Which opcodes an execution ran, and nothing else: the cheapest observer, for the sampled
/// coverage of a campaign's progress line.
#[derive(Debug, Clone)]
pub struct OpcodesRun(pub [bool; 256]);

impl Default for OpcodesRun {
    fn default() -> Self {
        OpcodesRun([false; 256])
    }
}

impl Observer for OpcodesRun {
    fn step(&mut self, step: &Step<'_>) -> Flow {
        self.0[step.opcode as usize] = true;
        Flow::Continue(())
    }
}

/// The opcodes `case` executes on `backend` (`None` if the backend panicked): the sampled
/// coverage of a campaign, also timed by `evmdiff bench --generated`.
pub fn opcodes_run(
    backend: &mut dyn Backend,
    case: &Case,
    profile: &Profile,
) -> Option<[bool; 256]> {
    let mut seen = OpcodesRun::default();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        backend.execute_observed(case, profile, &mut seen)
    }))
    .ok()
    .map(|_| seen.0)
}

/// The allowed opcodes and precompiles of `profile`, each with nothing executed yet.
fn empty(profile: &Profile) -> Coverage {
    let opcodes = allowed_opcodes(profile)
        .into_iter()
        .map(|b| Item {
            name: Opcode(b).to_string(),
            code: format!("{b:#04x}"),
            behaviour: profile.opcode(b).to_string(),
            executed: 0,
            cases: 0,
            key: b as usize,
        })
        .collect();
    let precompiles = PRECOMPILES
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            // An added precompile counts too (P256VERIFY at 0x100 on a Shanghai base), under
            // its implementation's name.
            let b = match profile.added_precompile(&p.address) {
                Some(added) => format!("{} ({} gas)", added.implementation, added.gas),
                None => match profile.precompile(&p.address)? {
                    Behaviour::Absent => return None,
                    b => b.to_string(),
                },
            };
            Some((i, p, b))
        })
        .map(|(i, p, b)| Item {
            name: p.name.to_string(),
            code: format!(
                "0x{:02x}",
                u16::from_be_bytes([p.address[18], p.address[19]])
            ),
            behaviour: b,
            executed: 0,
            cases: 0,
            key: i,
        })
        .collect();
    Coverage {
        profile: profile.name.clone(),
        opcodes,
        precompiles,
        ..Default::default()
    }
}

/// Counts of one case.
struct CaseCounts {
    opcodes: [u64; 256],
    /// Calls per precompile, in `Precompile::PRECOMPILES` order.
    precompiles: Vec<u64>,
    top_frame_steps: u64,
    /// The case's feature tags.
    features: Features,
}

impl CaseCounts {
    fn new() -> Self {
        CaseCounts {
            opcodes: [0; 256],
            precompiles: vec![0; PRECOMPILES.len()],
            top_frame_steps: 0,
            features: Features::default(),
        }
    }

    fn clear(&mut self) {
        self.opcodes = [0; 256];
        self.precompiles.fill(0);
        self.top_frame_steps = 0;
        self.features.clear();
    }
}

impl Observer for CaseCounts {
    /// The stacks decide the feature tags.
    fn wants_state(&self) -> bool {
        true
    }

    fn transaction(&mut self, _: evmdiff_core::case::At) {
        self.features.transaction();
    }

    fn step(&mut self, step: &Step<'_>) -> Flow {
        self.opcodes[step.opcode as usize] += 1;
        self.top_frame_steps += (step.depth == 1) as u64;
        self.features.step(step);
        Flow::Continue(())
    }

    fn precompile(&mut self, address: Address) {
        self.features.precompile();
        if let Some(i) = PRECOMPILES.iter().position(|p| p.address == address) {
            self.precompiles[i] += 1;
        }
    }
}

/// Folds one executed case into `cov`.
fn record(cov: &mut Coverage, counts: &CaseCounts, status: Status) {
    cov.cases += 1;
    *cov.statuses.entry(status.to_string()).or_default() += 1;
    if matches!(status, Status::Halt(_)) && counts.top_frame_steps <= EARLY_STEPS {
        cov.early_halts += 1;
    }
    let mut allowed = [false; 256];
    for item in &mut cov.opcodes {
        allowed[item.key] = true;
        let n = counts.opcodes[item.key];
        item.executed += n;
        item.cases += (n > 0) as u64;
    }
    for (b, &n) in counts.opcodes.iter().enumerate() {
        if n > 0 && !allowed[b] {
            *cov.other_opcodes
                .entry(Opcode(b as u8).to_string())
                .or_default() += n;
        }
    }
    for item in &mut cov.precompiles {
        let n = counts.precompiles[item.key];
        item.executed += n;
        item.cases += (n > 0) as u64;
    }
    for tag in counts.features.tags() {
        *cov.features.entry(tag.name().to_string()).or_default() += 1;
    }
}

/// Generates and runs cases `first..first + runs` of the campaign seeded `seed`, observed on
/// `backend`, and counts what they execute.
pub fn measure(options: &Options) -> Result<Coverage> {
    let name = options.backend.trim();
    let Some(probe) = evmdiff_adapters::backend(name) else {
        bail!(
            "unknown backend `{name}` (available: {})",
            evmdiff_adapters::in_process_names().join(", ")
        );
    };
    let mut total = empty(&options.profile);
    total.backend = format!("{} {}", probe.name(), probe.version());
    total.seed = options.seed;
    total.first_index = options.first;
    let end = options.first + options.runs;
    let next = AtomicU64::new(options.first);
    let merged = Mutex::new(total);
    std::thread::scope(|s| {
        for _ in 0..options.jobs.max(1) {
            s.spawn(|| {
                let mut backend = evmdiff_adapters::backend(name).expect("checked above");
                let mut cov = empty(&options.profile);
                let mut counts = CaseCounts::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= end {
                        break;
                    }
                    run_one(backend.as_mut(), options, i, &mut cov, &mut counts);
                }
                merged.lock().expect("coverage lock").add(&cov);
            });
        }
    });
    Ok(merged.into_inner().expect("coverage lock"))
}

fn run_one(
    backend: &mut dyn Backend,
    options: &Options,
    index: u64,
    cov: &mut Coverage,
    counts: &mut CaseCounts,
) {
    let input = input_bytes(options.seed, index);
    let Ok(generated) = evmdiff_generator::generate_within(
        &mut Unstructured::new(&input),
        &options.profile,
        options.gas_budget,
    ) else {
        cov.generator_errors += 1;
        return;
    };
    counts.clear();
    // A panicking backend is a finding of the campaign; here it is one failed case.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        backend.execute_observed(&generated.case, &options.profile, counts)
    }));
    match result {
        Ok(Ok(outcome)) => match outcome.last_tx() {
            Some(o) => record(cov, counts, o.status),
            None => cov.failures += 1,
        },
        Ok(Err(
            BackendError::Unsupported(_) | BackendError::NotSampled | BackendError::SitsOut(_),
        )) => cov.unsupported += 1,
        Ok(Err(BackendError::Failed(_) | BackendError::Timeout(_))) | Err(_) => cov.failures += 1,
    }
}
