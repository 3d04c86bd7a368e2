//! The execution-witness view of a prover: what a transaction read from the pre-state, and a
//! stateless re-execution that is given nothing else.
//!
//! A stateless client or a zk prover does not hold the state: it is handed the accounts,
//! slots, codes and block hashes the block reads (with their proofs) and re-executes against
//! them alone. If a backend's witness misses an entry, the re-execution sees an absent account
//! or a zero slot where the real one is not, and its outcome changes; if it holds an entry the
//! execution did not need, a prover pays for proving it. So each backend's witness is checked
//! twice: against the backend's own stateless re-execution (which must reproduce the outcome
//! exactly), and against the other backends' witnesses (entries only one of them read).
//!
//! Accounts and slots come from the backend itself ([`Observer::read`]: what it loaded from
//! its state database). Block hashes come from the backend's steps (the BLOCKHASH calls it made
//! for the 256 blocks that have one), since both in-process backends compute them without a
//! database lookup.

use std::collections::BTreeSet;

use alloy_consensus::Header;
use alloy_primitives::{Address, U256};
use serde::Serialize;

use crate::backend::{Backend, BackendError};
use crate::case::{At, Case};
use crate::compare::{Difference, compare_chains};
use crate::field::{Field, Side, WitnessEntry};
use crate::observe::{Flow, Observer, StateRead, Step};
use crate::outcome::{ChainOutcome, Outcome};
use crate::profile::Profile;
use crate::state::State;

/// BLOCKHASH.
const BLOCKHASH: u8 = 0x40;

/// What one execution read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Witness {
    /// Accounts read (existing or proven absent).
    pub accounts: BTreeSet<Address>,
    /// Storage slots read.
    pub storage: BTreeSet<(Address, U256)>,
    /// Block numbers whose hash was read.
    pub block_hashes: BTreeSet<u64>,
}

/// Collects a [`Witness`] while a backend executes.
struct Collector<'a> {
    witness: Witness,
    /// The case, for the number of the block being executed.
    case: &'a Case,
    /// The block being executed: BLOCKHASH answers for the 256 before it.
    number: U256,
    /// The pre-state: a slot of an account absent from it needs no entry of its own (the
    /// account's absence proves every slot empty), whether or not the backend looked.
    pre: &'a State,
}

impl Observer for Collector<'_> {
    fn wants_state(&self) -> bool {
        true
    }

    fn wants_reads(&self) -> bool {
        true
    }

    fn transaction(&mut self, at: At) {
        if let Some(b) = self.case.blocks.get(at.block) {
            self.number = b.env.number;
        }
    }

    fn step(&mut self, step: &Step<'_>) -> Flow {
        if step.opcode == BLOCKHASH
            && let Some(&n) = step.state.as_ref().and_then(|s| s.stack.last())
            && n < self.number
            && self.number - n <= U256::from(256)
        {
            self.witness.block_hashes.insert(n.to::<u64>());
        }
        Flow::Continue(())
    }

    fn read(&mut self, read: StateRead) {
        match read {
            StateRead::Account(a) => {
                self.witness.accounts.insert(a);
            }
            StateRead::Storage(a, slot) => {
                self.witness.accounts.insert(a);
                if self.pre.contains_key(&a) {
                    self.witness.storage.insert((a, slot));
                }
            }
        }
    }
}

/// Executes `case` on `backend`, returning its outcome and what it read.
pub fn collect(
    backend: &mut dyn Backend,
    case: &Case,
    profile: &Profile,
) -> Result<(ChainOutcome, Witness), BackendError> {
    let mut c = Collector {
        witness: Witness::default(),
        case,
        number: case.env().map(|e| e.number).unwrap_or_default(),
        pre: &case.pre,
    };
    let outcome = backend.execute_observed(case, profile, &mut c)?;
    Ok((outcome, c.witness))
}

/// `case` with a pre-state of nothing but `witness`'s accounts and slots, and in a chain the
/// headers from the oldest one BLOCKHASH read: what a stateless executor holds.
pub fn stateless_case(case: &Case, witness: &Witness) -> Case {
    let mut pre = State::new();
    for a in &witness.accounts {
        if let Some(acc) = case.pre.get(a) {
            let mut acc = acc.clone();
            acc.storage
                .retain(|slot, _| witness.storage.contains(&(*a, *slot)));
            pre.insert(*a, acc);
        }
    }
    Case {
        pre,
        ancestors: witness.ancestors_read(case).cloned().collect(),
        expect: None,
        ..case.clone()
    }
}

/// The full post-state implied by a stateless post-state, next to `full` (the execution with
/// the whole state): the accounts the witness did not hold are untouched (as in the
/// pre-state); an account the witness held that is absent after the stateless run was deleted
/// (or never existed); the slots the witness did not hold of an account it did are what the
/// stateless run cannot know, taken from `full`: untouched, or all cleared at once when the
/// account was destroyed and made anew (a stateless client clears a destroyed account's
/// storage without reading it).
pub fn completed(
    case: &Case,
    witness: &Witness,
    stateless: &ChainOutcome,
    full: &ChainOutcome,
) -> ChainOutcome {
    let mut out = stateless.clone();
    for (b, block) in out.blocks.iter_mut().enumerate() {
        let full = full.blocks.get(b);
        for (t, tx) in block.txs.iter_mut().enumerate() {
            let beside = full.and_then(|f| f.txs.get(t)).map(|o| &o.post);
            *tx = completed_tx(case, witness, tx, beside);
        }
        if let Some(end) = &mut block.end {
            let beside = full.and_then(|f| f.end.as_ref()).map(|e| &e.post);
            *end = crate::outcome::BlockEnd::new(
                completed_state(case, witness, &end.post, beside),
                end.gas_used,
            );
        }
    }
    out
}

/// One transaction's outcome, completed.
fn completed_tx(
    case: &Case,
    witness: &Witness,
    stateless: &Outcome,
    full: Option<&State>,
) -> Outcome {
    Outcome::new(
        stateless.status,
        stateless.gas_used,
        stateless.refund,
        stateless.output.clone(),
        stateless.logs.clone(),
        completed_state(case, witness, &stateless.post, full),
        stateless.detail.clone(),
    )
}

/// A stateless state, completed with what the witness left out of the pre-state.
fn completed_state(
    case: &Case,
    witness: &Witness,
    stateless: &State,
    full: Option<&State>,
) -> State {
    let mut post = case.pre.clone();
    for a in &witness.accounts {
        let before = post.remove(a);
        if let Some(after) = stateless.get(a) {
            let mut acc = after.clone();
            let unheld = |slot: &U256| !witness.storage.contains(&(*a, *slot));
            match full.map(|f| f.get(a)) {
                Some(beside) => {
                    let slots = beside.into_iter().flat_map(|f| &f.storage);
                    for (slot, value) in slots.filter(|(s, _)| unheld(s)) {
                        acc.storage.entry(*slot).or_insert(*value);
                    }
                }
                None => {
                    let slots = before.into_iter().flat_map(|b| b.storage);
                    for (slot, value) in slots.filter(|(s, _)| unheld(s)) {
                        acc.storage.entry(slot).or_insert(value);
                    }
                }
            }
            post.insert(*a, acc);
        }
    }
    // Accounts created by the transaction that the backend never loaded (none should be).
    for (a, acc) in stateless {
        post.entry(*a).or_insert_with(|| acc.clone());
    }
    post
}

/// Re-executes `case` on `backend` with only `witness` as its state and compares the result,
/// completed with the state the witness left out, to `full` (the outcome with the whole
/// state). An empty list means the witness is sufficient; each difference is named
/// `stateless.<field>`.
pub fn check_stateless(
    backend: &mut dyn Backend,
    case: &Case,
    profile: &Profile,
    full: &ChainOutcome,
    witness: &Witness,
) -> Result<Vec<Difference>, BackendError> {
    let stateless = backend.execute(&stateless_case(case, witness), profile)?;
    let completed = completed(case, witness, &stateless, full);
    Ok(compare_chains(full, &completed)
        .map(|(_, d)| d)
        .unwrap_or_default()
        .into_iter()
        .map(|d| Difference {
            field: Field::Stateless(Box::new(d.field)),
            ..d
        })
        .collect())
}

impl Witness {
    /// The headers before `case`'s genesis (its block's parent) that a stateless executor
    /// needs: from the oldest one whose hash was read, so that each is proven by the
    /// `parentHash` of the next.
    pub fn ancestors_read<'a>(&self, case: &'a Case) -> impl Iterator<Item = &'a Header> {
        let oldest = self.block_hashes.first().copied();
        case.ancestors
            .iter()
            .filter(move |h| oldest.is_some_and(|n| h.number >= n))
    }

    /// The entries both witnesses hold.
    pub fn intersection(&self, other: &Witness) -> Witness {
        Witness {
            accounts: self
                .accounts
                .intersection(&other.accounts)
                .copied()
                .collect(),
            storage: self.storage.intersection(&other.storage).copied().collect(),
            block_hashes: self
                .block_hashes
                .intersection(&other.block_hashes)
                .copied()
                .collect(),
        }
    }
}

/// The entries one witness holds and the other does not, as differences named
/// `witness.left-only.account[..]`, `witness.right-only.storage[..][..]`,
/// `witness.left-only.block_hash[..]` (values `read` or `-`), so that a signature tells
/// which side reads more. They are unclassified ([`Field::Witness`]'s `class` is `None`) until
/// a stateless re-execution tells whether the side needed them.
pub fn compare_witnesses(left: &Witness, right: &Witness) -> Vec<Difference> {
    fn entries<T: Ord>(
        out: &mut Vec<Difference>,
        l: &BTreeSet<T>,
        r: &BTreeSet<T>,
        entry: impl Fn(&T) -> WitnessEntry,
    ) {
        for x in l.symmetric_difference(r) {
            let (side, left, right) = if l.contains(x) {
                (Side::Left, "read", "-")
            } else {
                (Side::Right, "-", "read")
            };
            out.push(Difference {
                field: Field::Witness {
                    side,
                    class: None,
                    entry: entry(x),
                },
                left: left.into(),
                right: right.into(),
            });
        }
    }
    let mut out = Vec::new();
    entries(&mut out, &left.accounts, &right.accounts, |a| {
        WitnessEntry::Account(*a)
    });
    entries(&mut out, &left.storage, &right.storage, |(a, s)| {
        WitnessEntry::Storage(*a, *s)
    });
    entries(&mut out, &left.block_hashes, &right.block_hashes, |n| {
        WitnessEntry::BlockHash(*n)
    });
    out
}
