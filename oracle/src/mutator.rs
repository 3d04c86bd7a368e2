//! A structure-aware mutator for the case targets (libFuzzer's custom mutator, wired in
//! `fuzz/src/lib.rs`).
//!
//! libFuzzer mutates bytes; the generator reads its input as a sequence of draws, so a byte
//! inserted or erased shifts every later draw and the rest of the program changes with it.
//! This mutator edits whole units instead, the ranges [`evmdiff_generator::spans`] records for
//! each action of a program and each transaction of a chain: it deletes one, repeats one,
//! copies one elsewhere, swaps two, draws one afresh, or lets libFuzzer mutate the bytes of
//! just one, and every other unit keeps the bytes that made it. A share of the mutations stays
//! libFuzzer's own on the whole input, which keeps its dictionary, its comparison-guided
//! mutations and its cross-over with other corpus inputs at work.
//!
//! Edits are a function of the input, its spans and the seed libFuzzer passes: the same seed
//! makes the same mutant, as libFuzzer's `-seed` promises.

use std::ops::Range;

use evmdiff_generator::spans::Span;

/// One structural edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    Delete,
    Repeat,
    Copy,
    Swap,
    Redraw,
    Retouch,
}

const EDITS: [Edit; 6] = [
    Edit::Delete,
    Edit::Repeat,
    Edit::Copy,
    Edit::Swap,
    Edit::Redraw,
    Edit::Retouch,
];

/// One mutation in this many is libFuzzer's own, on the whole input.
const BYTE_MUTATION_ONE_IN: usize = 3;

/// libFuzzer's own mutator, as `LLVMFuzzerMutate`: mutates the first `size` bytes of the
/// buffer in place into at most `max_size` (the buffer's length) and returns the new length.
pub type ByteMutator<'a> = &'a mut dyn FnMut(&mut [u8], usize, usize) -> usize;

/// Mutates `data` (whose units are `spans`) into at most `max_size` bytes (libFuzzer asks for
/// fewer than it gives when it shrinks inputs).
pub fn mutate(
    data: &[u8],
    spans: &[Span],
    max_size: usize,
    seed: u32,
    bytes: ByteMutator<'_>,
) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(u64::from(seed));
    if spans.is_empty() || rng.usize(..BYTE_MUTATION_ONE_IN) == 0 {
        return by_bytes(data, max_size, bytes);
    }
    let a = &spans[rng.usize(..spans.len())];
    let out = match EDITS[rng.usize(..EDITS.len())] {
        Edit::Delete => splice(data, a.bytes.clone(), &[]),
        Edit::Repeat => splice(data, a.bytes.end..a.bytes.end, &data[a.bytes.clone()]),
        Edit::Copy => {
            let b = like(spans, a, &mut rng);
            splice(data, b.bytes.start..b.bytes.start, &data[a.bytes.clone()])
        }
        Edit::Swap => {
            let b = like(spans, a, &mut rng);
            swap(data, a.bytes.clone(), b.bytes.clone()).unwrap_or_else(|| data.to_vec())
        }
        Edit::Redraw => {
            let fresh: Vec<u8> = (0..a.bytes.len()).map(|_| rng.u8(..)).collect();
            splice(data, a.bytes.clone(), &fresh)
        }
        Edit::Retouch => {
            let unit = &data[a.bytes.clone()];
            let room = max_size.saturating_sub(data.len() - unit.len());
            let touched = by_bytes(unit, room.max(1), bytes);
            splice(data, a.bytes.clone(), &touched)
        }
    };
    if out == data || out.len() > max_size {
        return by_bytes(data, max_size, bytes);
    }
    out
}

/// libFuzzer's mutation of `data` as a whole.
fn by_bytes(data: &[u8], max_size: usize, bytes: ByteMutator<'_>) -> Vec<u8> {
    let data = &data[..data.len().min(max_size)];
    let mut buf = data.to_vec();
    buf.resize(max_size.max(1), 0);
    let len = bytes(&mut buf, data.len(), max_size.max(1)).min(max_size);
    buf.truncate(len);
    buf
}

/// Another unit of the same kind as `a` (or `a` itself when it is the only one).
fn like<'s>(spans: &'s [Span], a: &'s Span, rng: &mut fastrand::Rng) -> &'s Span {
    let same: Vec<&Span> = spans.iter().filter(|s| s.unit == a.unit).collect();
    same[rng.usize(..same.len())]
}

/// `data` with `range` replaced by `with`.
fn splice(data: &[u8], range: Range<usize>, with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() - range.len() + with.len());
    out.extend_from_slice(&data[..range.start]);
    out.extend_from_slice(with);
    out.extend_from_slice(&data[range.end..]);
    out
}

/// `data` with the disjoint ranges `a` and `b` exchanged; `None` when they overlap (a unit
/// and one inside it).
fn swap(data: &[u8], a: Range<usize>, b: Range<usize>) -> Option<Vec<u8>> {
    let (first, second) = if a.start <= b.start { (a, b) } else { (b, a) };
    if first.end > second.start {
        return None;
    }
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&data[..first.start]);
    out.extend_from_slice(&data[second.clone()]);
    out.extend_from_slice(&data[first.end..second.start]);
    out.extend_from_slice(&data[first]);
    out.extend_from_slice(&data[second.end..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use evmdiff_generator::spans::Unit;

    fn span(unit: Unit, bytes: Range<usize>) -> Span {
        Span { unit, bytes }
    }

    #[test]
    fn swap_exchanges_disjoint_ranges_and_refuses_nested_ones() {
        let data = b"aaXbbbY";
        assert_eq!(swap(data, 0..2, 3..6).unwrap(), b"bbbXaaY");
        assert_eq!(swap(data, 3..6, 0..2).unwrap(), b"bbbXaaY");
        assert!(swap(data, 0..6, 3..6).is_none());
    }

    #[test]
    fn every_edit_keeps_the_bytes_outside_the_units_it_touches() {
        // Two actions with a gap between them: whatever the seed, the gap's byte survives
        // (a swap or copy moves it, never rewrites it) unless libFuzzer's mutation ran.
        let data = b"AAAA-BBBB.".to_vec();
        let spans = [span(Unit::Action, 0..4), span(Unit::Action, 5..9)];
        let mut structural = 0;
        for seed in 0..200 {
            let mut byte_mutation = false;
            let out = mutate(&data, &spans, 64, seed, &mut |buf, size, _| {
                byte_mutation = true;
                buf[0] ^= 1;
                size
            });
            assert!(out.len() <= 64);
            if !byte_mutation {
                structural += 1;
                assert!(
                    out.contains(&b'-'),
                    "seed {seed}: {:?}",
                    String::from_utf8_lossy(&out)
                );
                assert_ne!(out, data, "seed {seed}");
            }
        }
        assert!(
            structural > 100,
            "only {structural} structural edits in 200"
        );
    }

    #[test]
    fn generated_cases_are_cut_into_units_that_edits_keep_apart() {
        use crate::fuzz_target::{Cases, case_from, spans_of};
        let profile = evmdiff_core::Profile::load("mainnet-cancun").unwrap();
        let (mut actions, mut transactions, mut changed, mut valid) = (0, 0, 0, 0);
        for index in 0..60 {
            let data = evmdiff_generator::input_bytes(3, index);
            for cases in [Cases::Any, Cases::Chains] {
                let spans = spans_of(&data, &profile, cases);
                for s in &spans {
                    assert!(
                        s.bytes.start < s.bytes.end && s.bytes.end <= data.len(),
                        "{s:?}"
                    );
                }
                // Units nest or are disjoint: a program's actions never straddle each other.
                for (i, a) in spans.iter().enumerate() {
                    for b in &spans[i + 1..] {
                        let disjoint = a.bytes.end <= b.bytes.start;
                        let nested = b.bytes.end <= a.bytes.end;
                        assert!(disjoint || nested, "{a:?} and {b:?} overlap");
                    }
                }
                actions += spans.iter().filter(|s| s.unit == Unit::Action).count();
                transactions += spans.iter().filter(|s| s.unit == Unit::Transaction).count();
                // Deleting the first unit changes the case and leaves one to run.
                if let Some(first) = spans.first() {
                    let cut = splice(&data, first.bytes.clone(), &[]);
                    let (before, after) = (
                        case_from(&data, &profile, cases),
                        case_from(&cut, &profile, cases),
                    );
                    valid += usize::from(after.is_some());
                    changed += usize::from(before != after);
                }
            }
        }
        assert!(actions > 500, "{actions} actions");
        assert!(transactions > 60, "{transactions} transactions");
        assert!(
            valid > 100 && changed > 100,
            "{valid} valid, {changed} changed of 120"
        );
    }
}
