//! `evmdiff run --trace DIR`: one EIP-3155 trace file per case and backend.

use std::path::{Path, PathBuf};

use anyhow::Result;
use evmdiff_core::eip3155::{Summary, Writer};
use evmdiff_core::expect::{Check, check};
use evmdiff_core::{Backend, Case, Profile};

use crate::views::Views;

use crate::execute::expectation_applies;
use crate::write::atomic_write;

/// A file-name-safe form of a case name.
fn safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Traces `case` (read from `file`) on every backend into `dir` (`<case>.<backend>.jsonl`,
/// the file's stem put first when the case name does not start with it, so that two files
/// with the same test name do not overwrite each other's traces; the backend's position added
/// when a name repeats), with each asked-for prover view's file next to it
/// (`<case>.<backend>.<extension>`, [`ProverView::trace`](crate::views::ProverView::trace)),
/// each written atomically; returns the paths.
pub fn write_traces(
    dir: &Path,
    file: &Path,
    backends: &mut [Box<dyn Backend>],
    case: &Case,
    profile: &Profile,
    views: Views,
) -> Result<Vec<PathBuf>> {
    let names: Vec<&str> = backends.iter().map(|b| b.name()).collect();
    let mut paths = Vec::new();
    for (i, backend) in backends.iter_mut().enumerate() {
        let name = backend.name();
        let tag = if names.iter().filter(|n| **n == name).count() > 1 {
            format!("{name}-{i}")
        } else {
            name.to_string()
        };
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned());
        let name = match stem {
            Some(stem) if !case.name.starts_with(&stem) => format!("{stem}-{}", case.name),
            _ => case.name.clone(),
        };
        let base = format!("{}.{tag}", safe(&name));
        let path = dir.join(format!("{base}.jsonl"));
        let mut writer = Writer::new(Vec::new());
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            backend.execute_observed(case, profile, &mut writer)
        }))
        .unwrap_or_else(|p| {
            Err(evmdiff_core::BackendError::Failed(format!(
                "panic: {}",
                crate::execute::panic_message(&p)
            )))
        });
        let summary = match &result {
            Ok(o) => Summary {
                state_root: o.state_root().map(|r| r.to_string()),
                output: o.last_tx().map(|t| t.output.to_string()),
                gas_used: Some(o.txs().map(|t| t.gas_used).sum()),
                pass: expectation_applies(case, profile).then(|| check(case, o) == Check::Pass),
                fork: Some(profile.base_fork.to_string()),
                error: None,
            },
            Err(e) => Summary {
                state_root: None,
                output: None,
                gas_used: None,
                pass: None,
                fork: Some(profile.base_fork.to_string()),
                error: Some(e.to_string()),
            },
        };
        let bytes = writer.finish(&summary)?;
        atomic_write(&path, &bytes)?;
        paths.push(path);
        for view in views.iter().filter(|v| v.chains() || !case.is_chain()) {
            if let Some(bytes) = view.trace(backend.as_mut(), case, profile)? {
                let path = dir.join(format!("{base}.{}", view.trace_extension()));
                atomic_write(&path, &bytes)?;
                paths.push(path);
            }
        }
    }
    Ok(paths)
}
