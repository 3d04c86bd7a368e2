//! `evmdiff minimize`: shrink a divergent case to the instructions that make the backends part.

use std::path::PathBuf;

use anyhow::{Result, bail};
use evmdiff::Oracle;
use evmdiff::shrink::{listing, shrink, write_minimized};
use evmdiff::views::Views;
use evmdiff::{backends, inputs, report};
use evmdiff_core::Profile;
use evmdiff_triage::signature::signature;

/// Options of `evmdiff minimize`.
#[derive(Debug)]
pub struct MinimizeArgs {
    /// The divergent state-test file (a finding).
    pub case: PathBuf,
    /// Where to write the minimized case.
    pub out: Option<PathBuf>,
    /// Profile override.
    pub profile: Option<String>,
    /// Backends.
    pub backends: String,
    /// Signature id to keep (default: the first divergence's).
    pub signature: Option<String>,
    /// Predicate evaluations at most.
    pub budget: usize,
    /// Prover views compared by the predicate.
    pub views: Views,
}

/// Minimizes the first case of the file; returns the path written.
pub fn minimize(args: &MinimizeArgs) -> Result<PathBuf> {
    let given = args.profile.as_deref().map(Profile::load).transpose()?;
    let mut backends = backends::instantiate(&args.backends)?;
    let loaded = inputs::load(&args.case)?;
    let Some(case) = loaded.cases.first() else {
        bail!("{}: no case to minimize", args.case.display());
    };
    let profile = inputs::profile_for(case, given.as_ref())?;
    let mut oracle = Oracle::new(profile.clone());
    oracle.views = args.views;
    let run = oracle.run(&mut backends, case, None);
    let ids: Vec<String> = run
        .divergences
        .iter()
        .map(|d| signature(d, &profile.name).id())
        .collect();
    let id = match &args.signature {
        Some(s) if ids.contains(s) => s.clone(),
        Some(s) => bail!(
            "{}: no divergence with signature {s} on {} (signatures: {})",
            args.case.display(),
            args.backends,
            if ids.is_empty() {
                "none, the backends agree".to_string()
            } else {
                ids.join(", ")
            }
        ),
        None => match ids.first() {
            Some(id) => id.clone(),
            None => bail!(
                "{}: the backends {} agree on this case: nothing to minimize",
                args.case.display(),
                args.backends
            ),
        },
    };
    let m = shrink(&oracle, &mut backends, case, &id, args.budget);
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .case
            .file_stem()
            .map_or("case".into(), |s| s.to_string_lossy().into_owned());
        args.case.with_file_name(format!("{stem}.min.json"))
    });
    write_minimized(&out, &oracle, &mut backends, &m, &id)?;
    println!(
        "signature {id}: {} -> {} instructions ({} attempts, {} edits kept)",
        m.instructions.0, m.instructions.1, m.attempts, m.kept
    );
    print!("{}", listing(&m.case));
    // Report the case as written: its expectation is now the minimized case's own.
    let written = inputs::load(&out)?.cases.remove(0);
    let run = oracle.run(&mut backends, &written, None);
    println!("{}", report::text(&written, &profile, &run));
    println!("written to {}", out.display());
    Ok(out)
}
