//! Gas a profile charges in place of the base fork's: for an opcode, for a precompile.
//!
//! Only items whose whole cost is one number qualify (ADD's 3, ecrecover's 3,000), so that
//! "the gas of X is N" means one thing in every backend: an opcode with memory expansion or
//! warm/cold pricing, or a precompile priced from its input, has no single number to replace,
//! and the parser refuses a rule for it rather than guess which part it would change.

use std::collections::BTreeMap;

use alloy_primitives::Address;

use crate::opcode::Opcode;

/// Gas rules of a profile (`[gas.opcodes]`, `[gas.precompiles]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GasRules {
    /// Per opcode byte: the gas charged instead of [`fixed_opcode_gas`].
    pub opcodes: BTreeMap<u8, u64>,
    /// Per precompile address: the gas charged instead of
    /// [`Precompile::fixed_price`](crate::precompile::Precompile::fixed_price).
    pub precompiles: BTreeMap<Address, u64>,
}

impl GasRules {
    /// No rule.
    pub fn is_empty(&self) -> bool {
        self.opcodes.is_empty() && self.precompiles.is_empty()
    }
}

/// The whole gas cost of `op` when it does not depend on operands, memory or state (the same
/// in every fork that has the opcode): the opcodes a `[gas.opcodes]` rule may re-price.
pub fn fixed_opcode_gas(op: Opcode) -> Option<u64> {
    let gas = match op.0 {
        0x01 | 0x03 => 3,               // ADD, SUB
        0x02 | 0x04..=0x07 | 0x0b => 5, // MUL, DIV, SDIV, MOD, SMOD, SIGNEXTEND
        0x08 | 0x09 => 8,               // ADDMOD, MULMOD
        0x10..=0x1d => 3,               // comparison and bitwise, shifts
        0x1e => 5,                      // CLZ (EIP-7939)
        0x30 | 0x32 | 0x33 | 0x34 | 0x36 | 0x38 | 0x3a | 0x3d => 2,
        0x41..=0x46 | 0x48 | 0x4a => 2,        // block values
        0x47 => 5,                             // SELFBALANCE
        0x40 => 20,                            // BLOCKHASH
        0x35 | 0x49 => 3,                      // CALLDATALOAD, BLOBHASH
        0x50 | 0x58 | 0x59 | 0x5a | 0x5f => 2, // POP, PC, MSIZE, GAS, PUSH0
        0x56 => 8,                             // JUMP
        0x57 => 10,                            // JUMPI
        0x5b => 1,                             // JUMPDEST
        0x60..=0x9f => 3,                      // PUSHn, DUPn, SWAPn
        _ => return None,
    };
    Some(gas)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::constant_shape;

    #[test]
    fn fixed_costs_agree_with_the_constant_shapes() {
        for b in 0..=255u8 {
            if let Some((_, gas)) = constant_shape(Opcode(b)) {
                assert_eq!(fixed_opcode_gas(Opcode(b)), Some(gas), "{}", Opcode(b));
            }
        }
        assert_eq!(
            fixed_opcode_gas(Opcode(0x54)),
            None,
            "SLOAD is warm/cold priced"
        );
        assert_eq!(
            fixed_opcode_gas(Opcode(0x52)),
            None,
            "MSTORE expands memory"
        );
    }
}
