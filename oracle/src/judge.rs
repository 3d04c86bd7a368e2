//! Judging one run: which of its divergences are allowed, which are findings, and the one
//! identity each finding has ([`Identity`]), whatever its kind.

use evmdiff_core::{BackendError, Case, ChainOutcome};
use evmdiff_triage::signature::signature;
use evmdiff_triage::{Identity, Signature};

use crate::execute::{CaseRun, Execution};
use crate::finding::{Finding, Provenance, backend_names};
use crate::oracle::{Oracle, Origin};

/// What one case produced: the findings it would write (before deduplication) and its
/// signatures, for the statistics.
#[derive(Debug)]
pub struct Judgement<'a> {
    /// Candidate findings: divergences not allowlisted, crashes, hangs, a slow case.
    pub findings: Vec<Finding<'a>>,
    /// Every divergence's signature, allowed or not, with the allowlist's reason when allowed.
    pub signatures: Vec<(Signature, Option<String>)>,
    /// A backend crashed.
    pub crashed: bool,
    /// A backend gave no answer in time (a worker over its timeout).
    pub hung: bool,
    /// A backend did not support the case.
    pub unsupported: bool,
    /// The case was over the time budget.
    pub slow: bool,
    /// There were divergences and every one is allowlisted.
    pub all_allowed: bool,
}

impl Oracle {
    /// Classifies `run` of `case` into findings. A backend error is a crash (or a hang, when a
    /// worker gave no answer in time: then the case is one finding, not also a slow one); each
    /// divergence not on the allowlist is a finding identified by its signature; a case over
    /// the budget is a slow finding named after its slowest backend.
    pub fn judge<'a>(
        &self,
        case: &'a Case,
        run: &'a CaseRun,
        origin: Option<Origin<'_>>,
    ) -> Judgement<'a> {
        let profile = &self.profile.name;
        let reference = expectation_source(run);
        let reference_side = run.reference.as_ref().map(|r| r.to_string());
        // Built for a finding only: most cases have none, and the provenance renders the
        // profile's TOML.
        let provenance = || {
            let mut p = Provenance::new(&self.profile, backend_names(run), origin);
            p.prover = self.views.render();
            p
        };
        let finding = |identity, divergences, detail| Finding {
            identity,
            case,
            reference,
            reference_side: reference_side.clone(),
            provenance: provenance(),
            divergences,
            detail,
        };
        let mut j = Judgement {
            findings: Vec::new(),
            signatures: Vec::new(),
            crashed: false,
            hung: false,
            unsupported: false,
            slow: false,
            all_allowed: !run.divergences.is_empty(),
        };
        for e in &run.executions {
            match &e.result {
                Err(BackendError::Failed(msg)) => {
                    j.crashed = true;
                    let id = Identity::crash(e.backend, profile, msg);
                    j.findings.push(finding(id, Vec::new(), msg.clone()));
                }
                Err(BackendError::Timeout(msg)) => {
                    j.hung = true;
                    let id = Identity::hang(e.backend, profile);
                    j.findings.push(finding(id, Vec::new(), msg.clone()));
                }
                Err(BackendError::Unsupported(_)) => j.unsupported = true,
                Err(BackendError::NotSampled | BackendError::SitsOut(_)) | Ok(_) => {}
            }
        }
        for d in &run.divergences {
            let sig = signature(d, profile);
            let reason = self.allow.reason(&sig).map(str::to_string);
            if reason.is_none() {
                j.all_allowed = false;
                j.findings.push(finding(
                    Identity::divergence(&sig),
                    vec![d.clone()],
                    String::new(),
                ));
            }
            j.signatures.push((sig, reason));
        }
        j.slow = !j.hung && run.took > self.case_budget;
        if j.slow {
            let slowest = run
                .executions
                .iter()
                .max_by_key(|e| e.took)
                .map_or("", |e| e.backend);
            j.findings.push(finding(
                Identity::slow(slowest, profile),
                Vec::new(),
                format!(
                    "took {:?} (budget {:?}); per backend: {}",
                    run.took,
                    self.case_budget,
                    per_backend_times(&run.executions)
                ),
            ));
        }
        j
    }
}

fn per_backend_times(executions: &[Execution]) -> String {
    executions
        .iter()
        .map(|e| format!("{} {:?}", e.backend, e.took))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The outcome a finding's `post` expectation is written from: the execution spec's when it
/// ran, else the first backend's that observed everything (a state-test runner has no logs
/// hash to write).
pub fn expectation_source(run: &CaseRun) -> Option<&ChainOutcome> {
    let full = |e: &&Execution| {
        e.result
            .as_ref()
            .is_ok_and(|o| o.last_tx().is_some_and(|t| t.scope.is_full()))
    };
    let preferred = run.reference.as_ref().and_then(|r| {
        run.executions
            .iter()
            .filter(full)
            .find(|e| e.backend == r.reference)
    });
    preferred
        .or_else(|| run.executions.iter().find(full))
        .and_then(|e| e.result.as_ref().ok())
}
