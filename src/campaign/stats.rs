//! A campaign's counters: what the progress line, the summary, `--stats-json` and the CI gate
//! read.

use std::collections::BTreeMap;

use evmdiff_oracle::Judgement;
use evmdiff_oracle::execute::CaseRun;
use serde::{Deserialize, Serialize};

/// Counters of a campaign, also written with `--stats-json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Stats {
    /// Cases run.
    pub cases: u64,
    /// Cases on which some backends diverged (allowed ones included).
    pub divergent_cases: u64,
    /// Divergent cases whose every divergence is allowlisted.
    pub allowed_cases: u64,
    /// Divergent cases with a divergence not on the allowlist: what the CI gate fails on,
    /// whether or not its finding file is new.
    pub new_divergent_cases: u64,
    /// Cases that crashed a backend.
    pub crashes: u64,
    /// Cases over the time budget.
    pub slow: u64,
    /// Cases a backend had not finished after the hang budget, or a worker its timeout.
    pub hangs: u64,
    /// Opcodes the profile allows that sampled cases executed (see
    /// [`COVERAGE_SAMPLE`](super::COVERAGE_SAMPLE)).
    pub opcodes_executed: usize,
    /// Opcodes the profile allows.
    pub opcodes_allowed: usize,
    /// Cases at least one backend did not support.
    pub unsupported: u64,
    /// Cases that were not generated (the generator ran out of input).
    pub generator_errors: u64,
    /// Findings written in this run (new files).
    pub findings_written: u64,
    /// Top-level status of the reference backend's outcome, by status.
    pub statuses: BTreeMap<String, u64>,
    /// Cases that were chains (blocks of transactions), and their transactions.
    pub chains: u64,
    /// The transactions of those chains.
    pub chain_transactions: u64,
    /// Occurrences per signature (`id: rendered`).
    pub signatures: BTreeMap<String, u64>,
    /// The allowlisted signatures seen (`id: rendered`), with the reason they are known.
    pub known: BTreeMap<String, String>,
    /// Cases each backend produced an outcome for (sampled backends run on fewer).
    pub outcomes: BTreeMap<String, u64>,
    /// The first reason each backend gave for a case it did not run (`unsupported`), to say
    /// why a backend that produced no outcome did nothing.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unsupported_reasons: BTreeMap<String, String>,
    /// The selected backends that sit this campaign out, with the reason (said before the
    /// first case).
    pub sitting_out: BTreeMap<String, String>,
    /// Divergent cases by the side the execution spec took (`reference eels agrees with
    /// revm; disagrees with evm`), when it ran.
    pub reference_sides: BTreeMap<String, u64>,
    /// Seconds elapsed.
    pub seconds: f64,
    /// Seconds before every worker was ready for its first case (its backends built and
    /// prepared: revm loads c-kzg's trusted setup with its precomputed tables, about 3 s):
    /// a fixed cost inside `seconds` that a short campaign's rate carries and a long one's
    /// does not.
    #[serde(default)]
    pub setup_seconds: f64,
    /// Cases per second.
    pub cases_per_second: f64,
    /// First case index of this run (after resuming: the cases before it ran earlier).
    pub first_index: u64,
    /// The run was stopped (Ctrl-C, or its time was up while cases were still running):
    /// the checkpoint holds where to resume.
    pub interrupted: bool,
}

impl Stats {
    /// Adds the counts of `other`, a campaign over other cases of the same seed (another
    /// shard, or an earlier run of one): sums and unions; the rate is recomputed over the
    /// longer of the two durations, which ran side by side.
    pub fn merge(&mut self, other: &Stats) {
        fn add<K: Ord + Clone>(a: &mut BTreeMap<K, u64>, b: &BTreeMap<K, u64>) {
            for (k, v) in b {
                *a.entry(k.clone()).or_default() += v;
            }
        }
        fn union<K: Ord + Clone, V: Clone>(a: &mut BTreeMap<K, V>, b: &BTreeMap<K, V>) {
            for (k, v) in b {
                a.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        self.cases += other.cases;
        self.divergent_cases += other.divergent_cases;
        self.allowed_cases += other.allowed_cases;
        self.new_divergent_cases += other.new_divergent_cases;
        self.crashes += other.crashes;
        self.slow += other.slow;
        self.hangs += other.hangs;
        // Opcodes are counted per campaign, not listed: the larger count is a lower bound.
        self.opcodes_executed = self.opcodes_executed.max(other.opcodes_executed);
        self.opcodes_allowed = self.opcodes_allowed.max(other.opcodes_allowed);
        self.unsupported += other.unsupported;
        self.generator_errors += other.generator_errors;
        self.findings_written += other.findings_written;
        add(&mut self.statuses, &other.statuses);
        self.chains += other.chains;
        self.chain_transactions += other.chain_transactions;
        add(&mut self.signatures, &other.signatures);
        union(&mut self.known, &other.known);
        add(&mut self.outcomes, &other.outcomes);
        union(&mut self.unsupported_reasons, &other.unsupported_reasons);
        union(&mut self.sitting_out, &other.sitting_out);
        add(&mut self.reference_sides, &other.reference_sides);
        self.first_index += other.first_index;
        self.interrupted |= other.interrupted;
        self.setup_seconds = self.setup_seconds.max(other.setup_seconds);
    }

    /// Adds one judged case.
    pub fn record(&mut self, case: &evmdiff_core::Case, run: &CaseRun, j: &Judgement<'_>) {
        self.cases += 1;
        if case.is_chain() {
            self.chains += 1;
            self.chain_transactions += case.tx_count() as u64;
        }
        self.crashes += j.crashed as u64;
        self.hangs += j.hung as u64;
        self.unsupported += j.unsupported as u64;
        self.slow += j.slow as u64;
        if !run.divergences.is_empty() {
            self.divergent_cases += 1;
            self.allowed_cases += j.all_allowed as u64;
            self.new_divergent_cases += !j.all_allowed as u64;
        }
        if let Some(o) = run
            .executions
            .iter()
            .find_map(|e| e.result.as_ref().ok())
            .and_then(|o| o.last_tx())
        {
            *self.statuses.entry(o.status.to_string()).or_default() += 1;
        }
        for e in &run.executions {
            match &e.result {
                Ok(_) => *self.outcomes.entry(e.backend.to_string()).or_default() += 1,
                Err(evmdiff_core::BackendError::Unsupported(why)) => {
                    self.unsupported_reasons
                        .entry(e.backend.to_string())
                        .or_insert_with(|| why.lines().next().unwrap_or_default().to_string());
                }
                Err(_) => {}
            }
        }
        if let Some(r) = &run.reference {
            *self.reference_sides.entry(r.to_string()).or_default() += 1;
        }
        for (sig, reason) in &j.signatures {
            let key = format!("{}: {sig}", sig.id());
            if let Some(reason) = reason {
                self.known.insert(key.clone(), reason.clone());
            }
            *self.signatures.entry(key).or_default() += 1;
        }
    }

    /// The selected backends (with their sampling rates) that did nothing without a word: no
    /// outcome on any case, no sitting out said first, and only `unsupported` answers (a
    /// backend whose every case crashed or hung did something: those are findings). Such a
    /// run fails, gate or not, with what each answered.
    pub fn silent(&self, backends: &[(String, f64)]) -> Vec<String> {
        if self.cases == 0 {
            return Vec::new();
        }
        backends
            .iter()
            .filter(|(b, rate)| {
                *rate * self.cases as f64 >= 5.0
                    && !self.outcomes.contains_key(b)
                    && !self.sitting_out.contains_key(b)
            })
            .filter_map(|(b, _)| {
                self.unsupported_reasons.get(b).map(|r| {
                    format!("backend {b} produced no outcome on any case (it answered: {r})")
                })
            })
            .collect()
    }

    /// Why a CI gate (`--fail-on-findings`) fails this campaign, if it does: a divergent case
    /// not on the allowlist, a crash, a hang or a slow case (new file or not), or a selected
    /// backend that produced no outcome at all without having said it sits out. `backends`
    /// holds each selected backend with its sampling rate: one sampled so rarely that it may
    /// fairly have missed every case (fewer than 5 expected) is not held to it.
    pub fn gate_failures(&self, backends: &[(String, f64)]) -> Vec<String> {
        let mut why = Vec::new();
        let mut count = |n: u64, what: &str| {
            if n > 0 {
                why.push(format!("{n} {what}"));
            }
        };
        count(
            self.new_divergent_cases,
            "divergent cases not on the allowlist",
        );
        count(self.crashes, "crashes");
        count(self.hangs, "hangs");
        count(self.slow, "slow cases");
        if self.cases > 0 {
            for (b, rate) in backends {
                let expected = *rate * self.cases as f64;
                if expected >= 5.0
                    && !self.outcomes.contains_key(b)
                    && !self.sitting_out.contains_key(b)
                {
                    let reason = self
                        .unsupported_reasons
                        .get(b)
                        .map_or(String::new(), |r| format!(" (it answered: {r})"));
                    why.push(format!(
                        "backend {b} produced no outcome on any case{reason}"
                    ));
                }
            }
        }
        why
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_fails_on_a_silent_backend_unless_it_sat_out_or_was_rarely_sampled() {
        let mut s = Stats {
            cases: 1000,
            ..Stats::default()
        };
        s.outcomes.insert("revm".into(), 1000);
        let selected = |rate: f64| vec![("revm".to_string(), 1.0), ("evm".to_string(), rate)];
        assert_eq!(
            s.gate_failures(&selected(1.0)),
            vec!["backend evm produced no outcome on any case".to_string()]
        );
        assert!(
            s.gate_failures(&selected(0.001)).is_empty(),
            "1 case expected"
        );
        s.sitting_out.insert("evm".into(), "no Osaka".into());
        assert!(s.gate_failures(&selected(1.0)).is_empty());
        s.hangs = 1;
        assert_eq!(s.gate_failures(&selected(1.0)), vec!["1 hangs".to_string()]);
    }
}
