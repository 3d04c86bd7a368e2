//! The hang watchdog: a worker that has been on one case longer than the hang budget is inside
//! a backend that will not return. Its thread cannot be killed in process, so the watchdog
//! keeps the case as a `hang` finding, marks the worker abandoned (it records nothing if it
//! ever returns) and lets the campaign start a fresh worker in its place.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use evmdiff_oracle::Origin;
use evmdiff_oracle::finding::{Finding, Provenance};
use evmdiff_triage::Identity;

use super::Shared;

/// `Slot::index` and `Slot::started` of a worker between cases.
pub(super) const IDLE: u64 = u64::MAX;

/// What one worker is doing, as the checkpoint and the watchdog see it.
pub(super) struct Slot {
    /// The case index it is running (`IDLE` between cases), for the checkpoint.
    pub index: AtomicU64,
    /// When it started executing that case, in milliseconds since the campaign started
    /// (`IDLE` when not executing), for the watchdog.
    pub started: AtomicU64,
    /// Its worker was given up on (hung, or still running when the campaign ended): it
    /// records nothing more if it ever returns.
    pub abandoned: AtomicBool,
    /// It is making its case, sealing a chain on revm: a hang there is revm's, and the case
    /// is kept as generated, since sealing it again would hang the watchdog.
    pub sealing: AtomicBool,
}

impl Slot {
    pub(super) fn new() -> Slot {
        Slot {
            index: AtomicU64::new(IDLE),
            started: AtomicU64::new(IDLE),
            abandoned: AtomicBool::new(false),
            sealing: AtomicBool::new(false),
        }
    }
}

/// Abandons every worker whose case has run longer than the hang budget, writing the case as
/// a `hang` finding first; returns the abandoned slots.
pub(super) fn watch(shared: &Shared) -> Vec<usize> {
    let cfg = &shared.config;
    let budget = cfg.hang_budget.as_millis() as u64;
    let now = shared.now_ms();
    let mut hung = Vec::new();
    for (w, slot) in shared.slots.iter().enumerate() {
        let started = slot.started.load(Ordering::SeqCst);
        if started == IDLE || now.saturating_sub(started) <= budget {
            continue;
        }
        if slot.abandoned.swap(true, Ordering::SeqCst) {
            continue;
        }
        let index = slot.index.load(Ordering::SeqCst);
        let sealing = slot.sealing.load(Ordering::SeqCst);
        let (profile, seed, gas) = (&cfg.oracle.profile, cfg.seed, cfg.gas_budget);
        let made = if sealing {
            evmdiff_generator::campaign_case_within(profile, seed, index, gas)
        } else {
            evmdiff_oracle::seal::campaign_case_within(profile, seed, index, gas)
        };
        if let Some((input, case)) = made {
            let origin = Origin {
                seed: cfg.seed,
                index,
                input: &input,
                gas_budget: cfg.gas_budget,
            };
            let provenance =
                Provenance::new(&cfg.oracle.profile, shared.names.clone(), Some(origin));
            let finding = Finding {
                identity: Identity::hang(&cfg.backends, &cfg.oracle.profile.name),
                case: &case,
                reference: None,
                reference_side: None,
                provenance,
                divergences: Vec::new(),
                detail: if sealing {
                    format!(
                        "revm had not finished sealing the chain after {:?} (the case is kept \
                         as generated, unsealed); the worker was abandoned",
                        cfg.hang_budget
                    )
                } else {
                    format!(
                        "backends {} had not finished after {:?}; the worker was abandoned",
                        cfg.backends, cfg.hang_budget
                    )
                },
            };
            shared.keep(&finding, index);
        }
        {
            let mut st = shared.stats.lock().expect("stats lock");
            st.hangs += 1;
            st.cases += 1;
        }
        // The case is kept as a finding, so the checkpoint may move past it.
        slot.index.store(IDLE, Ordering::SeqCst);
        shared.mark_inflight(w, IDLE);
        slot.started.store(IDLE, Ordering::SeqCst);
        hung.push(w);
    }
    hung
}
