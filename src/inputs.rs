//! Finding state-test files and loading their cases, with errors that name the file.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use evmdiff_core::statetest::{TestFile, read_file};
use evmdiff_core::{Case, Profile};
use evmdiff_oracle::views::Views;

/// Every `.json` file under `paths` (files as given, folders walked recursively), sorted
/// within each folder so runs are deterministic.
pub fn json_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            out.extend(
                evmdiff_core::statetest::json_files(p)
                    .with_context(|| format!("{}: cannot read folder", p.display()))?,
            );
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            bail!("{}: no such file or folder", p.display());
        }
    }
    Ok(out)
}

/// Loads one file's cases.
pub fn load(path: &Path) -> Result<TestFile> {
    Ok(read_file(path)?)
}

/// The profile a case runs under: the one given on the command line; else the one a finding
/// records — its full content in `_info.evmdiff.profile_toml` (so it replays from any folder,
/// without the file it was made from), or for older findings its name in `profile`; else
/// mainnet at the case's own fork.
pub fn profile_for(case: &Case, given: Option<&Profile>) -> Result<Profile> {
    if let Some(p) = given {
        return Ok(p.clone());
    }
    if let Some(recorded) = Profile::recorded(case) {
        return recorded.map_err(anyhow::Error::msg);
    }
    Ok(Profile::mainnet(case.fork))
}

/// The prover views a case runs with: those given on the command line; else those a finding
/// records in `_info.evmdiff.prover` (so a view divergence replays as one); else none.
pub fn views_for(case: &Case, given: Views) -> Result<Views> {
    if !given.none() {
        return Ok(given);
    }
    let recorded = case
        .meta
        .as_ref()
        .and_then(|m| m.get("prover"))
        .and_then(|v| v.as_str())
        .unwrap_or("");
    Views::parse(recorded).map_err(|e| anyhow::anyhow!("{}: recorded prover views: {e}", case.name))
}

/// The backends a case runs on: those given on the command line; else those a finding records
/// in `_info.evmdiff.backends` (`name version` each), when this build can make every one of
/// them (a crash input of `revm,revm+sdiv-overflow` minimizes on that pair); else the default
/// list.
pub fn backends_for(case: Option<&Case>, given: Option<&str>) -> String {
    if let Some(list) = given {
        return list.to_string();
    }
    let recorded: Option<Vec<String>> = case
        .and_then(|c| c.meta.as_ref())
        .and_then(|m| m.get("backends"))
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|b| b.as_str()?.split_whitespace().next().map(str::to_string))
                .collect()
        });
    match recorded {
        Some(names)
            if !names.is_empty()
                && evmdiff_oracle::backends::instantiate(&names.join(",")).is_ok() =>
        {
            names.join(",")
        }
        _ => evmdiff_oracle::backends::default_list(),
    }
}

/// Every file under `paths` (folders walked recursively, sorted within each folder): fuzz
/// inputs, which have no extension to filter on.
pub fn raw_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("{}: cannot read folder", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            out.extend(raw_files(&entries)?);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            bail!("{}: no such file or folder", p.display());
        }
    }
    Ok(out)
}
