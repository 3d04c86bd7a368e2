//! The `precompiles` fuzz target: each input is one precompile call (the generator's
//! [`precompile_call`]), made directly on every implementation that has the precompile
//! ([`evmdiff_adapters::precompile_impl`]) and compared: status, gas and output.
//!
//! A divergence is written as an evmdiff finding like any other: the state test of the
//! transaction that makes the same call (so `evmdiff run`, `export`, `report` and other
//! clients' runners take it), with the generator input, the target and, in its `detail`, what
//! each implementation returned and which library computed it there.

use std::panic::{AssertUnwindSafe, catch_unwind};

use arbitrary::Unstructured;
use evmdiff_adapters::precompile_impl::{self, Called, PrecompileImpl};
use evmdiff_core::compare::{Difference, Divergence};
use evmdiff_core::precompile::Precompile;
use evmdiff_core::{Backend, BackendError, Case, ChainOutcome, Field, Profile};
use evmdiff_generator::precompile_call::{PrecompileCall, comparable, precompile_call};
use evmdiff_triage::{Identity, Signature};

use crate::allowlist::Allowlist;
use crate::error::{OracleError, Result};
use crate::finding::{Finding, Provenance, input_hex};
use crate::fuzz_target::TargetConfig;

/// What every implementation that has the called precompile returned, in the target's order.
pub type CallResults = Vec<(String, Called)>;

/// The `precompiles` target at run time: its implementations, made once.
pub struct PrecompileHarness {
    /// What it runs (`backends` names the implementations).
    pub config: TargetConfig,
    /// The profile: its base fork decides each implementation's precompiles.
    pub profile: Profile,
    impls: Vec<Box<dyn PrecompileImpl>>,
    compared: Vec<&'static Precompile>,
    /// The first implementation that is also a backend, which runs a finding's transaction
    /// once to fill its post-state (made on the first finding).
    reference: Option<Box<dyn Backend>>,
    /// Known divergences, not reported (the shipped allowlist, and any given).
    pub allow: Allowlist,
}

/// A divergence of the direct comparison, with the transaction that makes the same call.
pub struct PrecompileFinding {
    /// The transaction's state test.
    pub case: Case,
    /// The reference backend's outcome of it, which becomes the file's post expectation.
    pub reference: Option<ChainOutcome>,
    /// Which problem it is.
    pub identity: Identity,
    /// The implementations' differences, against the first one's result.
    pub divergences: Vec<Divergence>,
    /// What each implementation returned, and from which library.
    pub detail: String,
    /// How to make it again.
    pub provenance: Provenance,
}

impl PrecompileFinding {
    /// The finding, in the form every finding is written in.
    pub fn finding(&self) -> Finding<'_> {
        Finding {
            identity: self.identity.clone(),
            case: &self.case,
            reference: self.reference.as_ref(),
            reference_side: None,
            provenance: self.provenance.clone(),
            divergences: self.divergences.clone(),
            detail: self.detail.clone(),
        }
    }
}

impl PrecompileHarness {
    /// Loads the profile and makes the implementations `config.backends` names. An
    /// implementation without the profile's fork sits out (said on stderr); fewer than two
    /// left, or no precompile two of them share, is an error: nothing would be compared.
    pub fn new(config: TargetConfig, extra_allow: Allowlist) -> Result<PrecompileHarness> {
        let profile = Profile::load(&config.profile).map_err(|e| {
            OracleError::input(format!(
                "{}: profile `{}`: {e}",
                config.target, config.profile
            ))
        })?;
        let mut impls = Vec::new();
        for name in config.backends.split(',').map(str::trim) {
            match precompile_impl::make(name, profile.base_fork) {
                Ok(i) => impls.push(i),
                Err(BackendError::Unsupported(why)) if why.starts_with("unknown") => {
                    return Err(OracleError::input(format!("{}: {why}", config.target)));
                }
                Err(e) => eprintln!("{}: {name} sits out: {e}", config.target),
            }
        }
        let compared: Vec<&'static Precompile> = comparable(&profile)
            .into_iter()
            .filter(|p| impls.iter().filter(|i| i.has(p)).count() >= 2)
            .collect();
        if impls.len() < 2 || compared.is_empty() {
            return Err(OracleError::input(format!(
                "{}: nothing to compare under {}: implementations {} (at least two must share \
                 a precompile the profile leaves as its fork has it)",
                config.target,
                profile.name,
                impls
                    .iter()
                    .map(|i| i.name().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(PrecompileHarness {
            config,
            profile,
            impls,
            compared,
            reference: None,
            allow: Allowlist::shipped().with(extra_allow),
        })
    }

    /// The precompiles compared: the profile's as its fork has them, which two or more
    /// implementations have.
    pub fn compared(&self) -> &[&'static Precompile] {
        &self.compared
    }

    /// The call `data` stands for (`None`: the generator builds none from it, or the input is
    /// one the profile caps).
    pub fn call(&self, data: &[u8]) -> Option<PrecompileCall> {
        precompile_call(&mut Unstructured::new(data), &self.profile, &self.compared)
            .ok()
            .flatten()
    }

    /// Makes `call` on every implementation that has its precompile. A panic is kept as an
    /// [`Called::Error`], so that a replay reports it instead of dying with it.
    pub fn run(&mut self, call: &PrecompileCall) -> CallResults {
        let p = call.precompile;
        self.impls
            .iter_mut()
            .filter(|i| i.has(p))
            .map(|i| {
                let name = i.name().to_string();
                let called =
                    catch_unwind(AssertUnwindSafe(|| i.call(p, &call.input, call.gas_limit)))
                        .unwrap_or_else(|panic| {
                            Called::Error(format!("panicked: {}", message(&panic)))
                        });
                (name, called)
            })
            .collect()
    }

    /// The finding `results` show, if any: an implementation that failed internally (a
    /// crash), else one that returned something else than the first did (a divergence).
    /// `data` is recorded as the generator input.
    pub fn judge(
        &mut self,
        call: &PrecompileCall,
        results: &CallResults,
        data: &[u8],
    ) -> Option<PrecompileFinding> {
        let (first, reference) = results.first()?;
        let profile = self.profile.name.clone();
        let mut divergences = Vec::new();
        for (name, called) in &results[1..] {
            let differences = differences(reference, called);
            if differences.is_empty() {
                continue;
            }
            let d = Divergence {
                left: first.clone(),
                right: name.clone(),
                at: None,
                differences,
                step: None,
            };
            if self
                .allow
                .reason(&signature(call.precompile, &d, &profile))
                .is_none()
            {
                divergences.push(d);
            }
        }
        let crashed = results.iter().find_map(|(name, c)| match c {
            Called::Error(e) => Some((name, e)),
            _ => None,
        });
        let identity = if let Some((name, e)) = crashed {
            Identity::crash(name, &profile, &format!("{}: {e}", call.precompile.name))
        } else {
            let d = divergences.first()?;
            Identity::divergence(&signature(call.precompile, d, &profile))
        };
        let case = call.case(&self.profile);
        let reference = self.reference_outcome(&case);
        let mut provenance = Provenance::new(
            &self.profile,
            results.iter().map(|(n, _)| n.clone()).collect(),
            None,
        );
        provenance.input = Some(input_hex(data));
        provenance.fuzz_target = Some(self.config.target.clone());
        Some(PrecompileFinding {
            case,
            reference,
            identity,
            divergences,
            detail: detail(call, results),
            provenance,
        })
    }

    /// The first backend among the implementations' names, run on `case`.
    fn reference_outcome(&mut self, case: &Case) -> Option<ChainOutcome> {
        if self.reference.is_none() {
            let name = self
                .impls
                .iter()
                .map(|i| i.name().to_string())
                .find(|n| crate::backends::instantiate(n).is_ok())?;
            let mut backend = crate::backends::instantiate(&name).ok()?.pop()?;
            backend.prepare(&self.profile);
            self.reference = Some(backend);
        }
        self.reference.as_mut()?.execute(case, &self.profile).ok()
    }
}

/// The observable differences between two results: status, then (both succeeded) gas and
/// output.
fn differences(a: &Called, b: &Called) -> Vec<Difference> {
    let mut out = Vec::new();
    match (a, b) {
        (
            Called::Success {
                gas_used: ga,
                output: oa,
            },
            Called::Success {
                gas_used: gb,
                output: ob,
            },
        ) => {
            if ga != gb {
                out.push(Difference {
                    field: Field::GasUsed,
                    left: ga.to_string(),
                    right: gb.to_string(),
                });
            }
            if oa != ob {
                out.push(Difference {
                    field: Field::Output,
                    left: format!("0x{}", alloy_primitives::hex::encode(oa)),
                    right: format!("0x{}", alloy_primitives::hex::encode(ob)),
                });
            }
        }
        _ if a != b => out.push(Difference {
            field: Field::Status,
            left: a.to_string(),
            right: b.to_string(),
        }),
        _ => {}
    }
    out
}

/// A divergence's signature: the pair, the precompile and which of status, gas and output
/// differ (`revm|evm mainnet-cancun [precompile.bn254_pairing.output]`). The precompile is
/// part of it: two precompiles that disagree are two bugs.
fn signature(p: &Precompile, d: &Divergence, profile: &str) -> Signature {
    let status = d
        .differences
        .iter()
        .find(|x| x.field == Field::Status)
        .map(|x| {
            let word = |s: &str| s.split([',', ':']).next().unwrap_or("").to_string();
            format!("{}->{}", word(&x.left), word(&x.right))
        });
    Signature {
        backends: format!("{}|{}", d.left, d.right),
        profile: profile.to_string(),
        step: None,
        fields: d
            .differences
            .iter()
            .map(|x| format!("precompile.{}.{}", p.name, x.field.kind()))
            .collect(),
        status,
    }
}

/// What each implementation returned, one line each, with the library behind it.
fn detail(call: &PrecompileCall, results: &CallResults) -> String {
    let mut out = format!(
        "{} ({}) called directly with {} gas and {} bytes of input 0x{}\n",
        call.precompile.name,
        call.precompile.address,
        call.gas_limit,
        call.input.len(),
        alloy_primitives::hex::encode(&call.input)
    );
    for (name, called) in results {
        let library = precompile_impl::library(name, call.precompile.name).unwrap_or("?");
        out.push_str(&format!("{name} [{library}]: {called}\n"));
    }
    out
}

/// A panic's message.
fn message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}
