//! The normalized result of executing a case on one backend.
//!
//! Every adapter translates its implementation's result into an [`Outcome`]; two outcomes are
//! then compared field by field. Backend-specific words (revm's `NotActivated`, evm's
//! `InvalidOpcode(0x5c)`) survive only in [`Outcome::detail`], which is shown but not compared.

use std::fmt;

use alloy_primitives::{B256, Bytes, Log};
use serde::{Deserialize, Serialize};

use crate::lazy_root::LazyRoot;
use crate::state::{State, logs_hash, state_root};

/// How the transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The top frame returned or stopped normally.
    Success,
    /// The top frame reverted (REVERT, or a profile's revert-refund).
    Revert,
    /// The top frame halted exceptionally, consuming all gas.
    Halt(HaltClass),
    /// The transaction was refused before execution (invalid, or a profile's `reject`).
    Rejected,
}

/// Canonical classes of exceptional halt, so backends that name them differently agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HaltClass {
    /// Out of gas, including memory expansion and precompile gas.
    OutOfGas,
    /// Undefined, not-yet-activated, designated-invalid (0xfe) or profile-invalid opcode.
    InvalidOpcode,
    /// Stack underflow.
    StackUnderflow,
    /// Stack overflow (over 1024 items).
    StackOverflow,
    /// JUMP/JUMPI to a non-JUMPDEST.
    InvalidJump,
    /// A state change under STATICCALL.
    StaticViolation,
    /// RETURNDATACOPY beyond the return data.
    ReturnDataOutOfBounds,
    /// A precompile's input was invalid (L1 failure, or a profile's `halt`).
    PrecompileFailure,
    /// CREATE/CREATE2 to an address that already has code or nonce.
    CreateCollision,
    /// Deployed code over the size limit, or init code over its limit.
    CodeSizeLimit,
    /// Deployed code starting with 0xEF (EIP-3541).
    InvalidCodePrefix,
    /// Call depth over 1024 at the top level (does not normally reach the top frame).
    CallTooDeep,
    /// Nonce overflow on CREATE.
    NonceOverflow,
    /// Anything else; the backend's words are in [`Outcome::detail`].
    Other,
}

impl HaltClass {
    /// The kebab-case name, as serialized.
    pub fn name(self) -> &'static str {
        match self {
            HaltClass::OutOfGas => "out-of-gas",
            HaltClass::InvalidOpcode => "invalid-opcode",
            HaltClass::StackUnderflow => "stack-underflow",
            HaltClass::StackOverflow => "stack-overflow",
            HaltClass::InvalidJump => "invalid-jump",
            HaltClass::StaticViolation => "static-violation",
            HaltClass::ReturnDataOutOfBounds => "return-data-out-of-bounds",
            HaltClass::PrecompileFailure => "precompile-failure",
            HaltClass::CreateCollision => "create-collision",
            HaltClass::CodeSizeLimit => "code-size-limit",
            HaltClass::InvalidCodePrefix => "invalid-code-prefix",
            HaltClass::CallTooDeep => "call-too-deep",
            HaltClass::NonceOverflow => "nonce-overflow",
            HaltClass::Other => "other",
        }
    }
}

impl Status {
    /// True when both are the same kind of ending (success, revert, halt of any class,
    /// rejected).
    pub fn same_kind(&self, other: &Status) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Success => f.write_str("success"),
            Status::Revert => f.write_str("revert"),
            Status::Halt(c) => write!(f, "halt({})", c.name()),
            Status::Rejected => f.write_str("rejected"),
        }
    }
}

/// A backend's normalized result.
///
/// Its roots are derived from `post` and `logs` when first read ([`LazyRoot`]): two complete
/// outcomes are compared on what the roots are functions of, so the fast path computes none.
/// Only an outcome that holds less than everything (a runner that prints a root) is compared,
/// and equal, on its roots.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "OutcomeFields", into = "OutcomeFields")]
pub struct Outcome {
    /// How the transaction ended.
    pub status: Status,
    /// Gas charged to the sender (after refund; 0 when rejected).
    pub gas_used: u64,
    /// Refund applied (already subtracted from `gas_used`).
    pub refund: u64,
    /// Return data of the top frame (revert data on revert; empty on halt).
    pub output: Bytes,
    /// Logs of the transaction (empty unless it succeeded).
    pub logs: Vec<Log>,
    /// The post-state: every account that exists after the transaction, EIP-161 cleaned.
    pub post: State,
    /// Root of `post` ([`Outcome::state_root`]).
    state_root: LazyRoot,
    /// keccak256(rlp(logs)) ([`Outcome::logs_hash`]).
    logs_hash: LazyRoot,
    /// The backend's own description of the result (halt reason, rejection error). Shown in
    /// reports, never compared.
    pub detail: String,
    /// What the backend could observe. A state-test runner only reports a state root, the
    /// output and whether it failed: its `post`, `logs`, gas and refund are unknown (empty,
    /// zero) and are compared with nobody's.
    pub scope: Scope,
}

/// An [`Outcome`] as it is written and read: its roots computed.
#[derive(Serialize, Deserialize)]
struct OutcomeFields {
    status: Status,
    gas_used: u64,
    refund: u64,
    output: Bytes,
    logs: Vec<Log>,
    post: State,
    state_root: B256,
    logs_hash: B256,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    detail: String,
    #[serde(default, skip_serializing_if = "Scope::is_full")]
    scope: Scope,
}

impl From<Outcome> for OutcomeFields {
    fn from(o: Outcome) -> OutcomeFields {
        OutcomeFields {
            state_root: o.state_root(),
            logs_hash: o.logs_hash(),
            status: o.status,
            gas_used: o.gas_used,
            refund: o.refund,
            output: o.output,
            logs: o.logs,
            post: o.post,
            detail: o.detail,
            scope: o.scope,
        }
    }
}

impl From<OutcomeFields> for Outcome {
    fn from(f: OutcomeFields) -> Outcome {
        Outcome {
            status: f.status,
            gas_used: f.gas_used,
            refund: f.refund,
            output: f.output,
            logs: f.logs,
            post: f.post,
            state_root: LazyRoot::known(f.state_root),
            logs_hash: LazyRoot::known(f.logs_hash),
            detail: f.detail,
            scope: f.scope,
        }
    }
}

impl PartialEq for Outcome {
    /// Field by field; the roots only where one side holds less than everything, since two
    /// complete outcomes with equal states and logs have equal roots.
    fn eq(&self, other: &Outcome) -> bool {
        self.status == other.status
            && self.gas_used == other.gas_used
            && self.refund == other.refund
            && self.output == other.output
            && self.logs == other.logs
            && self.post == other.post
            && self.detail == other.detail
            && self.scope == other.scope
            && (self.scope.is_full()
                || (self.state_root() == other.state_root()
                    && self.logs_hash() == other.logs_hash()))
    }
}

impl Eq for Outcome {}

/// How much of an [`Outcome`] a backend observed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Every field: status with halt class, gas, refund, output, logs, post-state.
    #[default]
    Full,
    /// The state root, the output and the kind of ending (success, revert, halt, rejected)
    /// only: what a state-test runner prints.
    RootOutputStatus,
    /// A receipt: whether the transaction succeeded (a failure may be a revert or a halt,
    /// the receipt does not say), gas used and logs; no post-state. What a transition tool
    /// (`t8n`) reports for a transaction that does not end its block.
    Receipt,
    /// A receipt and the post-state after the transaction: a transition tool's report of
    /// the only transaction of a state test.
    ReceiptState,
}

impl Scope {
    /// True for [`Scope::Full`].
    pub fn is_full(&self) -> bool {
        *self == Scope::Full
    }

    /// True when the outcome is a receipt ([`Scope::Receipt`], [`Scope::ReceiptState`]).
    pub fn is_receipt(&self) -> bool {
        matches!(self, Scope::Receipt | Scope::ReceiptState)
    }

    /// True when the outcome holds the post-state.
    pub fn has_state(&self) -> bool {
        matches!(self, Scope::Full | Scope::ReceiptState)
    }
}

impl Outcome {
    /// Builds an outcome; its roots are computed when first read.
    pub fn new(
        status: Status,
        gas_used: u64,
        refund: u64,
        output: Bytes,
        logs: Vec<Log>,
        post: State,
        detail: String,
    ) -> Outcome {
        Outcome {
            status,
            gas_used,
            refund,
            output,
            logs,
            post,
            state_root: LazyRoot::default(),
            logs_hash: LazyRoot::default(),
            detail,
            scope: Scope::Full,
        }
    }

    /// The state-trie root of `post` (the root a runner printed, for one that prints only
    /// that), computed on first read.
    pub fn state_root(&self) -> B256 {
        self.state_root.get_or(|| state_root(&self.post))
    }

    /// keccak256 of the RLP list of `logs`, computed on first read.
    pub fn logs_hash(&self) -> B256 {
        self.logs_hash.get_or(|| logs_hash(&self.logs))
    }

    /// True once either root has been computed or was given (tests check the fast path's).
    pub fn roots_known(&self) -> bool {
        self.state_root.is_known() || self.logs_hash.is_known()
    }

    /// The outcome of a state-test runner: the kind of ending, the output and the state root
    /// it printed, nothing else.
    pub fn root_only(status: Status, output: Bytes, state_root: B256, detail: String) -> Outcome {
        Outcome {
            status,
            gas_used: 0,
            refund: 0,
            output,
            logs: Vec::new(),
            post: State::new(),
            state_root: LazyRoot::known(state_root),
            logs_hash: LazyRoot::known(B256::ZERO),
            detail,
            scope: Scope::RootOutputStatus,
        }
    }

    /// The outcome of a refused transaction: the state is the pre-state.
    pub fn rejected(pre: &State, detail: String) -> Outcome {
        Outcome::new(
            Status::Rejected,
            0,
            0,
            Bytes::new(),
            Vec::new(),
            pre.clone(),
            detail,
        )
    }
}

/// A backend's result on a whole case: every block's transactions, each with the state it
/// left, and the block's own end.
///
/// A state test has one block of one transaction and no [`BlockOutcome::end`]. Two chain
/// outcomes are compared transaction by transaction ([`crate::compare::compare_chains`]), so a
/// divergence names the first block and transaction where it appears.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainOutcome {
    /// One entry per block of the case, in order. A backend that stops at a block it cannot
    /// execute (an invalid chain) reports the blocks before it.
    pub blocks: Vec<BlockOutcome>,
}

/// A backend's result on one block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockOutcome {
    /// One outcome per transaction of the block, in order; a transaction the backend dropped
    /// as invalid is [`Status::Rejected`] and left the state as it was.
    pub txs: Vec<Outcome>,
    /// The state after the block's own processing, in a chain; `None` in a state test and
    /// for a block the backend refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<BlockEnd>,
    /// Why the backend refused the block as a whole (a required system contract without code
    /// or failing, from Prague): it executes no block after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<String>,
}

/// What a block's processing leaves after its transactions: system calls and withdrawals
/// applied. Its root is computed when first read, as an [`Outcome`]'s.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "BlockEndFields", into = "BlockEndFields")]
pub struct BlockEnd {
    /// The state after the block.
    pub post: State,
    /// Root of `post` ([`BlockEnd::state_root`]).
    state_root: LazyRoot,
    /// Gas the block used (the sum of its transactions' gas, what the header's `gasUsed`
    /// carries; from Prague it counts the EIP-7623 floor where that is higher).
    pub gas_used: u64,
}

/// A [`BlockEnd`] as it is written and read: its root computed.
#[derive(Serialize, Deserialize)]
struct BlockEndFields {
    post: State,
    state_root: B256,
    gas_used: u64,
}

impl From<BlockEnd> for BlockEndFields {
    fn from(e: BlockEnd) -> BlockEndFields {
        BlockEndFields {
            state_root: e.state_root(),
            post: e.post,
            gas_used: e.gas_used,
        }
    }
}

impl From<BlockEndFields> for BlockEnd {
    fn from(f: BlockEndFields) -> BlockEnd {
        BlockEnd {
            post: f.post,
            state_root: LazyRoot::known(f.state_root),
            gas_used: f.gas_used,
        }
    }
}

impl PartialEq for BlockEnd {
    /// The root is a function of `post`.
    fn eq(&self, other: &BlockEnd) -> bool {
        self.post == other.post && self.gas_used == other.gas_used
    }
}

impl Eq for BlockEnd {}

impl BlockEnd {
    /// The end of a block whose processing left `post`.
    pub fn new(post: State, gas_used: u64) -> BlockEnd {
        BlockEnd {
            post,
            state_root: LazyRoot::default(),
            gas_used,
        }
    }

    /// The state-trie root of `post`: the header's `stateRoot`. Computed on first read.
    pub fn state_root(&self) -> B256 {
        self.state_root.get_or(|| state_root(&self.post))
    }

    /// True once the root has been computed or was given (tests check the fast path's).
    pub fn root_known(&self) -> bool {
        self.state_root.is_known()
    }
}

impl ChainOutcome {
    /// The outcome of a state test: one block, one transaction.
    pub fn single(outcome: Outcome) -> ChainOutcome {
        ChainOutcome {
            blocks: vec![BlockOutcome {
                txs: vec![outcome],
                end: None,
                invalid: None,
            }],
        }
    }

    /// Every transaction's outcome, in order.
    pub fn txs(&self) -> impl Iterator<Item = &Outcome> {
        self.blocks.iter().flat_map(|b| &b.txs)
    }

    /// The last transaction's outcome (the only one of a state test).
    pub fn last_tx(&self) -> Option<&Outcome> {
        self.blocks.iter().rev().flat_map(|b| b.txs.last()).next()
    }

    /// Takes the outcome of a state test's only transaction (the last transaction of a chain).
    pub fn into_last_tx(self) -> Option<Outcome> {
        self.blocks
            .into_iter()
            .rev()
            .flat_map(|b| b.txs.into_iter().last())
            .next()
    }

    /// The state the case ends in: after the last block's processing in a chain, after the
    /// transaction in a state test. `None` when nothing ran.
    pub fn post(&self) -> Option<&State> {
        let last = self.blocks.last()?;
        match &last.end {
            Some(end) => Some(&end.post),
            None => last.txs.last().map(|o| &o.post),
        }
    }

    /// The root of [`post`](ChainOutcome::post).
    pub fn state_root(&self) -> Option<B256> {
        let last = self.blocks.last()?;
        match &last.end {
            Some(end) => Some(end.state_root()),
            None => last.txs.last().map(Outcome::state_root),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Account;
    use alloy_primitives::{Address, LogData, U256};

    fn outcome() -> Outcome {
        let mut post = State::new();
        post.insert(
            Address::repeat_byte(1),
            Account {
                balance: U256::from(7),
                ..Account::default()
            },
        );
        let log = Log {
            address: Address::repeat_byte(2),
            data: LogData::new_unchecked(vec![B256::repeat_byte(3)], Bytes::from_static(b"x")),
        };
        Outcome::new(
            Status::Success,
            21_000,
            0,
            Bytes::new(),
            vec![log],
            post,
            String::new(),
        )
    }

    /// Written, an outcome carries its roots as before; read back, it is the same outcome
    /// with the same roots, known without computing.
    #[test]
    fn roots_are_computed_when_written_and_read_back_known() {
        let o = outcome();
        assert!(!o.roots_known());
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["state_root"], serde_json::json!(state_root(&o.post)));
        assert_eq!(json["logs_hash"], serde_json::json!(logs_hash(&o.logs)));
        assert!(json.get("detail").is_none() && json.get("scope").is_none());
        let back: Outcome = serde_json::from_value(json).unwrap();
        assert!(back.roots_known());
        assert_eq!(back, o);
        assert_eq!(back.state_root(), o.state_root());
        let end = BlockEnd::new(o.post.clone(), 5);
        assert!(!end.root_known());
        let back: BlockEnd = serde_json::from_value(serde_json::to_value(&end).unwrap()).unwrap();
        assert!(back.root_known());
        assert_eq!((back.state_root(), &back), (state_root(&o.post), &end));
    }

    /// Two runners' printed roots are all they are compared on: different roots, unequal.
    #[test]
    fn outcomes_that_hold_only_a_root_are_equal_by_it() {
        let root = |b| {
            Outcome::root_only(
                Status::Success,
                Bytes::new(),
                B256::repeat_byte(b),
                String::new(),
            )
        };
        assert_eq!(root(1), root(1));
        assert_ne!(root(1), root(2));
        assert_eq!(root(1).state_root(), B256::repeat_byte(1));
    }

    #[test]
    fn halt_class_names_are_their_serialized_form() {
        for c in [
            HaltClass::OutOfGas,
            HaltClass::InvalidOpcode,
            HaltClass::StackUnderflow,
            HaltClass::StackOverflow,
            HaltClass::InvalidJump,
            HaltClass::StaticViolation,
            HaltClass::ReturnDataOutOfBounds,
            HaltClass::PrecompileFailure,
            HaltClass::CreateCollision,
            HaltClass::CodeSizeLimit,
            HaltClass::InvalidCodePrefix,
            HaltClass::CallTooDeep,
            HaltClass::NonceOverflow,
            HaltClass::Other,
        ] {
            assert_eq!(serde_json::to_value(c).unwrap(), c.name());
        }
        assert_eq!(
            Status::Halt(HaltClass::OutOfGas).to_string(),
            "halt(out-of-gas)"
        );
    }
}
