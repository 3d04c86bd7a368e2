//! `evmdiff bench`: executions per second of each backend on the same cases, measured side by
//! side in one run (rounds interleave the backends), reported as medians.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use evmdiff_core::{Case, Profile};

use super::options::{BackendsOpt, ForkOpt};
use crate::execute::{run_case, run_case_localized};
use crate::{Oracle, Origin, backends, campaign, inputs};
use evmdiff_core::lockstep::lockstep;
use evmdiff_core::step_hash::StepHash;

/// Benchmark: executions per second of each backend on the same state-test cases (mainnet
/// profile at each case's fork), rounds interleaved, medians reported.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// State-test files or folders (none with --generated).
    #[arg(required_unless_present = "generated")]
    pub paths: Vec<PathBuf>,
    /// Which backends run.
    #[command(flatten)]
    pub backends: BackendsOpt,
    /// Which fork's cases.
    #[command(flatten)]
    pub fork: ForkOpt,
    /// Timed rounds (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Benchmark N generated cases (as `evmdiff fuzz` makes them) instead of files, and
    /// also time generation alone (and before sealing), the whole fuzzing pipeline on the
    /// same cases, and its floor: the pipeline comparing outcomes only.
    #[arg(long)]
    pub generated: Option<u64>,
    /// Profile for --generated.
    #[arg(long, short, default_value = "mainnet-cancun")]
    pub profile: String,
    /// Seed for --generated.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Time with the CPU time of this process (all its threads) instead of the wall clock:
    /// on a shared machine the time spent waiting for a core then does not count. In-process
    /// backends only: a worker's time is its own process's. The worker round trips are timed
    /// on the wall clock either way.
    #[arg(long)]
    pub cpu_time: bool,
}

/// What the rates are timed with: the wall clock, or this process's CPU time.
#[derive(Debug, Clone, Copy)]
struct Clock {
    cpu: bool,
    origin: Instant,
}

impl Clock {
    /// A reading to measure from.
    fn now(&self) -> Duration {
        if self.cpu {
            let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
            Duration::new(
                u64::try_from(t.tv_sec).unwrap_or(0),
                u32::try_from(t.tv_nsec).unwrap_or(0),
            )
        } else {
            self.origin.elapsed()
        }
    }

    /// `n` per second since the reading `since`.
    fn rate(&self, n: usize, since: Duration) -> f64 {
        n as f64 / self.now().saturating_sub(since).as_secs_f64()
    }
}

/// Times generation alone, then the whole per-case work of a fuzzing campaign (generate, run
/// every backend, compare, localize divergences, judge, observe the sampled coverage case;
/// not the finding files or the shared counters), over the same `n` cases. Returns the rates
/// in cases per second of generation without sealing, generation with it (as campaigns make
/// cases: chains sealed by revm), and the pipeline.
fn pipeline(
    args: &Args,
    clock: Clock,
    backends: &mut [Box<dyn evmdiff_core::Backend>],
    n: u64,
) -> Result<[f64; 4]> {
    let profile = Profile::load(&args.profile)?;
    let start = clock.now();
    for i in 0..n {
        std::hint::black_box(evmdiff_generator::campaign_case(&profile, args.seed, i));
    }
    let unsealed_rate = clock.rate(n as usize, start);
    let start = clock.now();
    for i in 0..n {
        std::hint::black_box(evmdiff_oracle::seal::campaign_case(&profile, args.seed, i));
    }
    let gen_rate = clock.rate(n as usize, start);
    let mut oracle = Oracle::new(profile.clone());
    oracle.case_budget = Duration::from_secs(3600);
    let start = clock.now();
    for i in 0..n {
        fuzz_case(&oracle, backends, args.seed, i);
    }
    let fuzz_rate = clock.rate(n as usize, start);
    let start = clock.now();
    for i in 0..n {
        outcomes_case(&oracle, backends, args.seed, i);
    }
    Ok([
        unsealed_rate,
        gen_rate,
        fuzz_rate,
        clock.rate(n as usize, start),
    ])
}

/// Case `index` as [`fuzz_case`] takes it, but with outcomes compared only: no step
/// observed (revm's run while sealing a chain included), nothing localized. Not a mode of
/// `evmdiff fuzz` (it would miss the divergences only steps show): the pipeline's cost with
/// none of the observation's, what making and judging the cases alone leaves of the bare
/// backends' rate.
#[inline(never)]
fn outcomes_case(
    oracle: &Oracle,
    backends: &mut [Box<dyn evmdiff_core::Backend>],
    seed: u64,
    index: u64,
) {
    bench_case(oracle, backends, seed, index, false);
}

/// Case `index` of the campaign seeded `seed`, as a campaign's worker takes it: generated and
/// sealed (a chain with revm's execution), run, the coverage sample observed, judged. Never
/// inlined, so that `scripts/instructions.sh` counts a case's whole work per call.
#[inline(never)]
fn fuzz_case(
    oracle: &Oracle,
    backends: &mut [Box<dyn evmdiff_core::Backend>],
    seed: u64,
    index: u64,
) {
    bench_case(oracle, backends, seed, index, true);
}

/// The body of [`fuzz_case`] (`steps`: every backend observed, divergences localized, the
/// coverage sample taken) and of [`outcomes_case`] (outcomes only); inlined into each, so
/// that callgrind counts the two apart.
#[inline(always)]
fn bench_case(
    oracle: &Oracle,
    backends: &mut [Box<dyn evmdiff_core::Backend>],
    seed: u64,
    index: u64,
    steps: bool,
) {
    let profile = &oracle.profile;
    let made = if steps {
        evmdiff_oracle::seal::campaign_case_run(profile, seed, index, None)
    } else {
        evmdiff_oracle::seal::campaign_case_run_unobserved(profile, seed, index)
    };
    let Some((input, case, sealed)) = made else {
        return;
    };
    let origin = Origin {
        seed,
        index,
        input: &input,
        gas_budget: None,
    };
    let run = if steps {
        oracle.run_sealed(backends, &case, Some(origin), sealed)
    } else {
        evmdiff_oracle::execute::run_case_sealed(backends, &case, profile, sealed)
    };
    if steps && index.is_multiple_of(campaign::COVERAGE_SAMPLE) {
        std::hint::black_box(crate::coverage::opcodes_run(
            backends[0].as_mut(),
            &case,
            profile,
        ));
    }
    std::hint::black_box(oracle.judge(&case, &run, Some(origin)).signatures.len());
}

/// Cases per second of three ways to compare the backends on `cases`: outcomes only
/// (untraced), the fuzzing fast path (outcomes plus a rolling step hash, lockstep only on a
/// mismatch), and full lockstep on every case (outcomes, then the first two backends' steps
/// compared one by one in parallel threads).
fn comparison_modes(
    clock: Clock,
    backends: &mut [Box<dyn evmdiff_core::Backend>],
    cases: &[(Case, Profile)],
) -> [f64; 3] {
    let rate = |start: Duration| clock.rate(cases.len(), start);
    let start = clock.now();
    for (case, profile) in cases {
        std::hint::black_box(run_case(backends, case, profile).verdict);
    }
    let untraced = rate(start);
    let start = clock.now();
    for (case, profile) in cases {
        std::hint::black_box(run_case_localized(backends, case, profile).verdict);
    }
    let fast = rate(start);
    let start = clock.now();
    for (case, profile) in cases {
        std::hint::black_box(run_case(backends, case, profile).verdict);
        let (first, rest) = backends.split_at_mut(1);
        std::hint::black_box(lockstep(first[0].as_mut(), rest[0].as_mut(), case, profile).ok());
    }
    [untraced, fast, rate(start)]
}

/// For each out-of-process backend: the round trip of an empty program (a call of an account
/// without code) against the time the worker says its implementation spent, over 200
/// requests. The difference is the protocol's own cost: JSON both ways and the pipe.
fn round_trips(backends: &mut [Box<dyn evmdiff_core::Backend>], template: &Case) {
    let mut empty = template.clone();
    if let Some(to) = empty.tx().and_then(|t| t.to) {
        empty.pre.entry(to).or_default().code = Default::default();
    }
    if let Some(tx) = empty.tx_mut() {
        tx.data = Default::default();
    }
    let profile = Profile::mainnet(empty.fork);
    let mut header = false;
    for b in backends.iter_mut() {
        if b.execute(&empty, &profile).is_err() || b.reported_time().is_none() {
            continue;
        }
        let (mut total, mut inner) = (Vec::new(), Vec::new());
        for _ in 0..200 {
            let start = Instant::now();
            if b.execute(&empty, &profile).is_err() {
                continue;
            }
            total.push(start.elapsed().as_secs_f64() * 1e6);
            inner.push(b.reported_time().map_or(0.0, |d| d.as_secs_f64() * 1e6));
        }
        if total.is_empty() {
            continue;
        }
        if !header {
            println!("worker round trip of an empty program (µs, medians of 200):");
            println!(
                "  {:<12} {:>10} {:>14} {:>10} {:>9}",
                "backend", "round trip", "implementation", "protocol", "share"
            );
            header = true;
        }
        let overhead: Vec<f64> = total.iter().zip(&inner).map(|(t, i)| t - i).collect();
        let (t, i, o) = (median(total), median(inner), median(overhead));
        println!(
            "  {:<12} {:>10.0} {:>14.0} {:>10.0} {:>8.0}%",
            b.name(),
            t,
            i,
            o,
            100.0 * o / t
        );
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs the benchmark and prints a table.
pub fn run(args: &Args) -> Result<ExitCode> {
    let fork = args.fork.get()?;
    let mut backends = backends::instantiate(&args.backends.backends)?;
    if args.cpu_time
        && let Some(b) = backends.iter().find(|b| !b.capabilities().in_process)
    {
        bail!(
            "--cpu-time times this process only, and {} runs in a process of its own: leave it out or time on the wall clock",
            b.name()
        );
    }
    let clock = Clock {
        cpu: args.cpu_time,
        origin: Instant::now(),
    };
    let mut cases: Vec<(Case, Profile)> = Vec::new();
    if let Some(n) = args.generated {
        let profile = Profile::load(&args.profile)?;
        for i in 0..n {
            if let Some((_, case)) = evmdiff_oracle::seal::campaign_case(&profile, args.seed, i) {
                cases.push((case, profile.clone()));
            }
        }
    }
    for file in inputs::json_files(&args.paths)? {
        if evmdiff_core::expect::skip_reason(&file).is_some() {
            continue;
        }
        for case in inputs::load(&file)?.cases {
            if fork.is_none_or(|f| f == case.fork) {
                let profile = Profile::mainnet(case.fork);
                cases.push((case, profile));
            }
        }
    }
    // The same set for every backend: only cases that all of them support.
    cases.retain(|(case, profile)| {
        backends
            .iter_mut()
            .all(|b| b.execute(case, profile).is_ok())
    });
    if cases.is_empty() {
        bail!("no case that every backend supports");
    }
    // The fast path and lockstep compare the steps of the first two backends: in-process ones.
    let steps_compared =
        backends.len() >= 2 && backends[..2].iter().all(|b| b.observes_live_steps());
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); backends.len()];
    // Each backend that reports steps is also timed with them: what localizing costs it
    // (for an external backend, the steps it streams and evmdiff reads and hashes).
    let stepping: Vec<bool> = backends.iter().map(|b| b.observes_steps()).collect();
    let mut observed_rates: Vec<Vec<f64>> = vec![Vec::new(); backends.len()];
    let (mut unsealed_rates, mut gen_rates, mut pipeline_rates, mut outcomes_rates) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // State tests and chains timed apart (cases per second of each kind), in the same rounds.
    let kinds: [Vec<&(Case, Profile)>; 2] = [
        cases.iter().filter(|(c, _)| !c.is_chain()).collect(),
        cases.iter().filter(|(c, _)| c.is_chain()).collect(),
    ];
    let kind_txs: [usize; 2] = kinds
        .each_ref()
        .map(|k| k.iter().map(|(c, _)| c.tx_count()).sum());
    let mut kind_rates: Vec<[Vec<f64>; 2]> = vec![Default::default(); backends.len()];
    let mut modes: [Vec<f64>; 3] = Default::default();
    // revm's own `transact` on the same cases, in the same rounds: the engine's rate, against
    // which the revm backend's shows what evmdiff adds.
    let revm_index = backends.iter().position(|b| b.name() == "revm");
    let mut engine_rates = Vec::new();
    // Every backend on one case, then the next case (with --generated): the bare backends as
    // the pipeline orders them, where "bare, combined" runs each backend over all cases in turn.
    let mut interleaved_rates = Vec::new();
    for _ in 0..args.rounds.max(1) {
        if revm_index.is_some() {
            let mut engine = evmdiff_adapters::revm_backend::RawRevm::default();
            let start = clock.now();
            for (case, profile) in &cases {
                std::hint::black_box(engine.run(case, profile.base_fork));
            }
            engine_rates.push(clock.rate(cases.len(), start));
        }
        if steps_compared {
            for (k, rate) in comparison_modes(clock, &mut backends, &cases)
                .into_iter()
                .enumerate()
            {
                modes[k].push(rate);
            }
        }
        if let Some(n) = args.generated {
            let start = clock.now();
            for (case, profile) in &cases {
                for b in backends.iter_mut() {
                    std::hint::black_box(b.execute(case, profile).ok());
                }
            }
            interleaved_rates.push(clock.rate(cases.len(), start));
            let [u, g, p, o] = pipeline(args, clock, &mut backends, n)?;
            unsealed_rates.push(u);
            gen_rates.push(g);
            pipeline_rates.push(p);
            outcomes_rates.push(o);
        }
        for (i, b) in backends.iter_mut().enumerate() {
            let start = clock.now();
            for (case, profile) in &cases {
                std::hint::black_box(b.execute(case, profile).ok());
            }
            rates[i].push(clock.rate(cases.len(), start));
            for (k, kind) in kinds.iter().enumerate() {
                if kind.is_empty() {
                    continue;
                }
                let start = clock.now();
                for (case, profile) in kind {
                    std::hint::black_box(b.execute(case, profile).ok());
                }
                kind_rates[i][k].push(clock.rate(kind.len(), start));
            }
            if stepping[i] {
                let start = clock.now();
                for (case, profile) in &cases {
                    let mut steps = StepHash::default();
                    std::hint::black_box(b.execute_observed(case, profile, &mut steps).ok());
                }
                observed_rates[i].push(clock.rate(cases.len(), start));
            }
        }
    }
    println!(
        "{} cases, {} rounds, medians{}:",
        cases.len(),
        args.rounds.max(1),
        if args.cpu_time {
            " of the process's CPU time"
        } else {
            ""
        }
    );
    println!(
        "{:<14} {:<9} {:>12} {:>12} {:>10} {:>12} {:>9}",
        "backend", "version", "exec/s", "µs/exec", "vs first", "observed/s", "cost"
    );
    let medians: Vec<f64> = rates.into_iter().map(median).collect();
    for ((b, m), observed) in backends.iter().zip(&medians).zip(observed_rates) {
        // Observed: with the step hash, as the fast path runs it; cost = plain / observed.
        let observed = if observed.is_empty() {
            String::new()
        } else {
            let o = median(observed);
            format!(" {:>12.0} {:>8.2}x", o, m / o)
        };
        println!(
            "{:<14} {:<9} {:>12.0} {:>12.1} {:>9.2}x{observed}",
            b.name(),
            b.version(),
            m,
            1e6 / m,
            m / medians[0]
        );
    }
    if let Some(i) = revm_index {
        let engine = median(engine_rates);
        println!(
            "{:<14} {:<9} {:>12.0} {:>12.1} {:>9.2}x   revm's transact alone: the revm backend runs at {:.2} of it",
            "revm engine",
            "transact",
            engine,
            1e6 / engine,
            engine / medians[0],
            medians[i] / engine
        );
    }
    if kinds.iter().all(|k| !k.is_empty()) {
        let per_case = |k: usize| kind_txs[k] as f64 / kinds[k].len() as f64;
        println!(
            "by kind ({} state tests; {} chains, {:.1} transactions each), medians:",
            kinds[0].len(),
            kinds[1].len(),
            per_case(1)
        );
        println!(
            "{:<14} {:>14} {:>12} {:>12} {:>12} {:>16}",
            "backend",
            "state tests/s",
            "chains/s",
            "tx/s single",
            "tx/s chains",
            "chain tx vs single"
        );
        for (b, r) in backends.iter().zip(kind_rates) {
            let [single, chain] = r.map(median);
            let (ts, tc) = (single * per_case(0), chain * per_case(1));
            println!(
                "{:<14} {:>14.0} {:>12.0} {:>12.0} {:>12.0} {:>15.2}x",
                b.name(),
                single,
                chain,
                ts,
                tc,
                tc / ts
            );
        }
    }
    round_trips(&mut backends, &cases[0].0);
    if steps_compared {
        let [untraced, fast, lockstep] = modes.map(median);
        println!(
            "comparison of {} and {} (cases/s, cost vs untraced):",
            backends[0].name(),
            backends[1].name()
        );
        for (label, rate) in [
            ("untraced", untraced),
            ("fast path", fast),
            ("lockstep", lockstep),
        ] {
            println!(
                "  {:<15} {:>12.0} {:>12.1} {:>9.2}x",
                label,
                rate,
                1e6 / rate,
                untraced / rate
            );
        }
    }
    if args.generated.is_some() {
        // All backends back to back, each at its bare rate: the ceiling for a campaign.
        let combined = 1.0 / medians.iter().map(|m| 1.0 / m).sum::<f64>();
        let (generation, fuzzing) = (median(gen_rates), median(pipeline_rates));
        println!(
            "{:<17} {:>12.0} {:>12.1}",
            "generation alone",
            generation,
            1e6 / generation
        );
        // The same cases before revm seals the chains among them: what sealing costs.
        let unsealed = median(unsealed_rates);
        println!(
            "{:<17} {:>12.0} {:>12.1}",
            "  before sealing",
            unsealed,
            1e6 / unsealed
        );
        println!(
            "{:<17} {:>12.0} {:>12.1}",
            "bare, combined",
            combined,
            1e6 / combined
        );
        // The same executions case by case: what ordering alone costs (each backend's code
        // and data out of the caches when its turn comes again).
        let interleaved = median(interleaved_rates);
        println!(
            "{:<17} {:>12.0} {:>12.1} {:>9.0}% of bare combined",
            "  case by case",
            interleaved,
            1e6 / interleaved,
            100.0 * interleaved / combined
        );
        println!(
            "{:<17} {:>12.0} {:>12.1} {:>9.0}% of bare combined",
            "fuzzing pipeline",
            fuzzing,
            1e6 / fuzzing,
            100.0 * fuzzing / combined
        );
        // Not a campaign's mode: what the pipeline would cost if observing steps were free.
        let outcomes = median(outcomes_rates);
        println!(
            "{:<17} {:>12.0} {:>12.1} {:>9.0}% of bare combined (no step observed, nothing localized: the floor)",
            "  outcomes only",
            outcomes,
            1e6 / outcomes,
            100.0 * outcomes / combined
        );
    }
    Ok(ExitCode::SUCCESS)
}
