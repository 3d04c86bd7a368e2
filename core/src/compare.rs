//! Comparison of two outcomes, field by field, into a list of differences.
//!
//! Nothing here knows any backend: quirks are normalized in the adapters, so a difference
//! found here is a difference in behaviour.

use std::collections::BTreeSet;
use std::fmt;

use alloy_primitives::Address;
use serde::Serialize;

use crate::case::At;
use crate::field::Field;
use crate::lockstep::StepDifference;
use crate::outcome::{BlockEnd, ChainOutcome, Outcome, Status};
use crate::state::Account;
use crate::state::State;

/// One field on which two outcomes differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The field (serialized as its text: `status`, `gas_used`, `state[0x..].balance`, ...).
    pub field: Field,
    /// Left backend's value, rendered.
    pub left: String,
    /// Right backend's value, rendered.
    pub right: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} vs {}", self.field, self.left, self.right)
    }
}

/// Two backends that disagree, and on what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Divergence {
    /// The reference backend of the pair (the first in the list that produced an outcome).
    pub left: String,
    /// The other backend.
    pub right: String,
    /// Where in the case the outcomes first differ: the block and transaction (`None` for a
    /// state test, whose one transaction is the only place).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<At>,
    /// The differing fields, there.
    pub differences: Vec<Difference>,
    /// The first executed step at which the two backends part, once localized (see
    /// [`lockstep`](crate::lockstep)); `None` before localization or when every step agrees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<StepDifference>,
}

fn diff<T: PartialEq + fmt::Debug>(out: &mut Vec<Difference>, field: Field, a: &T, b: &T) {
    if a != b {
        out.push(Difference {
            field,
            left: format!("{a:?}"),
            right: format!("{b:?}"),
        });
    }
}

/// The first place two backends' results on a case differ, and every difference there:
/// transaction by transaction in order, each block's end (its state after withdrawals and
/// system calls, and its gas) after its transactions. Later transactions are not compared
/// once one differs: what follows the first difference inherits it. `None` when they agree.
pub fn compare_chains(a: &ChainOutcome, b: &ChainOutcome) -> Option<(At, Vec<Difference>)> {
    for (i, (x, y)) in a.blocks.iter().zip(&b.blocks).enumerate() {
        for (t, (p, q)) in x.txs.iter().zip(&y.txs).enumerate() {
            let d = compare(p, q);
            if !d.is_empty() {
                return Some((
                    At {
                        block: i,
                        tx: Some(t),
                    },
                    d,
                ));
            }
        }
        let at = At { block: i, tx: None };
        if x.txs.len() != y.txs.len() {
            return Some((
                at,
                vec![Difference {
                    field: Field::Transactions,
                    left: x.txs.len().to_string(),
                    right: y.txs.len().to_string(),
                }],
            ));
        }
        let ending = |b: &crate::outcome::BlockOutcome| match (&b.invalid, &b.end) {
            (Some(why), _) => format!("invalid: {why}"),
            (None, Some(_)) => "valid".to_string(),
            (None, None) => "no block processing".to_string(),
        };
        let d = match (&x.end, &y.end) {
            (Some(e), Some(f)) => compare_ends(e, f),
            (None, None) if x.invalid.is_some() == y.invalid.is_some() => Vec::new(),
            _ => vec![Difference {
                field: Field::Blocks,
                left: ending(x),
                right: ending(y),
            }],
        };
        if !d.is_empty() {
            return Some((at, d));
        }
    }
    (a.blocks.len() != b.blocks.len()).then(|| {
        let block = a.blocks.len().min(b.blocks.len());
        (
            At { block, tx: None },
            vec![Difference {
                field: Field::Blocks,
                left: a.blocks.len().to_string(),
                right: b.blocks.len().to_string(),
            }],
        )
    })
}

/// The differences of two blocks' ends: gas, then every account. Their roots are not
/// compared: equal states have equal roots (a zero slot is absent from both the comparison and
/// the trie), so a root is computed only where it is read ([`BlockEnd::state_root`]).
fn compare_ends(a: &BlockEnd, b: &BlockEnd) -> Vec<Difference> {
    let mut out = Vec::new();
    diff(&mut out, Field::BlockGasUsed, &a.gas_used, &b.gas_used);
    state_diff(&mut out, &a.post, &b.post);
    out
}

/// Every observable difference between `a` and `b`. Empty means the outcomes agree. The roots
/// of two complete outcomes are functions of their states and logs, which are compared, so
/// they are not computed here ([`Outcome::state_root`] computes one where it is read).
///
/// Two exceptional halts of different [`HaltClass`](crate::HaltClass) count as the same status
/// here: every exceptional halt consumes all gas and undoes all state, so the class cannot be
/// observed in the state, the logs or by a caller. The class is compared separately by
/// [`halt_class_difference`].
///
/// When either side observed less than everything (a state-test runner, [`Scope`](crate::outcome::Scope)), only the
/// kind of ending, the output and the state root are compared.
pub fn compare(a: &Outcome, b: &Outcome) -> Vec<Difference> {
    if a.scope.is_receipt() || b.scope.is_receipt() {
        return compare_receipts(a, b);
    }
    let mut out = Vec::new();
    if !a.status.same_kind(&b.status) {
        out.push(Difference {
            field: Field::Status,
            left: a.status.to_string(),
            right: b.status.to_string(),
        });
    }
    if !(a.scope.is_full() && b.scope.is_full()) {
        diff(&mut out, Field::Output, &a.output, &b.output);
        diff(&mut out, Field::StateRoot, &a.state_root(), &b.state_root());
        return out;
    }
    diff(&mut out, Field::GasUsed, &a.gas_used, &b.gas_used);
    diff(&mut out, Field::Refund, &a.refund, &b.refund);
    diff(&mut out, Field::Output, &a.output, &b.output);
    if a.logs != b.logs {
        diff(&mut out, Field::Logs, &a.logs, &b.logs);
    }
    state_diff(&mut out, &a.post, &b.post);
    out
}

/// Two outcomes of which one is a receipt: success or failure (a receipt does not tell a
/// revert from a halt) or refusal, gas used and logs, and the state when both hold it.
fn compare_receipts(a: &Outcome, b: &Outcome) -> Vec<Difference> {
    let mut out = Vec::new();
    let ending = |o: &Outcome| match o.status {
        Status::Success => "success",
        Status::Rejected => "rejected",
        Status::Revert | Status::Halt(_) => "failure",
    };
    if ending(a) != ending(b) {
        out.push(Difference {
            field: Field::Status,
            left: ending(a).into(),
            right: ending(b).into(),
        });
    }
    diff(&mut out, Field::GasUsed, &a.gas_used, &b.gas_used);
    if a.logs != b.logs {
        diff(&mut out, Field::Logs, &a.logs, &b.logs);
    }
    if a.scope.has_state() && b.scope.has_state() {
        state_diff(&mut out, &a.post, &b.post);
    }
    out
}

/// Every account and slot on which two states differ.
fn state_diff(out: &mut Vec<Difference>, a: &State, b: &State) {
    let addresses: BTreeSet<&Address> = a.keys().chain(b.keys()).collect();
    for addr in addresses {
        match (a.get(addr), b.get(addr)) {
            (Some(x), Some(y)) => account_diff(out, addr, x, y),
            (x, y) => out.push(Difference {
                field: Field::Account(*addr),
                left: if x.is_some() {
                    "exists".into()
                } else {
                    "absent".into()
                },
                right: if y.is_some() {
                    "exists".into()
                } else {
                    "absent".into()
                },
            }),
        }
    }
}

/// The halt classes of two outcomes that both halted exceptionally, when they differ: a
/// difference in how two implementations name an error, invisible in state but visible to a
/// prover that proves a specific error path.
pub fn halt_class_difference(a: &Outcome, b: &Outcome) -> Option<Difference> {
    if !(a.scope.is_full() && b.scope.is_full()) {
        return None;
    }
    match (a.status, b.status) {
        (Status::Halt(x), Status::Halt(y)) if x != y => Some(Difference {
            field: Field::HaltClass,
            left: a.status.to_string(),
            right: b.status.to_string(),
        }),
        _ => None,
    }
}

/// The first transaction at which two chain outcomes halt with different halt classes (see
/// [`halt_class_difference`]), among the transactions before their first divergence.
pub fn chain_halt_class_difference(a: &ChainOutcome, b: &ChainOutcome) -> Option<(At, Difference)> {
    for (i, (x, y)) in a.blocks.iter().zip(&b.blocks).enumerate() {
        for (t, (p, q)) in x.txs.iter().zip(&y.txs).enumerate() {
            if let Some(d) = halt_class_difference(p, q) {
                let at = At {
                    block: i,
                    tx: Some(t),
                };
                return Some((at, d));
            }
            if !compare(p, q).is_empty() {
                return None;
            }
        }
    }
    None
}

fn account_diff(out: &mut Vec<Difference>, addr: &Address, a: &Account, b: &Account) {
    diff(out, Field::Balance(*addr), &a.balance, &b.balance);
    diff(out, Field::Nonce(*addr), &a.nonce, &b.nonce);
    diff(out, Field::Code(*addr), &a.code, &b.code);
    let slots: BTreeSet<_> = a.storage.keys().chain(b.storage.keys()).collect();
    for slot in slots {
        let zero = Default::default();
        diff(
            out,
            Field::Storage(*addr, *slot),
            a.storage.get(slot).unwrap_or(&zero),
            b.storage.get(slot).unwrap_or(&zero),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::HaltClass;
    use crate::state::State;
    use alloy_primitives::{Bytes, U256};

    fn outcome(status: Status, gas: u64, post: State) -> Outcome {
        Outcome::new(status, gas, 0, Bytes::new(), vec![], post, String::new())
    }

    #[test]
    fn equal_outcomes_have_no_difference_and_details_are_ignored() {
        let mut a = outcome(Status::Halt(HaltClass::InvalidOpcode), 100, State::new());
        let b = a.clone();
        a.detail = "NotActivated".into();
        assert!(compare(&a, &b).is_empty());
    }

    #[test]
    fn halt_classes_are_compared_apart_from_the_status() {
        let a = outcome(Status::Halt(HaltClass::StackOverflow), 100, State::new());
        let b = outcome(Status::Halt(HaltClass::StackUnderflow), 100, State::new());
        assert!(compare(&a, &b).is_empty());
        let d = halt_class_difference(&a, &b).unwrap();
        assert_eq!(
            d.to_string(),
            "halt_class: halt(stack-overflow) vs halt(stack-underflow)"
        );
        let c = outcome(Status::Revert, 100, State::new());
        assert_eq!(compare(&a, &c)[0].field, Field::Status);
        assert!(halt_class_difference(&a, &c).is_none());
    }

    #[test]
    fn differences_name_the_field() {
        let mut post = State::new();
        let addr = Address::with_last_byte(1);
        post.insert(
            addr,
            Account {
                balance: U256::from(5),
                ..Default::default()
            },
        );
        let a = outcome(Status::Success, 100, post.clone());
        post.get_mut(&addr)
            .unwrap()
            .storage
            .insert(U256::from(1), U256::from(2));
        let b = outcome(Status::Revert, 90, post);
        let fields: Vec<_> = compare(&a, &b)
            .into_iter()
            .map(|d| d.field.to_string())
            .collect();
        assert_eq!(
            fields,
            vec![
                "status".to_string(),
                "gas_used".into(),
                format!("state[{addr}].storage[0x1]")
            ]
        );
    }
}
