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
    /// `state.balance`, ...), sorted.
    pub fields: Vec<String>,
    /// Without a step: `left->right` status when the status differs.
    pub status: Option<String>,
}

/// The kind of a difference's field: `state[0xab..].storage[0x1]` becomes `state.storage`,
/// `witness.storage[0xab..][0x1]` becomes `witness.storage`, `stateless.state[0xab..].nonce`
/// becomes `stateless.state.nonce`.
fn field_kind(field: &str) -> String {
    if let Some(rest) = field.strip_prefix("stateless.") {
        return format!("stateless.{}", field_kind(rest));
    }
    match field.strip_prefix("state[") {
        Some(rest) => match rest.split_once("].") {
            Some((_, tail)) => format!("state.{}", tail.split('[').next().unwrap_or(tail)),
            None => "state.account".to_string(),
        },
        None => field.split('[').next().unwrap_or(field).to_string(),
    }
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
    let fields: BTreeSet<String> = d.differences.iter().map(|x| field_kind(&x.field)).collect();
    let status = d
        .differences
        .iter()
        .find(|x| x.field == "status")
        .map(|x| format!("{}->{}", x.left, x.right));
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
            differences: fields
                .iter()
                .map(|(f, l, r)| Difference {
                    field: f.to_string(),
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
        assert_eq!(field_kind("state[0x01]"), "state.account");
    }
}
