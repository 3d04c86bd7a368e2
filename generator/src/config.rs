//! The generator's configuration, itself drawn from the fuzzer's bytes (swarm testing: each
//! case enables a random subset of instruction classes, so rare combinations get generated
//! without every program being a uniform soup of everything).

use arbitrary::{Arbitrary, Result, Unstructured};

/// A class of instructions that can be switched on or off as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// ADD..SIGNEXTEND, EXP.
    Arithmetic,
    /// LT..ISZERO, AND..SAR, CLZ.
    Bitwise,
    /// KECCAK256.
    Keccak,
    /// ADDRESS..GASPRICE, CALLDATA*, CODE*, RETURNDATA*, PC, MSIZE, GAS.
    Environment,
    /// BALANCE, EXTCODESIZE, EXTCODECOPY, EXTCODEHASH, SELFBALANCE.
    Accounts,
    /// BLOCKHASH..BLOBBASEFEE.
    Block,
    /// MLOAD, MSTORE, MSTORE8, MCOPY.
    Memory,
    /// SLOAD, SSTORE.
    Storage,
    /// TLOAD, TSTORE.
    Transient,
    /// Conditional blocks and bounded loops.
    Control,
    /// DUP, SWAP, POP on the modelled stack.
    Stack,
    /// LOG0..LOG4.
    Logs,
    /// CALL, CALLCODE, DELEGATECALL, STATICCALL to the case's contracts and other accounts.
    Calls,
    /// Calls to precompiles with typed (well-formed and malformed) inputs.
    Precompiles,
    /// CREATE and CREATE2 of generated init code.
    Creates,
    /// SELFDESTRUCT.
    Selfdestruct,
    /// RETURN / REVERT / INVALID / STOP in the middle of code.
    Terminators,
}

impl Class {
    /// Every class.
    pub const ALL: [Class; 17] = [
        Class::Arithmetic,
        Class::Bitwise,
        Class::Keccak,
        Class::Environment,
        Class::Accounts,
        Class::Block,
        Class::Memory,
        Class::Storage,
        Class::Transient,
        Class::Control,
        Class::Stack,
        Class::Logs,
        Class::Calls,
        Class::Precompiles,
        Class::Creates,
        Class::Selfdestruct,
        Class::Terminators,
    ];
}

/// Shape and content switches for one generated case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratorConfig {
    /// Enabled classes (never empty).
    pub classes: Vec<Class>,
    /// Number of generated contracts (1..=4).
    pub contracts: usize,
    /// Upper bound on top-level actions per contract.
    pub max_actions: usize,
    /// Whether the transaction may be a contract creation.
    pub allow_create_tx: bool,
    /// Whether the transaction may call a precompile directly.
    pub allow_precompile_tx: bool,
    /// Whether the case is a chain of blocks of transactions rather than one transaction
    /// (from Paris on, where a generated chain is a valid proof-of-stake blockchain).
    pub chain: bool,
    /// The most gas a transaction may be given: the case's work budget, so that a campaign
    /// against a slow EVM (the execution spec interprets about 10⁵ instructions a second) is
    /// not spent on a few cases that loop for millions of instructions. Not drawn: the
    /// campaign sets it (`evmdiff fuzz --case-gas`); `None` is the generator's own range.
    pub gas_budget: Option<u64>,
}

impl GeneratorConfig {
    /// True when `class` is enabled.
    pub fn has(&self, class: Class) -> bool {
        self.classes.contains(&class)
    }

    /// Every class on, the largest shape: for callers of `generate_with` that want no swarm
    /// (`evmdiff fuzz --coverage` measures the swarm-drawn cases the campaign runs).
    pub fn everything() -> Self {
        GeneratorConfig {
            classes: Class::ALL.to_vec(),
            contracts: 3,
            max_actions: 48,
            allow_create_tx: true,
            allow_precompile_tx: true,
            chain: false,
            gas_budget: None,
        }
    }
}

impl<'a> Arbitrary<'a> for GeneratorConfig {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        // A 17-bit mask; an all-off mask means all-on, so every class keeps a fair share.
        let mask = u32::arbitrary(u)? & ((1 << Class::ALL.len()) - 1);
        let classes: Vec<Class> = if mask == 0 {
            Class::ALL.to_vec()
        } else {
            Class::ALL
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, c)| *c)
                .collect()
        };
        Ok(GeneratorConfig {
            classes,
            contracts: u.int_in_range(1..=4)?,
            max_actions: u.int_in_range(4..=64)?,
            allow_create_tx: u.ratio(1, 8)?,
            allow_precompile_tx: u.ratio(1, 16)?,
            chain: u.ratio(1, 4)?,
            gas_budget: None,
        })
    }
}
