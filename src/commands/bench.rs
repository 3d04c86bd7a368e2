//! `evmdiff bench`: executions per second of each backend on the same cases, measured side by
//! side in one run (rounds interleave the backends), reported as medians.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use evmdiff_core::{Case, Fork, Profile};

use evmdiff::{backends, inputs};

/// Options of `evmdiff bench`.
#[derive(Debug)]
pub struct BenchArgs {
    /// State-test files or folders.
    pub paths: Vec<PathBuf>,
    /// Comma-separated backends.
    pub backends: String,
    /// Only cases of this fork.
    pub fork: Option<Fork>,
    /// Number of timed rounds.
    pub rounds: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs the benchmark and prints a table.
pub fn bench(args: &BenchArgs) -> Result<()> {
    let mut backends = backends::instantiate(&args.backends)?;
    let mut cases: Vec<(Case, Profile)> = Vec::new();
    for file in inputs::json_files(&args.paths)? {
        if evmdiff_core::expect::skip_reason(&file).is_some() {
            continue;
        }
        for case in inputs::load(&file)?.cases {
            if args.fork.is_none_or(|f| f == case.fork) {
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
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); backends.len()];
    for _ in 0..args.rounds.max(1) {
        for (i, b) in backends.iter_mut().enumerate() {
            let start = Instant::now();
            for (case, profile) in &cases {
                std::hint::black_box(b.execute(case, profile).ok());
            }
            rates[i].push(cases.len() as f64 / start.elapsed().as_secs_f64());
        }
    }
    println!(
        "{} cases, {} rounds, medians:",
        cases.len(),
        args.rounds.max(1)
    );
    println!(
        "{:<8} {:<8} {:>12} {:>12} {:>10}",
        "backend", "version", "exec/s", "µs/exec", "vs first"
    );
    let medians: Vec<f64> = rates.into_iter().map(median).collect();
    for (b, m) in backends.iter().zip(&medians) {
        println!(
            "{:<8} {:<8} {:>12.0} {:>12.1} {:>9.2}x",
            b.name(),
            b.version(),
            m,
            1e6 / m,
            m / medians[0]
        );
    }
    Ok(())
}
