//! Where each unit of a generated case came from in the input: the byte ranges the generator
//! read for one action of a program, or for one transaction of a chain.
//!
//! The generator reads its input front to back (`int_in_range`, `choose`, `bytes`: nothing
//! reads from the end), so a unit is a contiguous range, and cutting, copying or moving whole
//! ranges keeps every other unit's bytes meaning what they meant. That is what a
//! structure-aware mutator needs (oracle's `mutator`): a byte libFuzzer inserts or erases
//! shifts every later draw, and the rest of the case changes with it.
//!
//! Recording is off unless [`record`] asks for it, so generation pays one thread-local check
//! per unit. A thread-local rather than a parameter: the builders pass no context through
//! that could carry it, and the generator's signatures stay what the campaigns call.

use std::cell::RefCell;
use std::ops::Range;

use arbitrary::Unstructured;

/// What a recorded range generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// One action of a program (an instruction with its operands, a call, a loop or branch
    /// with the actions inside it, which are recorded too).
    Action,
    /// One transaction of a chain (its fields, and the init code of a creation).
    Transaction,
}

/// One unit and the input bytes it was drawn from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// What it generated.
    pub unit: Unit,
    /// Offsets into the input.
    pub bytes: Range<usize>,
}

thread_local! {
    /// While [`record`] runs: the units so far, as (unit, bytes left before, bytes left after).
    static RECORDING: RefCell<Option<Vec<(Unit, usize, usize)>>> = const { RefCell::new(None) };
}

/// Runs `generate` (which must read an input of `len` bytes) and returns its result with the
/// units it generated, in the order they began (an enclosing action before those inside it).
pub fn record<T>(len: usize, generate: impl FnOnce() -> T) -> (T, Vec<Span>) {
    let outer = RECORDING.with(|r| r.borrow_mut().replace(Vec::new()));
    let out = generate();
    let raw = RECORDING.with(|r| std::mem::replace(&mut *r.borrow_mut(), outer));
    let mut spans: Vec<Span> = raw
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, before, after)| before > after && *before <= len)
        .map(|(unit, before, after)| Span {
            unit,
            bytes: len - before..len - after,
        })
        .collect();
    spans.sort_by_key(|s| (s.bytes.start, std::cmp::Reverse(s.bytes.end)));
    (out, spans)
}

/// Notes a unit that read from `before` bytes left to `after` bytes left.
pub(crate) fn note(unit: Unit, before: usize, after: usize) {
    RECORDING.with(|r| {
        if let Some(v) = r.borrow_mut().as_mut() {
            v.push((unit, before, after));
        }
    });
}

/// Runs `draw` on `u`, noting the bytes it read as one `unit`.
pub(crate) fn unit<'u, T>(
    unit: Unit,
    u: &mut Unstructured<'u>,
    draw: impl FnOnce(&mut Unstructured<'u>) -> arbitrary::Result<T>,
) -> arbitrary::Result<T> {
    let before = u.len();
    let out = draw(u);
    note(unit, before, u.len());
    out
}
