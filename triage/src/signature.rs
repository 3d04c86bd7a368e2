//! Divergence signatures: what makes two divergences the same bug.
//!
//! A signature keeps what a bug is and drops what merely varies between inputs that hit it
//! (addresses, slot numbers, amounts of gas), so that a campaign reports each bug once.
//!
//! When the divergence is localized (its first differing step is known), the bug is that step:
//! the instruction after which the backends' machine states part and the step fields that
//! differ (`after CODECOPY: memory_size`). The outcome fields are then left out, because one
//! wrong instruction reaches storage in one program, a log or the gas in another. When every
//! step agrees, the difference arises after the last instruction (refunds, fees, the commit),
//! and the signature is the set of outcome field kinds and the status change.

use std::collections::BTreeSet;
use std::fmt;

use alloy_primitives::keccak256;
use evmdiff_core::Field;
use evmdiff_core::compare::Divergence;
use serde::Serialize;

/// The identity of a divergence for deduplication.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Signature {
    /// `left|right` backend names.
    pub backends: String,
    /// The profile the case ran under.
    pub profile: String,
    /// The first differing step's summary (`after CODECOPY: memory_size`), when localized.
    pub step: Option<String>,
    /// Without a step: the kinds of outcome field that differ (`status`, `gas_used`,
    /// `state.balance`, ..., see [`Field::kind`]), sorted.
    pub fields: Vec<String>,
    /// Without a step: `left->right` status when the status differs.
    pub status: Option<String>,
}

/// The signature of `d` under `profile`.
pub fn signature(d: &Divergence, profile: &str) -> Signature {
    let backends = format!("{}|{}", d.left, d.right);
    if let Some(step) = &d.step {
        return Signature {
            backends,
            profile: profile.to_string(),
            step: Some(step.summary()),
            fields: Vec::new(),
            status: None,
        };
    }
    let status = d.differences.iter().find(|x| x.field == Field::Status);
    // A transaction one backend refuses and the other executes is one bug (a validity rule),
    // whatever the execution then touched: its gas, logs and state are consequences.
    if let Some(x) = status
        && (x.left == "rejected") != (x.right == "rejected")
    {
        let side = |s: &str| {
            if s == "rejected" {
                "rejected"
            } else {
                "executed"
            }
        };
        return Signature {
            backends,
            profile: profile.to_string(),
            step: None,
            fields: vec![Field::Status.kind()],
            status: Some(format!("{}->{}", side(&x.left), side(&x.right))),
        };
    }
    let fields: BTreeSet<String> = d.differences.iter().map(|x| x.field.kind()).collect();
    let status = status.map(|x| format!("{}->{}", x.left, x.right));
    Signature {
        backends,
        profile: profile.to_string(),
        step: None,
        fields: fields.into_iter().collect(),
        status,
    }
}

impl Signature {
    /// A short stable id (first 8 bytes of keccak256 of the rendered signature), for file names.
    pub fn id(&self) -> String {
        let h = keccak256(self.to_string().as_bytes());
        alloy_primitives::hex::encode(&h[..8])
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(step) = &self.step {
            return write!(f, "{} {} step {step}", self.backends, self.profile);
        }
        write!(
            f,
            "{} {} [{}]",
            self.backends,
            self.profile,
            self.fields.join(",")
        )?;
        if let Some(s) = &self.status {
            write!(f, " status {s}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use evmdiff_core::compare::Difference;

    fn div(fields: &[(&str, &str, &str)]) -> Divergence {
        Divergence {
            left: "revm".into(),
            right: "evm".into(),
            at: None,
            differences: fields
                .iter()
                .map(|(f, l, r)| Difference {
                    field: f.parse().unwrap(),
                    left: l.to_string(),
                    right: r.to_string(),
                })
                .collect(),
            step: None,
        }
    }

    #[test]
    fn same_bug_at_other_addresses_has_the_same_signature() {
        let a = div(&[
            ("gas_used", "1", "2"),
            (
                "state[0x00000000000000000000000000000000000000aa].storage[0x1]",
                "1",
                "2",
            ),
        ]);
        let b = div(&[
            ("gas_used", "7", "9"),
            (
                "state[0x00000000000000000000000000000000000000bb].storage[0x5]",
                "3",
                "4",
            ),
        ]);
        assert_eq!(signature(&a, "scroll"), signature(&b, "scroll"));
        assert_eq!(signature(&a, "scroll").id(), signature(&b, "scroll").id());
        assert_ne!(signature(&a, "scroll"), signature(&a, "linea"));
    }

    #[test]
    fn status_change_is_part_of_the_signature() {
        let a = div(&[("status", "success", "revert")]);
        let b = div(&[("status", "success", "halt(out-of-gas)")]);
        assert_ne!(signature(&a, "p"), signature(&b, "p"));
        assert_eq!(
            signature(&a, "p").to_string(),
            "revm|evm p [status] status success->revert"
        );
    }

    #[test]
    fn a_transaction_refused_by_one_side_is_one_signature_whatever_it_did() {
        let a = div(&[
            ("status", "rejected", "success"),
            ("gas_used", "0", "21000"),
            (
                "state[0x00000000000000000000000000000000000000aa].nonce",
                "0",
                "1",
            ),
        ]);
        let b = div(&[
            ("status", "rejected", "halt(out-of-gas)"),
            ("logs", "0", "1"),
        ]);
        assert_eq!(signature(&a, "p"), signature(&b, "p"));
        assert_eq!(
            signature(&a, "p").to_string(),
            "revm|evm p [status] status rejected->executed"
        );
        let c = div(&[
            ("status", "success", "rejected"),
            ("gas_used", "21000", "0"),
        ]);
        assert_eq!(
            signature(&c, "p").to_string(),
            "revm|evm p [status] status executed->rejected"
        );
    }

    /// The shipped allowlist names view divergences by these kinds: they must keep their text.
    #[test]
    fn view_fields_are_signed_by_their_kind() {
        let a = "0x00000000000000000000000000000000000000Aa";
        let d = div(&[
            (
                &format!("witness.right-only-superfluous.account[{a}]"),
                "-",
                "read",
            ),
            (&format!("stateless.state[{a}].storage[0x1]"), "1", "0"),
            ("rw_log.callcontext[4]", "{}", "(log ended)"),
        ]);
        assert_eq!(
            signature(&d, "p").to_string(),
            "revm|evm p [rw_log.callcontext,stateless.state.storage,\
             witness.right-only-superfluous.account]"
        );
    }
}
