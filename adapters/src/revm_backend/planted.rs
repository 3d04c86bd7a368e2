//! Bugs planted in revm on purpose, one at a time, to measure what evmdiff's cases can see
//! (`evmdiff planted`, docs/coverage.md "Planted bugs in revm").
//!
//! Each bug is a single mistake a real implementation could ship: an off-by-one at a bound,
//! a fork's repricing forgotten, a static-context check missing, an operand truncated. They
//! are planted through the extension points the profiles already use, never by patching
//! revm: a replacement instruction that wraps revm's own and differs only on the inputs the
//! bug is about, a gas parameter or limit of revm's configuration, or a precompile input
//! rewritten before revm's precompile sees it. So the planted backend is revm everywhere
//! else, at revm's speed.

use revm::context::CfgEnv;
use revm::context_interface::Host;
use revm::context_interface::cfg::GasId;
use revm::handler::instructions::EthInstructions;
use revm::interpreter::instructions::i256::{Sign, i256_mod, i256_sign};
use revm::interpreter::instructions::{
    arithmetic, bitwise, control, host, memory, system, tx_info,
};
use revm::interpreter::interpreter::EthInterpreter;
use revm::interpreter::interpreter_types::ReturnData;
use revm::interpreter::{
    Instruction, InstructionContext, InstructionExecResult, InstructionResult,
};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, KECCAK_EMPTY, U256, address};

use evmdiff_core::{Behaviour, Fork, Profile};

use super::Ctx;

/// One bug planted in revm. [`Planted::ALL`] lists them; [`Planted::name`] is what the CLI
/// takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Planted {
    /// Transient storage (EIP-1153) is not cleared at the end of a transaction: what one
    /// transaction's TSTORE left, the next one's TLOAD reads.
    KeepsTransientStorage,
    /// SDIV(-2²⁵⁵, -1) gives 0 instead of -2²⁵⁵ (the overflow case special-cased wrongly).
    SdivOverflow,
    /// SMOD's result takes the divisor's sign instead of the dividend's.
    SmodSign,
    /// SIGNEXTEND with a byte index over 31 gives 0 instead of the value unchanged.
    SignextendLargeIndex,
    /// BYTE with an index of 32 or more reads byte `index mod 32` instead of giving 0.
    ByteIndexWraps,
    /// SHL by 256 or more shifts by `shift mod 256` (a machine shift) instead of giving 0.
    ShlShiftWraps,
    /// SAR of a negative value by 256 or more gives 0 instead of -1.
    SarNegativeLarge,
    /// SHR by 255 gives 0: the bound is written `shift < 255`.
    ShrBoundOffByOne,
    /// ADDMOD computes `(a + b) mod n` on the wrapped 256-bit sum.
    AddmodWraps,
    /// MULMOD computes `(a * b) mod n` on the wrapped 256-bit product.
    MulmodWraps,
    /// EXP with a zero base and a zero exponent gives 0 instead of 1.
    ExpZeroZero,
    /// CALLDATALOAD of a word running past the end of the call data gives 0 instead of the
    /// bytes there, zero-padded.
    CalldataloadTail,
    /// JUMP uses only the low 64 bits of its destination.
    JumpTruncated,
    /// JUMPI tests only the low 64 bits of its condition.
    JumpiConditionTruncated,
    /// RETURNDATACOPY past the end of the return data copies zeros instead of halting
    /// (EIP-211's bound missing, as CALLDATACOPY behaves).
    ReturndatacopyUnbounded,
    /// MCOPY copies forward byte by byte, so an overlapping copy to a higher address repeats
    /// the source's first bytes (EIP-5656 requires memmove semantics).
    McopyForward,
    /// BLOCKHASH gives 0 for the 256th block back: the window is written `< 256`.
    BlockhashWindow,
    /// BLOBHASH with an index past the transaction's blobs gives the last blob's hash.
    BlobhashIndexClamped,
    /// EXTCODEHASH of an empty or missing account gives the empty code's hash instead of 0
    /// (EIP-1052 with EIP-161's emptiness check left out).
    ExtcodehashEmptyAccount,
    /// PC pushes the position after the instruction.
    PcAfter,
    /// GAS pushes the gas left before its own cost was charged.
    GasBeforeCharge,
    /// TSTORE is allowed in a static context.
    TstoreInStatic,
    /// LOG0..LOG4 are allowed in a static context.
    LogInStatic,
    /// SSTORE is allowed in a static context.
    SstoreInStatic,
    /// EXTCODESIZE never charges the cold account access (EIP-2929 missed for it).
    ExtcodesizeAlwaysWarm,
    /// SLOAD charges the cold price for a warm slot too.
    SloadAlwaysCold,
    /// SSTORE that restores a slot's original value refunds nothing (EIP-2200's reset refund
    /// missing).
    SstoreNoRestoreRefund,
    /// EXP costs 10 per exponent byte: EIP-160's repricing forgotten.
    ExpByteGasFrontier,
    /// Memory's quadratic term divides by 1,024 instead of 512.
    MemoryQuadraticHalved,
    /// Cold account access charges 2,600 on top of the warm 100 (the total read as the
    /// surcharge).
    ColdAccountTotalAsSurcharge,
    /// Cold storage access charges 2,100 on top of the warm 100.
    ColdStorageTotalAsSurcharge,
    /// KECCAK256 charges 3 per word instead of 6.
    Keccak256WordGas,
    /// LOG charges 4 per data byte instead of 8.
    LogDataGas,
    /// A value transfer costs 6,700 (the stipend already taken off) instead of 9,000.
    CallValueCost,
    /// Clearing a slot refunds 15,000: EIP-3529's cut to 4,800 forgotten.
    SstoreClearRefundPreLondon,
    /// Refunds are capped at half the gas used: EIP-3529's cap of a fifth forgotten.
    RefundCapPreLondon,
    /// CREATE and CREATE2 charge no per-word cost for init code (EIP-3860 half applied).
    InitcodeWordGasMissing,
    /// EIP-3860's init-code size limit is not enforced.
    InitcodeLimitMissing,
    /// A contract-creating transaction costs 21,000 instead of 53,000 (Homestead's rule).
    CreateTxCostMissing,
    /// An access list's storage key costs 2,400, the price of an address.
    AccessListKeyPrice,
    /// ecrecover accepts a recovery id `v` of 0 or 1 as if it were 27 or 28.
    EcrecoverRawV,
    /// blake2f accepts a final-block flag other than 0 or 1 (as 1).
    Blake2fLooseFlag,
    /// The point evaluation precompile does not check the versioned hash against the
    /// commitment.
    PointEvaluationHashUnchecked,
}

/// What part of an EVM a planted bug is in, for the benchmark's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Module {
    /// What an instruction computes.
    Instructions,
    /// What an instruction costs.
    Gas,
    /// Memory: its expansion cost and its copies.
    Memory,
    /// Call and create frames: static context, value, init code.
    CallsAndCreates,
    /// Storage, refunds, and what lives across transactions.
    StateAndRefunds,
    /// The precompiled contracts.
    Precompiles,
    /// A rule of a later fork forgotten or an earlier one kept.
    ForkRules,
}

impl Module {
    /// The module's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Module::Instructions => "instructions",
            Module::Gas => "gas",
            Module::Memory => "memory",
            Module::CallsAndCreates => "calls and creates",
            Module::StateAndRefunds => "state and refunds",
            Module::Precompiles => "precompiles",
            Module::ForkRules => "fork rules",
        }
    }
}

/// How a bug is planted.
enum Plant {
    /// This opcode runs this function instead of revm's.
    Instruction(u8, OpFn),
    /// These opcodes run these functions (one bug in a family of opcodes).
    Instructions(&'static [(u8, OpFn)]),
    /// revm's gas parameter has this value.
    GasParam(GasId, u64),
    /// The EIP-3860 limit is lifted.
    NoInitcodeLimit,
    /// The precompile at this address sees its input rewritten.
    PrecompileInput(Address),
    /// Planted in the chain runner (see `chain.rs`).
    Chain,
}

/// An instruction of this adapter's EVM.
type OpFn = fn(InstructionContext<'_, Ctx, EthInterpreter>) -> InstructionExecResult;

impl Planted {
    /// Every planted bug, in the order of the benchmark's table.
    pub const ALL: [Planted; 43] = [
        Planted::SdivOverflow,
        Planted::SmodSign,
        Planted::SignextendLargeIndex,
        Planted::ByteIndexWraps,
        Planted::ShlShiftWraps,
        Planted::SarNegativeLarge,
        Planted::ShrBoundOffByOne,
        Planted::AddmodWraps,
        Planted::MulmodWraps,
        Planted::ExpZeroZero,
        Planted::CalldataloadTail,
        Planted::JumpTruncated,
        Planted::JumpiConditionTruncated,
        Planted::ReturndatacopyUnbounded,
        Planted::BlockhashWindow,
        Planted::BlobhashIndexClamped,
        Planted::ExtcodehashEmptyAccount,
        Planted::PcAfter,
        Planted::GasBeforeCharge,
        Planted::McopyForward,
        Planted::MemoryQuadraticHalved,
        Planted::ExtcodesizeAlwaysWarm,
        Planted::SloadAlwaysCold,
        Planted::ColdAccountTotalAsSurcharge,
        Planted::ColdStorageTotalAsSurcharge,
        Planted::Keccak256WordGas,
        Planted::LogDataGas,
        Planted::TstoreInStatic,
        Planted::LogInStatic,
        Planted::SstoreInStatic,
        Planted::CallValueCost,
        Planted::InitcodeWordGasMissing,
        Planted::SstoreNoRestoreRefund,
        Planted::SstoreClearRefundPreLondon,
        Planted::RefundCapPreLondon,
        Planted::KeepsTransientStorage,
        Planted::EcrecoverRawV,
        Planted::Blake2fLooseFlag,
        Planted::PointEvaluationHashUnchecked,
        Planted::ExpByteGasFrontier,
        Planted::InitcodeLimitMissing,
        Planted::CreateTxCostMissing,
        Planted::AccessListKeyPrice,
    ];

    /// The bug's name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Planted::KeepsTransientStorage => "keeps-transient-storage",
            Planted::SdivOverflow => "sdiv-overflow",
            Planted::SmodSign => "smod-sign",
            Planted::SignextendLargeIndex => "signextend-large-index",
            Planted::ByteIndexWraps => "byte-index-wraps",
            Planted::ShlShiftWraps => "shl-shift-wraps",
            Planted::SarNegativeLarge => "sar-negative-large",
            Planted::ShrBoundOffByOne => "shr-bound-off-by-one",
            Planted::AddmodWraps => "addmod-wraps",
            Planted::MulmodWraps => "mulmod-wraps",
            Planted::ExpZeroZero => "exp-zero-zero",
            Planted::CalldataloadTail => "calldataload-tail",
            Planted::JumpTruncated => "jump-truncated",
            Planted::JumpiConditionTruncated => "jumpi-condition-truncated",
            Planted::ReturndatacopyUnbounded => "returndatacopy-unbounded",
            Planted::McopyForward => "mcopy-forward",
            Planted::BlockhashWindow => "blockhash-window",
            Planted::BlobhashIndexClamped => "blobhash-index-clamped",
            Planted::ExtcodehashEmptyAccount => "extcodehash-empty-account",
            Planted::PcAfter => "pc-after",
            Planted::GasBeforeCharge => "gas-before-charge",
            Planted::TstoreInStatic => "tstore-in-static",
            Planted::LogInStatic => "log-in-static",
            Planted::SstoreInStatic => "sstore-in-static",
            Planted::ExtcodesizeAlwaysWarm => "extcodesize-always-warm",
            Planted::SloadAlwaysCold => "sload-always-cold",
            Planted::SstoreNoRestoreRefund => "sstore-no-restore-refund",
            Planted::ExpByteGasFrontier => "exp-byte-gas-frontier",
            Planted::MemoryQuadraticHalved => "memory-quadratic-halved",
            Planted::ColdAccountTotalAsSurcharge => "cold-account-total-as-surcharge",
            Planted::ColdStorageTotalAsSurcharge => "cold-storage-total-as-surcharge",
            Planted::Keccak256WordGas => "keccak256-word-gas",
            Planted::LogDataGas => "log-data-gas",
            Planted::CallValueCost => "call-value-cost",
            Planted::SstoreClearRefundPreLondon => "sstore-clear-refund-pre-london",
            Planted::RefundCapPreLondon => "refund-cap-pre-london",
            Planted::InitcodeWordGasMissing => "initcode-word-gas-missing",
            Planted::InitcodeLimitMissing => "initcode-limit-missing",
            Planted::CreateTxCostMissing => "create-tx-cost-missing",
            Planted::AccessListKeyPrice => "access-list-key-price",
            Planted::EcrecoverRawV => "ecrecover-raw-v",
            Planted::Blake2fLooseFlag => "blake2f-loose-flag",
            Planted::PointEvaluationHashUnchecked => "point-evaluation-hash-unchecked",
        }
    }

    /// The planted bug of this name.
    pub fn from_name(name: &str) -> Option<Planted> {
        Planted::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The part of an EVM the bug is in.
    pub fn module(self) -> Module {
        use Planted::*;
        match self {
            SdivOverflow
            | SmodSign
            | SignextendLargeIndex
            | ByteIndexWraps
            | ShlShiftWraps
            | SarNegativeLarge
            | ShrBoundOffByOne
            | AddmodWraps
            | MulmodWraps
            | ExpZeroZero
            | CalldataloadTail
            | JumpTruncated
            | JumpiConditionTruncated
            | ReturndatacopyUnbounded
            | BlockhashWindow
            | BlobhashIndexClamped
            | ExtcodehashEmptyAccount
            | PcAfter
            | GasBeforeCharge => Module::Instructions,
            McopyForward | MemoryQuadraticHalved => Module::Memory,
            ExtcodesizeAlwaysWarm
            | SloadAlwaysCold
            | ColdAccountTotalAsSurcharge
            | ColdStorageTotalAsSurcharge
            | Keccak256WordGas
            | LogDataGas => Module::Gas,
            TstoreInStatic
            | LogInStatic
            | SstoreInStatic
            | CallValueCost
            | InitcodeWordGasMissing => Module::CallsAndCreates,
            SstoreNoRestoreRefund
            | SstoreClearRefundPreLondon
            | RefundCapPreLondon
            | KeepsTransientStorage => Module::StateAndRefunds,
            EcrecoverRawV | Blake2fLooseFlag | PointEvaluationHashUnchecked => Module::Precompiles,
            ExpByteGasFrontier | InitcodeLimitMissing | CreateTxCostMissing
            | AccessListKeyPrice => Module::ForkRules,
        }
    }

    /// What the bug does, in one sentence (the variant's documentation).
    pub fn describe(self) -> &'static str {
        use Planted::*;
        match self {
            KeepsTransientStorage => "transient storage survives the end of a transaction",
            SdivOverflow => "SDIV(-2^255, -1) gives 0",
            SmodSign => "SMOD's result takes the divisor's sign",
            SignextendLargeIndex => "SIGNEXTEND with a byte index over 31 gives 0",
            ByteIndexWraps => "BYTE with an index of 32 or more reads byte index mod 32",
            ShlShiftWraps => "SHL by 256 or more shifts by shift mod 256",
            SarNegativeLarge => "SAR of a negative value by 256 or more gives 0, not -1",
            ShrBoundOffByOne => "SHR by 255 gives 0",
            AddmodWraps => "ADDMOD reduces the wrapped 256-bit sum",
            MulmodWraps => "MULMOD reduces the wrapped 256-bit product",
            ExpZeroZero => "EXP(0, 0) gives 0",
            CalldataloadTail => "CALLDATALOAD of a word past the data's end gives 0",
            JumpTruncated => "JUMP uses the destination's low 64 bits",
            JumpiConditionTruncated => "JUMPI tests the condition's low 64 bits",
            ReturndatacopyUnbounded => "RETURNDATACOPY past the end pads with zeros, no halt",
            McopyForward => "MCOPY copies forward, smearing an overlapping copy upward",
            BlockhashWindow => "BLOCKHASH gives 0 for the 256th block back",
            BlobhashIndexClamped => "BLOBHASH past the last blob gives the last hash",
            ExtcodehashEmptyAccount => {
                "EXTCODEHASH of an empty or missing account gives keccak(\"\")"
            }
            PcAfter => "PC pushes the next instruction's position",
            GasBeforeCharge => "GAS pushes the gas left before its own 2",
            TstoreInStatic => "TSTORE allowed under STATICCALL",
            LogInStatic => "LOG allowed under STATICCALL",
            SstoreInStatic => "SSTORE allowed under STATICCALL",
            ExtcodesizeAlwaysWarm => "EXTCODESIZE never charges a cold access",
            SloadAlwaysCold => "SLOAD charges the cold price for a warm slot",
            SstoreNoRestoreRefund => "SSTORE restoring the original value refunds nothing",
            ExpByteGasFrontier => "EXP costs 10 per exponent byte (EIP-160 forgotten)",
            MemoryQuadraticHalved => "memory's quadratic term divides by 1,024",
            ColdAccountTotalAsSurcharge => "cold account access surcharge 2,600, not 2,500",
            ColdStorageTotalAsSurcharge => "cold storage access surcharge 2,100, not 2,000",
            Keccak256WordGas => "KECCAK256 costs 3 per word, not 6",
            LogDataGas => "LOG costs 4 per data byte, not 8",
            CallValueCost => "a value transfer costs 6,700, not 9,000",
            SstoreClearRefundPreLondon => "clearing a slot refunds 15,000 (EIP-3529 forgotten)",
            RefundCapPreLondon => "refunds capped at half the gas used (EIP-3529 forgotten)",
            InitcodeWordGasMissing => "CREATE/CREATE2 charge nothing per init code word",
            InitcodeLimitMissing => "EIP-3860's init code size limit not enforced",
            CreateTxCostMissing => "a creating transaction costs 21,000, not 53,000",
            AccessListKeyPrice => "an access list storage key costs 2,400, not 1,900",
            EcrecoverRawV => "ecrecover accepts v = 0 or 1 as 27 or 28",
            Blake2fLooseFlag => "blake2f accepts a final flag other than 0 or 1",
            PointEvaluationHashUnchecked => "point evaluation skips the versioned hash check",
        }
    }

    /// The first fork in which the bug can show: before it, the instruction, price or rule
    /// the bug is in does not exist (or is the planted one).
    pub fn first_fork(self) -> Fork {
        use Planted::*;
        match self {
            KeepsTransientStorage
            | BlobhashIndexClamped
            | TstoreInStatic
            | McopyForward
            | PointEvaluationHashUnchecked => Fork::Cancun,
            InitcodeWordGasMissing | InitcodeLimitMissing => Fork::Shanghai,
            RefundCapPreLondon | SstoreClearRefundPreLondon => Fork::London,
            ExtcodesizeAlwaysWarm
            | SloadAlwaysCold
            | ColdAccountTotalAsSurcharge
            | ColdStorageTotalAsSurcharge
            | AccessListKeyPrice => Fork::Berlin,
            SstoreNoRestoreRefund => Fork::Istanbul,
            ShlShiftWraps | SarNegativeLarge | ShrBoundOffByOne | ExtcodehashEmptyAccount => {
                Fork::Petersburg
            }
            ReturndatacopyUnbounded => Fork::Byzantium,
            ExpByteGasFrontier => Fork::SpuriousDragon,
            CreateTxCostMissing => Fork::Homestead,
            _ => Fork::Frontier,
        }
    }

    fn plant(self) -> Plant {
        use Planted::*;
        let op = |op: u8, f: OpFn| Plant::Instruction(op, f);
        match self {
            KeepsTransientStorage => Plant::Chain,
            SdivOverflow => op(0x05, sdiv_overflow),
            SmodSign => op(0x07, smod_sign),
            SignextendLargeIndex => op(0x0b, signextend_large_index),
            ByteIndexWraps => op(0x1a, byte_index_wraps),
            ShlShiftWraps => op(0x1b, shl_shift_wraps),
            SarNegativeLarge => op(0x1d, sar_negative_large),
            ShrBoundOffByOne => op(0x1c, shr_bound_off_by_one),
            AddmodWraps => op(0x08, addmod_wraps),
            MulmodWraps => op(0x09, mulmod_wraps),
            ExpZeroZero => op(0x0a, exp_zero_zero),
            CalldataloadTail => op(0x35, calldataload_tail),
            JumpTruncated => op(0x56, jump_truncated),
            JumpiConditionTruncated => op(0x57, jumpi_condition_truncated),
            ReturndatacopyUnbounded => op(0x3e, returndatacopy_unbounded),
            McopyForward => op(0x5e, mcopy_forward),
            BlockhashWindow => op(0x40, blockhash_window),
            BlobhashIndexClamped => op(0x49, blobhash_index_clamped),
            ExtcodehashEmptyAccount => op(0x3f, extcodehash_empty_account),
            PcAfter => op(0x58, pc_after),
            GasBeforeCharge => op(0x5a, gas_before_charge),
            TstoreInStatic => op(0x5d, tstore_in_static),
            LogInStatic => Plant::Instructions(&LOG_IN_STATIC),
            SstoreInStatic => op(0x55, sstore_in_static),
            ExtcodesizeAlwaysWarm => op(0x3b, extcodesize_always_warm),
            SloadAlwaysCold => op(0x54, sload_always_cold),
            SstoreNoRestoreRefund => op(0x55, sstore_no_restore_refund),
            ExpByteGasFrontier => Plant::GasParam(GasId::exp_byte_gas(), 10),
            MemoryQuadraticHalved => Plant::GasParam(GasId::memory_quadratic_reduction(), 1024),
            ColdAccountTotalAsSurcharge => {
                Plant::GasParam(GasId::cold_account_additional_cost(), 2600)
            }
            ColdStorageTotalAsSurcharge => {
                Plant::GasParam(GasId::cold_storage_additional_cost(), 2100)
            }
            Keccak256WordGas => Plant::GasParam(GasId::keccak256_per_word(), 3),
            LogDataGas => Plant::GasParam(GasId::logdata(), 4),
            CallValueCost => Plant::GasParam(GasId::transfer_value_cost(), 6700),
            SstoreClearRefundPreLondon => {
                Plant::GasParam(GasId::sstore_clearing_slot_refund(), 15000)
            }
            RefundCapPreLondon => Plant::GasParam(GasId::max_refund_quotient(), 2),
            InitcodeWordGasMissing => Plant::GasParam(GasId::initcode_per_word(), 0),
            InitcodeLimitMissing => Plant::NoInitcodeLimit,
            CreateTxCostMissing => Plant::GasParam(GasId::tx_create_cost(), 0),
            AccessListKeyPrice => Plant::GasParam(GasId::tx_access_list_storage_key_cost(), 2400),
            EcrecoverRawV => {
                Plant::PrecompileInput(address!("0x0000000000000000000000000000000000000001"))
            }
            Blake2fLooseFlag => {
                Plant::PrecompileInput(address!("0x0000000000000000000000000000000000000009"))
            }
            PointEvaluationHashUnchecked => {
                Plant::PrecompileInput(address!("0x000000000000000000000000000000000000000a"))
            }
        }
    }

    /// Why the bug cannot show under `profile`, if it cannot: its fork is later than the
    /// profile's, the profile has a rule for every opcode it is in (the planted instruction is
    /// then not installed), or the profile does not leave its precompile as it is.
    pub fn sits_out(self, profile: &Profile) -> Option<String> {
        if profile.base_fork < self.first_fork() {
            return Some(format!("before {}", self.first_fork()));
        }
        match self.plant() {
            Plant::PrecompileInput(at) if profile.precompile(&at) != Some(Behaviour::Supported) => {
                Some(format!(
                    "{profile}: a rule for its precompile",
                    profile = profile.name
                ))
            }
            _ if !self.instructions().is_empty()
                && self
                    .instructions()
                    .iter()
                    .all(|(op, _)| ruled(profile, *op)) =>
            {
                Some(format!("{}: a rule for its opcode", profile.name))
            }
            _ => None,
        }
    }

    /// The opcodes the bug replaces, with their replacements.
    fn instructions(self) -> Vec<(u8, OpFn)> {
        match self.plant() {
            Plant::Instruction(op, f) => vec![(op, f)],
            Plant::Instructions(ops) => ops.to_vec(),
            _ => Vec::new(),
        }
    }

    /// Installs the bug's instructions into `table`, except where `profile` has a rule for
    /// the opcode: a profile's rule is what the planted backend is checked against.
    pub(super) fn install(
        self,
        table: &mut EthInstructions<EthInterpreter, Ctx>,
        profile: &Profile,
    ) {
        for (op, f) in self.instructions() {
            if !ruled(profile, op) {
                let gas = table.gas_table()[usize::from(op)];
                table.insert_instruction(op, Instruction::new(f), gas);
            }
        }
    }

    /// Sets revm's configuration for `spec` with the bug's gas parameter or limit, if any.
    pub(super) fn configure(bug: Option<Planted>, cfg: &mut CfgEnv, spec: SpecId) {
        cfg.set_spec_and_mainnet_gas_params(spec);
        cfg.limit_contract_initcode_size = None;
        match bug.map(Planted::plant) {
            Some(Plant::GasParam(id, value)) => cfg.gas_params.override_gas([(id, value)]),
            Some(Plant::NoInitcodeLimit) => cfg.limit_contract_initcode_size = Some(usize::MAX),
            _ => {}
        }
    }

    /// Whether the bug changes revm's configuration (so a cached EVM must be reconfigured
    /// when it comes or goes).
    pub(super) fn changes_cfg(self) -> bool {
        matches!(self.plant(), Plant::GasParam(..) | Plant::NoInitcodeLimit)
    }

    /// The input the precompile at `address` sees instead of `input`, if the bug rewrites it.
    pub(crate) fn precompile_input(self, address: &Address, input: &[u8]) -> Option<Vec<u8>> {
        let Plant::PrecompileInput(at) = self.plant() else {
            return None;
        };
        if at != *address {
            return None;
        }
        match self {
            // v is the big-endian word at 32..64: 0 or 1 read as 27 or 28.
            Planted::EcrecoverRawV => {
                let mut word = [0u8; 32];
                for (w, b) in word.iter_mut().zip(input.iter().skip(32)) {
                    *w = *b;
                }
                let v = U256::from_be_bytes(word);
                (v < U256::from(2)).then(|| {
                    let mut out = input.to_vec();
                    out.resize(out.len().max(64), 0);
                    out[63] = 27 + word[31];
                    out
                })
            }
            Planted::Blake2fLooseFlag => (input.len() == 213 && input[212] > 1).then(|| {
                let mut out = input.to_vec();
                out[212] = 1;
                out
            }),
            // The versioned hash (0..32) made the commitment's (96..144), as the check wants.
            Planted::PointEvaluationHashUnchecked => (input.len() == 192).then(|| {
                let mut out = input.to_vec();
                let digest = revm::precompile::hash::sha256_run(&input[96..144], u64::MAX)
                    .map(|o| o.bytes)
                    .unwrap_or_default();
                if digest.len() == 32 {
                    out[..32].copy_from_slice(&digest);
                    out[0] = 1; // VERSIONED_HASH_VERSION_KZG
                }
                out
            }),
            _ => None,
        }
    }
}

/// The same context, borrowed for a call into revm's own instruction.
fn again<'b>(
    ctx: &'b mut InstructionContext<'_, Ctx, EthInterpreter>,
) -> InstructionContext<'b, Ctx, EthInterpreter> {
    InstructionContext {
        interpreter: &mut *ctx.interpreter,
        host: &mut *ctx.host,
    }
}

/// The stack's `n`th item from the top, or `None` when the stack is shorter (revm's own
/// instruction then reports the underflow).
fn peek(ctx: &InstructionContext<'_, Ctx, EthInterpreter>, n: usize) -> Option<U256> {
    ctx.interpreter.stack.peek(n).ok()
}

/// Replaces the top `inputs` items with `value` (the instruction's static gas is charged).
fn replace(
    ctx: &mut InstructionContext<'_, Ctx, EthInterpreter>,
    inputs: usize,
    value: U256,
) -> InstructionExecResult {
    for _ in 0..inputs {
        ctx.interpreter.stack.pop()?;
    }
    if !ctx.interpreter.stack.push(value) {
        return Err(InstructionResult::StackOverflow);
    }
    Ok(())
}

fn negate(v: U256) -> U256 {
    (!v).wrapping_add(U256::from(1))
}

fn sdiv_overflow(mut ctx: InstructionContext<'_, Ctx, EthInterpreter>) -> InstructionExecResult {
    let min = U256::from(1) << 255;
    if peek(&ctx, 0) == Some(min) && peek(&ctx, 1) == Some(U256::MAX) {
        return replace(&mut ctx, 2, U256::ZERO);
    }
    arithmetic::sdiv(ctx)
}

fn smod_sign(mut ctx: InstructionContext<'_, Ctx, EthInterpreter>) -> InstructionExecResult {
    let (Some(a), Some(b)) = (peek(&ctx, 0), peek(&ctx, 1)) else {
        return arithmetic::smod(ctx);
    };
    let r = i256_mod(a, b);
    let wrong_sign =
        !r.is_zero() && (i256_sign(&a) == Sign::Minus) != (i256_sign(&b) == Sign::Minus);
    if wrong_sign {
        return replace(&mut ctx, 2, negate(r));
    }
    arithmetic::smod(ctx)
}

fn signextend_large_index(
    mut ctx: InstructionContext<'_, Ctx, EthInterpreter>,
) -> InstructionExecResult {
    if peek(&ctx, 0).is_some_and(|i| i > U256::from(31)) && peek(&ctx, 1).is_some() {
        return replace(&mut ctx, 2, U256::ZERO);
    }
    arithmetic::signextend(ctx)
}

fn byte_index_wraps(mut ctx: InstructionContext<'_, Ctx, EthInterpreter>) -> InstructionExecResult {
    if let (Some(i), Some(x)) = (peek(&ctx, 0), peek(&ctx, 1))
        && i >= U256::from(32)
    {
        let i = (i.as_limbs()[0] % 32) as usize;
        return replace(&mut ctx, 2, U256::from(x.byte(31 - i)));
    }
    bitwise::byte(ctx)
}

fn shl_shift_wraps(mut ctx: InstructionContext<'_, Ctx, EthInterpreter>) -> InstructionExecResult {
    if let (Some(s), Some(x)) = (peek(&ctx, 0), peek(&ctx, 1))
        && s >= U256::from(256)
    {
        let s = (s.as_limbs()[0] % 256) as usize;
        return replace(&mut ctx, 2, x << s);
    }
    bitwise::shl(ctx)
}

fn sar_negative_large(
    mut ctx: InstructionContext<'_, Ctx, EthInterpreter>,
) -> InstructionExecResult {
    if let (Some(s), Some(x)) = (peek(&ctx, 0), peek(&ctx, 1))
        && s >= U256::from(256)
        && x.bit(255)
    {
        return replace(&mut ctx, 2, U256::ZERO);
    }
    bitwise::sar(ctx)
}

fn shr_bound_off_by_one(
    mut ctx: InstructionContext<'_, Ctx, EthInterpreter>,
) -> InstructionExecResult {
    if peek(&ctx, 0) == Some(U256::from(255)) && peek(&ctx, 1).is_some() {
        return replace(&mut ctx, 2, U256::ZERO);
    }
    bitwise::shr(ctx)
}

fn addmod_wraps(mut ctx: InstructionContext<'_, Ctx, EthInterpreter>) -> InstructionExecResult {
    if let (Some(a), Some(b), Some(n)) = (peek(&ctx, 0), peek(&ctx, 1), peek(&ctx, 2))
        && !n.is_zero()
    {
        return replace(&mut ctx, 3, a.wrapping_add(b) % n);
    }
    arithmetic::addmod(ctx)
}

fn mulmod_wraps(mut ctx: InstructionContext<'_, Ctx, EthInterpreter>) -> InstructionExecResult {
    if let (Some(a), Some(b), Some(n)) = (peek(&ctx, 0), peek(&ctx, 1), peek(&ctx, 2))
        && !n.is_zero()
    {
        return replace(&mut ctx, 3, a.wrapping_mul(b) % n);
    }
    arithmetic::mulmod(ctx)
}

fn exp_zero_zero(mut ctx: InstructionContext<'_, Ctx, EthInterpreter>) -> InstructionExecResult {
    if peek(&ctx, 0) == Some(U256::ZERO) && peek(&ctx, 1) == Some(U256::ZERO) {
        // EXP(0, 0)'s dynamic gas is 0 (a zero exponent has no bytes): the static 10 is all.
        return replace(&mut ctx, 2, U256::ZERO);
    }
    arithmetic::exp(ctx)
}

fn calldataload_tail(
    mut ctx: InstructionContext<'_, Ctx, EthInterpreter>,
) -> InstructionExecResult {
    use revm::interpreter::interpreter_types::InputsTr;
    if let Some(offset) = peek(&ctx, 0) {
        let len = ctx.interpreter.input.input().len();
        if offset < U256::from(len) && offset + U256::from(32) > U256::from(len) {
            return replace(&mut ctx, 1, U256::ZERO);
        }
    }
    system::calldataload(ctx)
}

fn jump_truncated(ctx: InstructionContext<'_, Ctx, EthInterpreter>) -> InstructionExecResult {
    if let Some(dest) = peek(&ctx, 0)
        && dest > U256::from(u64::MAX)
    {
        ctx.interpreter
            .stack
            .set(0, U256::from(dest.as_limbs()[0]))?;
    }
    control::jump(ctx)
}

fn jumpi_condition_truncated(
    ctx: InstructionContext<'_, Ctx, EthInterpreter>,
) -> InstructionExecResult {
    if let Some(cond) = peek(&ctx, 1) {
        ctx.interpreter
            .stack
            .set(1, U256::from(cond.as_limbs()[0]))?;
    }
    control::jumpi(ctx)
}

fn returndatacopy_unbounded(
    ctx: InstructionContext<'_, Ctx, EthInterpreter>,
) -> InstructionExecResult {
    let (Some(dest), Some(offset), Some(len)) = (peek(&ctx, 0), peek(&ctx, 1), peek(&ctx, 2))
    else {
        return system::returndatacopy(ctx);
    };
    let available = ctx.interpreter.return_data.buffer().len();
    let in_bounds = offset
        .checked_add(len)
        .is_some_and(|end| end <= U256::from(available));
    if in_bounds
        || !ctx
            .interpreter
            .runtime_flag
            .spec_id
            .is_enabled_in(SpecId::BYZANTIUM)
    {
        return system::returndatacopy(ctx);
    }
    for _ in 0..3 {
        ctx.interpreter.stack.pop()?;
    }
    let len = usize::try_from(len).map_err(|_| InstructionResult::InvalidOperandOOG)?;
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    let Some(dest) =
        system::copy_cost_and_memory_resize(ctx.interpreter, ctx.host.gas_params(), dest, len)?
    else {
        return Ok(());
    };
    let data = ctx.interpreter.return_data.buffer().clone();
    ctx.interpreter.memory.set_data(dest, offset, len, &data);
    Ok(())
}

fn mcopy_forward(mut ctx: InstructionContext<'_, Ctx, EthInterpreter>) -> InstructionExecResult {
    let (Some(dst), Some(src), Some(len)) = (peek(&ctx, 0), peek(&ctx, 1), peek(&ctx, 2)) else {
        return memory::mcopy(ctx);
    };
    // Only an overlapping copy upward differs; run revm's (gas, memory growth), then redo the
    // copy forward from the memory as it was.
    let overlapping = dst > src && !len.is_zero() && src + len > dst;
    if !overlapping || len > U256::from(1u64 << 32) {
        return memory::mcopy(ctx);
    }
    let (dst, src, len) = (dst.to::<usize>(), src.to::<usize>(), len.to::<usize>());
    memory::mcopy(again(&mut ctx))?;
    // revm copied the right way: the source is now at dst. Forward byte-by-byte copying
    // repeats the first `dst - src` bytes of the source; rebuild that from what is at dst.
    let period = dst - src;
    let source: Vec<u8> = ctx
        .interpreter
        .memory
        .slice_len(dst, period.min(len))
        .to_vec();
    let smeared: Vec<u8> = (0..len).map(|i| source[i % period]).collect();
    ctx.interpreter.memory.set(dst, &smeared);
    Ok(())
}

fn blockhash_window(mut ctx: InstructionContext<'_, Ctx, EthInterpreter>) -> InstructionExecResult {
    if let Some(n) = peek(&ctx, 0) {
        let current = ctx.host.block_number();
        if current.checked_sub(n) == Some(U256::from(256)) {
            return replace(&mut ctx, 1, U256::ZERO);
        }
    }
    host::blockhash(ctx)
}

fn blobhash_index_clamped(
    mut ctx: InstructionContext<'_, Ctx, EthInterpreter>,
) -> InstructionExecResult {
    if let Some(i) = peek(&ctx, 0)
        && ctx
            .interpreter
            .runtime_flag
            .spec_id
            .is_enabled_in(SpecId::CANCUN)
    {
        let count = (0..)
            .take_while(|&k| ctx.host.blob_hash(k).is_some())
            .count();
        if count > 0 && i >= U256::from(count) {
            let last = ctx.host.blob_hash(count - 1).unwrap_or_default();
            return replace(&mut ctx, 1, last);
        }
    }
    tx_info::blob_hash(ctx)
}

fn extcodehash_empty_account(
    mut ctx: InstructionContext<'_, Ctx, EthInterpreter>,
) -> InstructionExecResult {
    host::extcodehash(again(&mut ctx))?;
    // revm gives 0 exactly for an empty or missing account; the bug returns the code hash
    // such an account carries, keccak("").
    if let Some(top) = ctx.interpreter.stack.top()
        && top.is_zero()
    {
        *top = U256::from_be_bytes(KECCAK_EMPTY.0);
    }
    Ok(())
}

fn pc_after(mut ctx: InstructionContext<'_, Ctx, EthInterpreter>) -> InstructionExecResult {
    control::pc(again(&mut ctx))?;
    if let Some(top) = ctx.interpreter.stack.top() {
        *top += U256::from(1);
    }
    Ok(())
}

fn gas_before_charge(
    mut ctx: InstructionContext<'_, Ctx, EthInterpreter>,
) -> InstructionExecResult {
    system::gas(again(&mut ctx))?;
    if let Some(top) = ctx.interpreter.stack.top() {
        *top += U256::from(2);
    }
    Ok(())
}

/// Runs `f` as if the frame were not static.
fn unstatic(
    mut ctx: InstructionContext<'_, Ctx, EthInterpreter>,
    f: OpFn,
) -> InstructionExecResult {
    let was = ctx.interpreter.runtime_flag.is_static;
    ctx.interpreter.runtime_flag.is_static = false;
    let result = f(again(&mut ctx));
    ctx.interpreter.runtime_flag.is_static = was;
    result
}

fn tstore_in_static(ctx: InstructionContext<'_, Ctx, EthInterpreter>) -> InstructionExecResult {
    unstatic(ctx, host::tstore)
}

fn sstore_in_static(ctx: InstructionContext<'_, Ctx, EthInterpreter>) -> InstructionExecResult {
    unstatic(ctx, host::sstore)
}

/// LOG0..LOG4 under [`Planted::LogInStatic`].
const LOG_IN_STATIC: [(u8, OpFn); 5] = [
    (0xa0, |ctx| unstatic(ctx, host::log::<0, Ctx>)),
    (0xa1, |ctx| unstatic(ctx, host::log::<1, Ctx>)),
    (0xa2, |ctx| unstatic(ctx, host::log::<2, Ctx>)),
    (0xa3, |ctx| unstatic(ctx, host::log::<3, Ctx>)),
    (0xa4, |ctx| unstatic(ctx, host::log::<4, Ctx>)),
];

/// Whether `profile` has a rule (a behaviour or a price) for `op`.
fn ruled(profile: &Profile, op: u8) -> bool {
    profile.opcodes.contains_key(&op) || profile.gas.opcodes.contains_key(&op)
}

fn extcodesize_always_warm(
    mut ctx: InstructionContext<'_, Ctx, EthInterpreter>,
) -> InstructionExecResult {
    let before = ctx.interpreter.gas.remaining();
    host::extcodesize(again(&mut ctx))?;
    let charged = before - ctx.interpreter.gas.remaining();
    if charged > 0 {
        ctx.interpreter.gas.erase_cost(charged);
    }
    Ok(())
}

fn sload_always_cold(
    mut ctx: InstructionContext<'_, Ctx, EthInterpreter>,
) -> InstructionExecResult {
    let before = ctx.interpreter.gas.remaining();
    host::sload(again(&mut ctx))?;
    let berlin = ctx
        .interpreter
        .runtime_flag
        .spec_id
        .is_enabled_in(SpecId::BERLIN);
    if berlin && before == ctx.interpreter.gas.remaining() {
        let surcharge = ctx.host.gas_params().cold_storage_additional_cost();
        if !ctx.interpreter.gas.record_regular_cost(surcharge) {
            return Err(InstructionResult::OutOfGas);
        }
    }
    Ok(())
}

fn sstore_no_restore_refund(
    ctx: InstructionContext<'_, Ctx, EthInterpreter>,
) -> InstructionExecResult {
    host::sstore_with_gas_accounting(ctx, |ctx, target, load| {
        host::sstore_default_gas_accounting(ctx, target, load)?;
        let vals = &load.data;
        let istanbul = ctx
            .interpreter
            .runtime_flag
            .spec_id
            .is_enabled_in(SpecId::ISTANBUL);
        if istanbul && vals.is_original_eq_new() && !vals.is_new_eq_present() {
            let params = ctx.host.gas_params();
            let reset = if vals.is_original_zero() {
                params.sstore_set_refund()
            } else {
                params.sstore_reset_refund()
            };
            ctx.interpreter.gas.record_refund(-(reset as i64));
        }
        Ok(())
    })
}
