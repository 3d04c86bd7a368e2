//! One campaign worker: its own backend instances, taking case indices from the shared
//! counter, running each case through the oracle and recording what it judged.

use std::sync::atomic::Ordering;
use std::time::Instant;

use evmdiff_core::{Backend, Case};
use evmdiff_oracle::Origin;
use evmdiff_oracle::finding::Finding;
use evmdiff_oracle::shrink::{CAMPAIGN_BUDGET, CAMPAIGN_TIME, shrink, write_minimized};
use evmdiff_triage::Kind;

use super::watchdog::IDLE;
use super::{COVERAGE_SAMPLE, Shared};

/// The worker in slot `w`: runs cases until the campaign stops, its cases run out or its
/// deadline passes.
pub(super) fn work(shared: &Shared, w: usize) {
    let Ok(mut backends) = (shared.config.instantiate)(&shared.config.backends) else {
        return;
    };
    let cfg = &shared.config;
    let slot = &shared.slots[w];
    for b in &mut backends {
        b.prepare(&cfg.oracle.profile);
    }
    // The campaign's setup ends when its first workers are ready; one started later in place
    // of a hung worker is not part of it.
    if w < cfg.jobs.max(1) {
        shared.ready_ms.fetch_max(shared.now_ms(), Ordering::SeqCst);
    }
    loop {
        if shared.stop.load(Ordering::Relaxed)
            || shared.deadline.is_some_and(|d| Instant::now() >= d)
        {
            break;
        }
        let position = shared.next.fetch_add(1, Ordering::SeqCst);
        if shared.end_index.is_some_and(|e| position >= e) {
            break;
        }
        let i = cfg.shard.case(position);
        slot.index.store(i, Ordering::SeqCst);
        shared.mark_inflight(w, i);
        // Sealing a chain executes it on revm: watched as the case's run is.
        slot.sealing.store(true, Ordering::SeqCst);
        slot.started.store(shared.now_ms(), Ordering::SeqCst);
        // A chain comes with revm's execution while sealing it, which the oracle takes.
        let made = (cfg.make_case)(&cfg.oracle.profile, cfg.seed, i, cfg.gas_budget);
        if slot.abandoned.load(Ordering::SeqCst) {
            return;
        }
        slot.sealing.store(false, Ordering::SeqCst);
        let Some((input, case, sealed)) = made else {
            slot.started.store(IDLE, Ordering::SeqCst);
            shared.stats.lock().expect("stats lock").generator_errors += 1;
            continue;
        };
        let origin = Origin {
            seed: cfg.seed,
            index: i,
            input: &input,
            gas_budget: cfg.gas_budget,
        };
        let run = cfg
            .oracle
            .run_sealed(&mut backends, &case, Some(origin), sealed);
        if slot.abandoned.load(Ordering::SeqCst) {
            // The watchdog gave up on this case (and kept it as a hang finding), or the
            // campaign ended without waiting for it.
            return;
        }
        slot.started.store(IDLE, Ordering::SeqCst);
        if i.is_multiple_of(COVERAGE_SAMPLE)
            && let Some(b) = backends.iter_mut().find(|b| b.observes_live_steps())
        {
            sample_coverage(shared, b.as_mut(), &case);
        }
        let j = cfg.oracle.judge(&case, &run, Some(origin));
        for f in &j.findings {
            // Minimizing runs the case thousands of times: only for a file just written.
            if shared.keep(f, i) && f.identity.kind == Kind::Divergence {
                minimize(shared, &mut backends, f);
            }
        }
        shared
            .stats
            .lock()
            .expect("stats lock")
            .record(&case, &run, &j);
        slot.index.store(IDLE, Ordering::SeqCst);
        shared.mark_inflight(w, IDLE);
    }
    slot.index.store(IDLE, Ordering::SeqCst);
}

/// Runs `case` observed on `backend` and adds the opcodes it executed to the campaign's.
fn sample_coverage(shared: &Shared, backend: &mut dyn Backend, case: &Case) {
    if let Some(seen) = crate::coverage::opcodes_run(backend, case, &shared.config.oracle.profile) {
        let mut executed = shared.executed.lock().expect("coverage lock");
        for (e, s) in executed.iter_mut().zip(seen) {
            *e |= s;
        }
    }
}

/// Minimizes a divergence finding into `OUT/minimized/divergence-<id>.json`, with the
/// oracle's own predicate (a prover-view divergence keeps its view).
fn minimize(shared: &Shared, backends: &mut [Box<dyn Backend>], f: &Finding<'_>) {
    let cfg = &shared.config;
    let id = f.identity.id();
    let deadline = Instant::now() + CAMPAIGN_TIME;
    let m = shrink(
        &cfg.oracle,
        backends,
        f.case,
        &id,
        CAMPAIGN_BUDGET,
        Some(deadline),
    );
    let mut m = m;
    // The minimized copy keeps the finding's provenance (seed, index, generator bytes).
    m.case.meta = Some(f.meta());
    let path = cfg
        .out
        .join("minimized")
        .join(format!("divergence-{id}.json"));
    if let Err(e) = write_minimized(&path, &cfg.oracle, backends, &m, &id) {
        eprintln!("evmdiff: cannot write minimized finding {id}: {e:#}");
    }
}
