//! The conformance matrix of every built-in profile on every in-process backend, and what it
//! shows of a backend that ignores a profile.

use evmdiff_adapters::Registry;
use evmdiff_conformance::matrix::{self, Context, Item, Matrix, Says, State};
use evmdiff_conformance::planted::IgnoresProfile;
use evmdiff_conformance::scenario::Verdict;
use evmdiff_core::profile::builtin_names;
use evmdiff_core::{Backend, Behaviour, Profile};

const IN_PROCESS: [&str; 3] = ["revm", "evm", "levm"];

fn matrix_of(profile: &Profile, backends: Vec<Box<dyn Backend>>) -> Matrix {
    let mut backends = backends;
    matrix::run(profile, &mut backends, |_, _| {})
}

#[test]
fn every_builtin_profile_behaves_on_every_in_process_backend() {
    let registry = Registry::builtin();
    let mut failures = Vec::new();
    for name in builtin_names() {
        let profile = Profile::load(name).unwrap();
        let backends = IN_PROCESS
            .iter()
            .map(|b| registry.make(b).unwrap())
            .collect();
        let m = matrix_of(&profile, backends);
        for (i, col) in m.columns.iter().enumerate() {
            let states: Vec<State> = m.rows.iter().map(|r| r.cells[i].state()).collect();
            // A backend that can run the profile runs every probe: none sits out silently.
            if col.sits_out.is_none() {
                assert!(
                    !states.contains(&State::SitsOut),
                    "{name}: {} sat out a row",
                    col.name
                );
            } else {
                assert!(states.iter().all(|s| *s == State::SitsOut));
            }
            for row in &m.rows {
                for (c, v) in &row.cells[i].verdicts {
                    if let Verdict::Fail(why) = v {
                        failures.push(format!(
                            "{name} {} {} {}: {why}",
                            col.name,
                            row.rule.name,
                            c.name()
                        ));
                    }
                }
            }
        }
        // revm runs every fork: it is in every matrix.
        assert!(m.columns[0].sits_out.is_none(), "{name}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_backend_that_ignores_the_profile_differs_on_every_rule_in_every_context() {
    let registry = Registry::builtin();
    let mut checked = 0;
    for name in builtin_names() {
        let profile = Profile::load(name).unwrap();
        let m = matrix_of(
            &profile,
            vec![Box::new(IgnoresProfile(registry.make("revm").unwrap()))],
        );
        for row in &m.rows {
            let cell = &row.cells[0];
            if row.rule.says == Says::AsBaseFork {
                assert_eq!(cell.state(), State::Behaves, "{name} {}", row.rule.name);
                continue;
            }
            // Under STATICCALL the base fork halts on a state change itself: an `invalid`
            // SELFDESTRUCT looks the same there.
            let same_there: &[Context] = match (row.rule.item, row.rule.says) {
                (Item::Opcode(0xff), Says::Behaviour(Behaviour::Invalid)) => &[Context::StaticCall],
                _ => &[],
            };
            let differing: Vec<Context> = Context::ALL
                .into_iter()
                .filter(|c| !same_there.contains(c))
                .collect();
            assert_eq!(
                cell.contexts(false),
                differing,
                "{name} {}: {:?}",
                row.rule.name,
                cell.verdicts
            );
            assert_eq!(cell.failed.len(), differing.len());
            checked += 1;
        }
    }
    // eip7530-a/b, scroll, polygon-zkevm and linea name some thirty rules between them.
    assert!(checked >= 30, "{checked}");
}

/// The inputs the probes call precompiles with are ones the base fork accepts (with output,
/// but for ecrecover's unrecoverable signature), so a rule that is ignored cannot hide behind
/// a failure the base fork would give anyway.
#[test]
fn the_probe_inputs_succeed_on_the_base_fork() {
    use evmdiff_conformance::matrix::rule::valid_input;
    use evmdiff_conformance::scenario::{ProfileSpec, Scenario, Target};
    use evmdiff_core::precompile::Precompile;
    use evmdiff_core::{Fork, Status};
    let mut revm = Registry::builtin().make("revm").unwrap();
    let osaka = Profile::mainnet(Fork::Osaka);
    for p in Precompile::active_in(Fork::Osaka) {
        let case = Scenario::new("input", ProfileSpec::Mainnet, Fork::Osaka)
            .to(Target::Account(p.address))
            .data(valid_input(&p.address))
            .case();
        let o = revm.execute(&case, &osaka).unwrap().into_last_tx().unwrap();
        assert_eq!(o.status, Status::Success, "{}: {}", p.name, o.detail);
        if p.name != "ecrecover" {
            assert!(!o.output.is_empty(), "{}", p.name);
        }
    }
}
