//! The cargo-fuzz targets: what each one runs, and the harness that runs one input.
//!
//! A target's configuration (profile, backends, prover views, which cases) is declared once,
//! in the `[evmdiff]` section of its `corpus/<target>.options` file. The target binary and
//! `evmdiff run --fuzz-target` both read it from that file, compiled in, so a crash input of
//! a target replays under the very configuration it crashed under, on any machine, with no
//! environment to recreate. ClusterFuzz and OSS-Fuzz read only the `[libfuzzer]` section of
//! an options file and pass no environment variable of ours (their `[env]` section admits a
//! fixed list), so the configuration cannot live in the environment.
//!
//! The input of every target is the generator's input, the bytes `evmdiff fuzz` draws per
//! case (`evmdiff generate --raw` writes them): a campaign case and a libFuzzer input are the
//! same thing, and a crash input is a finding's `input`.

use std::path::Path;
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use evmdiff_core::{Backend, Case, Profile};
use evmdiff_generator::GeneratorConfig;
use evmdiff_generator::spans::{self, Span};

use crate::allowlist::Allowlist;
use crate::error::{OracleError, Result};
use crate::execute::CaseRun;
use crate::finding::input_hex;
use crate::judge::Judgement;
use crate::oracle::Oracle;
use crate::precompile_target::PrecompileHarness;
use crate::views::Views;

/// Every cargo-fuzz target that runs the oracle, with its options file: `fuzz/fuzz_targets/`
/// has one source per row, and `scripts/oss-fuzz-build.sh` copies each options file next to
/// its binary.
pub const TARGETS: &[(&str, &str)] = &[
    (
        "differential",
        include_str!("../../corpus/differential.options"),
    ),
    ("chain", include_str!("../../corpus/chain.options")),
    (
        "prover_views",
        include_str!("../../corpus/prover_views.options"),
    ),
    (
        "precompiles",
        include_str!("../../corpus/precompiles.options"),
    ),
];

/// Which generated cases a target runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cases {
    /// Whatever the generator draws: a single transaction or, one time in four, a chain.
    Any,
    /// Chains only: blocks of transactions, compared after each (where the bugs between
    /// transactions show).
    Chains,
    /// No transaction: one precompile call, made directly on each implementation the
    /// backends list names ([`crate::precompile_target`]).
    Precompiles,
}

/// What one target runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetConfig {
    /// The target's name (its binary, its options file).
    pub target: String,
    /// Profile: a built-in name or a .toml file.
    pub profile: String,
    /// Comma-separated backends, as `--backends` takes them.
    pub backends: String,
    /// Prover views compared (`witness,rw-log`; empty for none).
    pub prover: String,
    /// Which cases it generates.
    pub cases: Cases,
    /// The `[libfuzzer]` section: the flags the engines pass (`max_len`, `dict`, ...).
    pub libfuzzer: Vec<(String, String)>,
}

impl TargetConfig {
    /// Reads the `[evmdiff]` section of options file `text` (`origin` names it in errors).
    /// Every key is required, so that a target never runs under a default nobody wrote down.
    pub fn parse(target: &str, text: &str, origin: &str) -> Result<TargetConfig> {
        let err = |m: String| OracleError::input(format!("{origin}: {m}"));
        let ini =
            ini::Ini::load_from_str(text).map_err(|e| err(format!("not an options file: {e}")))?;
        let section = ini
            .section(Some("evmdiff"))
            .ok_or_else(|| err("no [evmdiff] section (profile, backends, prover, cases)".into()))?;
        let key = |k: &str| {
            section
                .get(k)
                .map(str::to_string)
                .ok_or_else(|| err(format!("[evmdiff] has no `{k}`")))
        };
        let (profile, backends, prover) = (key("profile")?, key("backends")?, key("prover")?);
        let cases = match key("cases")?.as_str() {
            "any" => Cases::Any,
            "chains" => Cases::Chains,
            "precompiles" => Cases::Precompiles,
            other => {
                return Err(err(format!(
                    "[evmdiff] cases = `{other}`: expected any, chains or precompiles"
                )));
            }
        };
        let libfuzzer = ini
            .section(Some("libfuzzer"))
            .map(|s| {
                s.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(TargetConfig {
            target: target.to_string(),
            profile,
            backends,
            prover,
            cases,
            libfuzzer,
        })
    }

    /// The configuration of built-in target `name`.
    pub fn builtin(name: &str) -> Result<TargetConfig> {
        let (target, text) = TARGETS.iter().find(|(t, _)| *t == name).ok_or_else(|| {
            let names: Vec<&str> = TARGETS.iter().map(|(t, _)| *t).collect();
            OracleError::input(format!(
                "unknown fuzz target `{name}` (known: {}; or the path of a .options file)",
                names.join(", ")
            ))
        })?;
        TargetConfig::parse(target, text, &format!("corpus/{target}.options"))
    }

    /// A built-in target by name, or the options file at `arg` (a path ending in `.options`).
    pub fn load(arg: &str) -> Result<TargetConfig> {
        if !arg.ends_with(".options") {
            return TargetConfig::builtin(arg);
        }
        let path = Path::new(arg);
        let text = std::fs::read_to_string(path)
            .map_err(OracleError::io(path, "cannot read options file"))?;
        let target = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("differential");
        TargetConfig::parse(target, &text, arg)
    }

    /// This configuration with `EVMDIFF_PROFILE`, `EVMDIFF_BACKENDS` and `EVMDIFF_PROVER`
    /// taking precedence: a local run may point a target elsewhere (its crash message then
    /// names what it ran under).
    pub fn with_env(mut self) -> TargetConfig {
        let var = |k: &str| std::env::var(k).ok();
        if let Some(p) = var("EVMDIFF_PROFILE") {
            self.profile = p;
        }
        if let Some(b) = var("EVMDIFF_BACKENDS") {
            self.backends = b;
        }
        if let Some(v) = var("EVMDIFF_PROVER") {
            self.prover = v;
        }
        self
    }

    /// The command that replays an input of this target under this configuration.
    pub fn replay_command(&self, input: &str) -> String {
        let mut cmd = format!(
            "evmdiff run --fuzz-target {} --profile {} --backends {}",
            self.target, self.profile, self.backends
        );
        if !self.prover.is_empty() {
            cmd.push_str(&format!(" --prover {}", self.prover));
        }
        cmd.push_str(&format!(" {input}"));
        cmd
    }
}

/// The case generator input `data` stands for under `profile` (`None` when the generator
/// cannot build one from it, or when `cases` asks for a chain and the profile has none),
/// sealed as every campaign case is. For [`Cases::Any`] it is the case `evmdiff fuzz` makes
/// from the same bytes.
pub fn case_from(data: &[u8], profile: &Profile, cases: Cases) -> Option<Case> {
    let mut case = unsealed(data, profile, cases)?;
    // A generated chain gets real header hashes from revm, as every campaign case does.
    let _ = crate::seal::seal(&mut case, profile);
    Some(case)
}

/// The units of the case `data` stands for (see [`evmdiff_generator::spans`]): what the
/// structure-aware mutator edits. Empty when `data` makes no case.
pub fn spans_of(data: &[u8], profile: &Profile, cases: Cases) -> Vec<Span> {
    let (case, spans) = spans::record(data.len(), || unsealed(data, profile, cases));
    if case.is_none() { Vec::new() } else { spans }
}

/// [`case_from`] before sealing.
fn unsealed(data: &[u8], profile: &Profile, cases: Cases) -> Option<Case> {
    if cases == Cases::Precompiles {
        return None;
    }
    let mut u = Unstructured::new(data);
    let mut config = GeneratorConfig::arbitrary(&mut u).ok()?;
    if cases == Cases::Chains {
        config.chain = true;
    }
    let case = evmdiff_generator::generate_with(&mut u, profile, config)
        .ok()?
        .case;
    (cases != Cases::Chains || case.is_chain()).then_some(case)
}

/// A target at run time, whichever kind of input it runs.
pub enum Target {
    /// Generated cases (transactions, chains) through the oracle.
    Cases(Harness),
    /// Direct precompile calls.
    Precompiles(PrecompileHarness),
}

impl Target {
    /// The target `config` describes, with `extra_allow` beside the shipped allowlist.
    pub fn new(config: TargetConfig, extra_allow: Allowlist) -> Result<Target> {
        Ok(match config.cases {
            Cases::Precompiles => Target::Precompiles(PrecompileHarness::new(config, extra_allow)?),
            _ => Target::Cases(Harness::new(config, extra_allow)?),
        })
    }

    /// What it runs.
    pub fn config(&self) -> &TargetConfig {
        match self {
            Target::Cases(h) => &h.config,
            Target::Precompiles(h) => &h.config,
        }
    }
}

/// A target at run time: its oracle (the one `evmdiff fuzz` uses, with the allowlist that
/// ships with evmdiff) and its backends, made once.
pub struct Harness {
    /// What it runs.
    pub config: TargetConfig,
    /// Runs and judges a case.
    pub oracle: Oracle,
    /// The backends' instances, reused from input to input.
    pub backends: Vec<Box<dyn Backend>>,
}

impl Harness {
    /// Loads the profile, parses the views, makes the backends and prepares them for the
    /// profile (revm loads the KZG setup once, not in the first input's time).
    pub fn new(config: TargetConfig, extra_allow: Allowlist) -> Result<Harness> {
        if config.cases == Cases::Precompiles {
            return Err(OracleError::input(format!(
                "{}: a precompiles target runs no transaction (PrecompileHarness runs it)",
                config.target
            )));
        }
        let profile = Profile::load(&config.profile).map_err(|e| {
            OracleError::input(format!(
                "{}: profile `{}`: {e}",
                config.target, config.profile
            ))
        })?;
        let mut oracle = Oracle::new(profile);
        oracle.views = Views::parse(&config.prover)?;
        oracle.allow = Allowlist::shipped().with(extra_allow);
        // libFuzzer's own -timeout decides what is too slow.
        oracle.case_budget = Duration::MAX;
        let mut backends = crate::backends::instantiate(&config.backends)?;
        for b in &mut backends {
            b.prepare(&oracle.profile);
        }
        Ok(Harness {
            config,
            oracle,
            backends,
        })
    }

    /// The case `data` stands for under this target ([`case_from`]).
    pub fn case(&self, data: &[u8]) -> Option<Case> {
        case_from(data, &self.oracle.profile, self.config.cases)
    }

    /// The units of the case `data` stands for, as [`spans_of`] finds them.
    pub fn spans(&self, data: &[u8]) -> Vec<Span> {
        spans_of(data, &self.oracle.profile, self.config.cases)
    }

    /// Runs `case` on every backend.
    pub fn run(&mut self, case: &Case) -> CaseRun {
        self.oracle.run(&mut self.backends, case, None)
    }

    /// Judges `run`; each finding records `data` as its generator input and the target it
    /// came from, so the finding file regenerates the case as the crash input does.
    pub fn judge<'a>(&self, case: &'a Case, run: &'a CaseRun, data: &[u8]) -> Judgement<'a> {
        let mut judgement = self.oracle.judge(case, run, None);
        for f in &mut judgement.findings {
            f.provenance.input = Some(input_hex(data));
            f.provenance.fuzz_target = Some(self.config.target.clone());
        }
        judgement
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_target_parses_and_its_profile_and_backends_exist() {
        for (name, _) in TARGETS {
            let c = TargetConfig::builtin(name).unwrap();
            Profile::load(&c.profile).unwrap();
            Views::parse(&c.prover).unwrap();
            let t = Target::new(c, Allowlist::default()).unwrap();
            assert_eq!(t.config().target, *name);
        }
    }

    #[test]
    fn an_options_file_without_a_key_says_which() {
        let e = TargetConfig::parse("t", "[evmdiff]\nprofile = scroll\n", "t.options")
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.options") && e.contains("backends"), "{e}");
        let e = TargetConfig::parse("t", "[libfuzzer]\nmax_len = 9\n", "t.options")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no [evmdiff] section"), "{e}");
        assert!(
            TargetConfig::builtin("nope")
                .unwrap_err()
                .to_string()
                .contains("differential")
        );
    }

    #[test]
    fn a_chain_target_runs_chains_only() {
        let h = Harness::new(
            TargetConfig::builtin("chain").unwrap(),
            Allowlist::default(),
        )
        .unwrap();
        let mut chains = 0;
        for i in 0..40 {
            if let Some(case) = h.case(&evmdiff_generator::input_bytes(3, i)) {
                assert!(case.is_chain(), "input {i} gave a single transaction");
                chains += 1;
            }
        }
        assert!(chains >= 30, "only {chains} of 40 inputs gave a chain");
    }
}
