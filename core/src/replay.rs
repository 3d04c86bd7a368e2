//! Steps recorded by another program, replayed as if observed: how an external backend (a
//! worker streaming steps, a state-test runner printing EIP-3155 lines) takes part in the step
//! comparison.
//!
//! An external EVM cannot be paused, so lockstep cannot stop it at the first difference: it
//! runs the whole case, records its steps, and [`replay`] feeds them to the observer, which
//! stops reading at the first difference. The comparator is the same as for two in-process
//! backends, so a divergence with an external EVM is signed by its first differing
//! instruction exactly like one between revm and evm.
//!
//! Tools print their steps with their own conventions; [`canonical`] brings them to evmdiff's
//! ([`Step`]) once, where they enter, so that the comparator never sees a quirk:
//!
//! * the refund: a [`Step`] carries the transaction-wide counter before the instruction, as
//!   geth prints it; the execution spec prints it after the instruction's gas charge
//!   ([`Refund`]);
//! * REVERT marked as an error by the execution spec;
//! * the implicit STOP at the end of a frame's code, which the execution spec and py-evm
//!   report and the others do not ([`Step`]): dropped where the frame's code is known (the
//!   pre-state, the transaction's init code, a CREATE's init code in reported memory);
//! * numbers as JSON numbers or hex or decimal strings, and precompile pseudo-steps: handled
//!   by the reader ([`crate::eip3155::step_line`]);
//! * memory and return data left out for speed: marked [`Omitted`], never compared.

use alloy_primitives::{Address, Bytes, U256};
use serde::{Deserialize, Serialize};

use crate::case::Case;
use crate::eip3155::Line;
use crate::observe::{Flow, Observer, Omitted, Step, StepState};

/// How a tool prints the refund counter of a step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refund {
    /// The transaction-wide counter before the instruction (geth's `evm`, EIP-3155).
    #[default]
    Before,
    /// The transaction-wide counter after the instruction's gas charge (the execution spec's
    /// `statetest --json`).
    After,
    /// Not printed, or not to be compared.
    Omitted,
}

/// The steps of `lines`, recorded by a tool following `refund`, in evmdiff's conventions for
/// the execution of `case`.
pub fn canonical(mut lines: Vec<Line>, case: &Case, refund: Refund) -> Vec<Line> {
    refunds_before(&mut lines, refund);
    for l in &mut lines {
        // The execution spec marks REVERT with an `error` (it ends the frame through an
        // exception); it is no failure, and its cost stands.
        if l.op == 0xfd {
            l.error = None;
        }
    }
    drop_implicit_stops(lines, case)
}

/// Feeds recorded steps to `observer` as a backend would, stopping when it breaks.
pub fn replay(lines: &[Line], observer: &mut dyn Observer) -> Flow {
    for line in lines {
        let omitted = Omitted {
            memory: line.memory.is_none() && line.mem_size > 0,
            return_data: line.return_data.is_none(),
        };
        // Left-out memory stands as zeros of the reported size, so that `memory_size` still
        // compares; its contents are marked omitted and never compared.
        let zeros;
        let memory: &[u8] = match &line.memory {
            Some(m) => m,
            None => {
                zeros = vec![0u8; usize::try_from(line.mem_size).unwrap_or(0)];
                &zeros
            }
        };
        let mut step = Step::new(
            usize::try_from(line.depth).unwrap_or(usize::MAX),
            usize::try_from(line.pc).unwrap_or(usize::MAX),
            u8::try_from(line.op).unwrap_or(0xfe),
            line.gas,
        )
        .with_state(StepState {
            stack: &line.stack,
            memory,
            return_data: line.return_data.as_ref().map_or(&[][..], |b| &b[..]),
            address: Address::ZERO,
        })
        .with_omitted(omitted);
        if let Some(r) = line.refund {
            step = step.with_refund(r);
        }
        if observer.step(&step).is_break() {
            return Flow::Break(());
        }
        // A failing instruction's cost is not compared (see `GasCost`).
        observer.step_end(if line.error.is_some() {
            None
        } else {
            line.gas_cost
        });
    }
    Flow::Continue(())
}

/// Brings the printed refund counters to the transaction-wide counter *before* each
/// instruction (what revm's observer reports and geth prints). The execution spec prints it
/// after the instruction's gas charge: the counter before a step is then the one after the
/// previous step, except on the return from a callee that failed (its refunds are dropped),
/// where it is the one after the caller's CALL or CREATE, recognized by the 0 it leaves on the
/// stack.
fn refunds_before(lines: &mut [Line], refund: Refund) {
    if refund == Refund::Omitted || lines.iter().any(|l| l.refund.is_none()) {
        for l in lines.iter_mut() {
            l.refund = None;
        }
        return;
    }
    if refund == Refund::Before {
        return;
    }
    let printed: Vec<i64> = lines.iter().map(|l| l.refund.unwrap_or(0)).collect();
    // The counter after the last step seen at each depth.
    let mut at_depth: Vec<i64> = Vec::new();
    for i in 0..lines.len() {
        let depth = lines[i].depth as usize;
        let before = match i.checked_sub(1) {
            None => 0,
            Some(p) if (lines[p].depth as usize) <= depth => printed[p],
            Some(p) => {
                let ok = lines[i].stack.last().is_some_and(|top| !top.is_zero());
                if ok {
                    printed[p]
                } else {
                    at_depth.get(depth).copied().unwrap_or(0)
                }
            }
        };
        if at_depth.len() <= depth {
            at_depth.resize(depth + 1, 0);
        }
        at_depth[depth] = printed[i];
        lines[i].refund = Some(before);
    }
}

/// Drops the STOP a tool reports for running off the end of a frame's code, where that code
/// is known.
fn drop_implicit_stops(lines: Vec<Line>, case: &Case) -> Vec<Line> {
    // The code of the frame running at each depth (index depth - 1), when known.
    let mut frames: Vec<Option<Bytes>> = Vec::new();
    let mut kept: Vec<Line> = Vec::with_capacity(lines.len());
    let mut prev: Option<Line> = None;
    for line in lines {
        let depth = line.depth as usize;
        let entered = prev.as_ref().is_none_or(|p| p.depth < line.depth);
        if entered {
            let code = match &prev {
                None => top_code(case),
                Some(p) => callee_code(p, case),
            };
            frames.truncate(depth.saturating_sub(1));
            frames.resize(depth.saturating_sub(1), None);
            frames.push(code);
        }
        let past_end = line.op == 0
            && frames
                .get(depth.wrapping_sub(1))
                .and_then(Option::as_ref)
                .is_some_and(|code| line.pc as usize >= code.len());
        if !past_end {
            kept.push(line.clone());
        }
        prev = Some(line);
    }
    kept
}

/// The code the transaction runs: its target's, or its init code.
fn top_code(case: &Case) -> Option<Bytes> {
    let tx = case.tx()?;
    match tx.to {
        Some(to) => account_code(case, to),
        None => Some(tx.data.clone()),
    }
}

/// The code of the frame a CALL- or CREATE-family step `p` enters.
fn callee_code(p: &Line, case: &Case) -> Option<Bytes> {
    let arg = |n: usize| p.stack.len().checked_sub(n + 1).map(|i| p.stack[i]);
    match p.op {
        // CALL, CALLCODE, DELEGATECALL, STATICCALL: gas, address, ...
        0xf1 | 0xf2 | 0xf4 | 0xfa => {
            let to = Address::from_word(arg(1)?.to_be_bytes().into());
            account_code(case, to)
        }
        // CREATE, CREATE2: value, offset, size, ...; the init code is in memory.
        0xf0 | 0xf5 => {
            let memory = p.memory.as_ref()?;
            let (offset, size) = (small(arg(1)?)?, small(arg(2)?)?);
            let mut code = vec![0u8; size];
            let end = offset.saturating_add(size).min(memory.len());
            if offset < end {
                code[..end - offset].copy_from_slice(&memory[offset..end]);
            }
            Some(code.into())
        }
        _ => None,
    }
}

/// An account's code in the pre-state, through an EIP-7702 delegation.
fn account_code(case: &Case, address: Address) -> Option<Bytes> {
    let code = case.pre.get(&address).map(|a| a.code.clone());
    match code {
        // Not in the pre-state: created by the transaction, code unknown here.
        None => None,
        Some(c) if c.len() == 23 && c.starts_with(&[0xef, 0x01, 0x00]) => {
            let target = Address::from_slice(&c[3..]);
            Some(
                case.pre
                    .get(&target)
                    .map(|a| a.code.clone())
                    .unwrap_or_default(),
            )
        }
        c => c,
    }
}

fn small(v: U256) -> Option<usize> {
    usize::try_from(v).ok()
}
