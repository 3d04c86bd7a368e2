//! # evmdiff-conformance
//!
//! One conformance suite for every backend, instead of a copy of the same tests per backend:
//!
//! - [`scenario`]: the table of profile behaviours (a program, a profile, a fork and the exact
//!   outcome, with its gas derived by hand once) and [`scenario::check`], which runs one row on
//!   any [`evmdiff_core::Backend`];
//! - [`deviation`]: what a particular backend does instead of a row's expectation, and why
//!   (a deviation that stops occurring fails too, so the table stays true);
//! - [`matrix`]: the conformance matrix of a profile: every rule it names, probed in six
//!   contexts on each backend and judged against the rule's behaviour;
//! - [`planted`]: backends with a planted bug, to show the matrix catches it;
//! - [`fixture`]: the one replay of ethereum/tests GeneralStateTests on a backend, and the
//!   pass-rate floor each backend must hold.
//!
//! It depends on `evmdiff-core` alone, so a team can run it on its own backend crate without
//! building the backends evmdiff ships.

pub mod deviation;
pub mod fixture;
pub mod matrix;
pub mod planted;
pub mod scenario;

pub use deviation::{DEVIATIONS, Deviation, conform};
pub use fixture::{FLOORS, Floor, Tally, replay, spread};
pub use scenario::{Scenario, Verdict, check, find, scenarios};
