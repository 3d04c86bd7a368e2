//! The oracle: one object that knows how a case is run and judged, so that every caller (the
//! campaign, `run`, `minimize` and its predicate, `bench`, the cargo-fuzz targets) runs the
//! same pipeline and reaches the same verdict.

use std::time::{Duration, Instant};

use evmdiff_core::{Backend, Case, Profile};
use evmdiff_triage::signature::signature;

use crate::allowlist::Allowlist;
use crate::backends::Sampling;
use crate::execute::{CaseRun, run_case, run_case_localized_on};
use crate::seal::SealingRun;
use crate::views::{Views, compare_views};

/// Where a case came from, when a campaign generated it: what a finding records so that it
/// regenerates anywhere, and what sampling decides by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin<'a> {
    /// Campaign seed.
    pub seed: u64,
    /// Case index within the campaign.
    pub index: u64,
    /// The generator's input bytes.
    pub input: &'a [u8],
    /// The campaign's gas budget per transaction (`--case-gas`), which the generator applied.
    pub gas_budget: Option<u64>,
}

/// Everything that decides how a case is run and judged.
#[derive(Debug, Clone)]
pub struct Oracle {
    /// The profile every backend is configured with.
    pub profile: Profile,
    /// Prover views compared on top of outcomes and steps (none by default: they cost extra
    /// executions).
    pub views: Views,
    /// Backends that run on a fraction of the cases only (`--sample eels=0.05`); sampling
    /// applies to cases with an [`Origin`].
    pub sample: Sampling,
    /// Known divergences, judged as allowed rather than as findings.
    pub allow: Allowlist,
    /// A case slower than this is a `slow` finding.
    pub case_budget: Duration,
    /// Hash every backend's steps and localize divergent pairs in lockstep (the fuzzing
    /// path). Off, outcomes only are compared (replaying fixtures, measuring the plain cost).
    pub steps: bool,
}

impl Oracle {
    /// An oracle for `profile`: steps compared, no prover view, no sampling, nothing allowed,
    /// a 10 s case budget.
    pub fn new(profile: Profile) -> Oracle {
        Oracle {
            profile,
            views: Views::default(),
            sample: Sampling::default(),
            allow: Allowlist::default(),
            case_budget: Duration::from_secs(10),
            steps: true,
        }
    }

    /// Runs `case` on every backend (those sampled for `origin` when it is given): execute,
    /// compare, localize each divergent pair to its first differing step, compare the prover
    /// views. A backend that panics becomes a failed execution, not a dead run.
    pub fn run(
        &self,
        backends: &mut [Box<dyn Backend>],
        case: &Case,
        origin: Option<Origin<'_>>,
    ) -> CaseRun {
        self.run_sealed(backends, case, origin, None)
    }

    /// [`Self::run`] of a case made by [`campaign_case_run`](crate::seal::campaign_case_run),
    /// with revm's execution while sealing it: the sealer ([`Backend::is_sealer`]) does not
    /// run the chain again. `sealed` must come from this oracle's profile and `case`.
    pub fn run_sealed(
        &self,
        backends: &mut [Box<dyn Backend>],
        case: &Case,
        origin: Option<Origin<'_>>,
        sealed: Option<SealingRun>,
    ) -> CaseRun {
        let start = Instant::now();
        let active: Option<Vec<bool>> = origin.filter(|_| !self.sample.is_empty()).map(|o| {
            backends
                .iter()
                .map(|b| self.sample.runs(b.name(), o.seed, o.index))
                .collect()
        });
        let mut run = if self.steps {
            run_case_localized_on(backends, case, &self.profile, active.as_deref(), sealed)
        } else {
            run_case(backends, case, &self.profile)
        };
        compare_views(backends, case, &self.profile, self.views, &mut run);
        // Plus the sealer's execution while sealing, when the run took it.
        run.took += start.elapsed();
        run
    }

    /// True when `backends` still diverge on `case` with a divergence whose signature id is
    /// `id`: the minimizer's predicate, on the whole pipeline (prover views included), so a
    /// view divergence is minimized as faithfully as a step.
    pub fn diverges_with(&self, backends: &mut [Box<dyn Backend>], case: &Case, id: &str) -> bool {
        self.run(backends, case, None)
            .divergences
            .iter()
            .any(|d| signature(d, &self.profile.name).id() == id)
    }
}
