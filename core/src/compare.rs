//! Comparison of two outcomes, field by field, into a list of differences.
//!
//! Nothing here knows any backend: quirks are normalized in the adapters, so a difference
//! found here is a difference in behaviour.

use std::collections::BTreeSet;
use std::fmt;

use alloy_primitives::Address;
use serde::Serialize;

use crate::field::Field;
use crate::lockstep::StepDifference;
use crate::outcome::{Outcome, Status};
use crate::state::Account;

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
    /// The differing fields.
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

/// Every observable difference between `a` and `b`. Empty means the outcomes agree. The roots
/// are derived from the state and logs, so they are only reported when nothing more precise
/// differs.
///
/// Two exceptional halts of different [`HaltClass`](crate::HaltClass) count as the same status
/// here: every exceptional halt consumes all gas and undoes all state, so the class cannot be
/// observed in the state, the logs or by a caller. The class is compared separately by
/// [`halt_class_difference`].
///
/// When either side observed less than everything (a state-test runner, [`Scope`](crate::outcome::Scope)), only the
/// kind of ending, the output and the state root are compared.
pub fn compare(a: &Outcome, b: &Outcome) -> Vec<Difference> {
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
        diff(&mut out, Field::StateRoot, &a.state_root, &b.state_root);
        return out;
    }
    diff(&mut out, Field::GasUsed, &a.gas_used, &b.gas_used);
    diff(&mut out, Field::Refund, &a.refund, &b.refund);
    diff(&mut out, Field::Output, &a.output, &b.output);
    if a.logs != b.logs {
        diff(&mut out, Field::Logs, &a.logs, &b.logs);
    }
    let addresses: BTreeSet<&Address> = a.post.keys().chain(b.post.keys()).collect();
    for addr in addresses {
        match (a.post.get(addr), b.post.get(addr)) {
            (Some(x), Some(y)) => account_diff(&mut out, addr, x, y),
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
    if out.is_empty() {
        diff(&mut out, Field::StateRoot, &a.state_root, &b.state_root);
        diff(&mut out, Field::LogsHash, &a.logs_hash, &b.logs_hash);
    }
    out
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
