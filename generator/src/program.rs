//! Structured contract code: instructions with immediates and labels, assembled to bytecode.
//!
//! Generating (and later minimizing) at this level keeps every jump pointing at a JUMPDEST and
//! every PUSH well formed, which raw bytes would not.

use alloy_primitives::{Bytes, U256};

/// A jump target, resolved when the program is assembled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Label(pub u32);

/// One instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instr {
    /// Any opcode without an immediate.
    Op(u8),
    /// The shortest PUSH of a value (PUSH0 when the fork has it and the value is zero).
    Push(U256),
    /// PUSH2 of a label's offset.
    PushLabel(Label),
    /// A JUMPDEST that `label` names.
    Mark(Label),
    /// Raw bytes (e.g. a deliberately malformed tail), emitted as is.
    Raw(Vec<u8>),
}

/// A sequence of instructions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Program {
    /// The instructions, in order.
    pub instrs: Vec<Instr>,
    /// Whether PUSH0 may be used (Shanghai+).
    pub push0: bool,
}

impl Program {
    /// Appends an instruction.
    pub fn push(&mut self, i: Instr) {
        self.instrs.push(i);
    }

    /// Appends a PUSH of `v`.
    pub fn value(&mut self, v: U256) {
        self.instrs.push(Instr::Push(v));
    }

    /// Appends an opcode.
    pub fn op(&mut self, op: u8) {
        self.instrs.push(Instr::Op(op));
    }

    fn push_len(&self, v: &U256) -> usize {
        let bytes = v.byte_len();
        if bytes == 0 && self.push0 {
            1
        } else {
            1 + bytes.max(1)
        }
    }

    fn len(&self, i: &Instr) -> usize {
        match i {
            Instr::Op(_) | Instr::Mark(_) => 1,
            Instr::Push(v) => self.push_len(v),
            Instr::PushLabel(_) => 3,
            Instr::Raw(b) => b.len(),
        }
    }

    /// Assembles to bytecode; labels that are never marked point at offset 0 (not a
    /// JUMPDEST, so such a jump halts — the generator never emits one).
    pub fn assemble(&self) -> Bytes {
        let mut offsets = std::collections::HashMap::new();
        let mut pc = 0usize;
        for i in &self.instrs {
            if let Instr::Mark(l) = i {
                offsets.insert(*l, pc);
            }
            pc += self.len(i);
        }
        let mut out = Vec::with_capacity(pc);
        for i in &self.instrs {
            match i {
                Instr::Op(op) => out.push(*op),
                Instr::Mark(_) => out.push(0x5b),
                Instr::Push(v) => {
                    let n = v.byte_len();
                    if n == 0 && self.push0 {
                        out.push(0x5f);
                    } else {
                        let n = n.max(1);
                        out.push(0x5f + n as u8);
                        out.extend_from_slice(&v.to_be_bytes::<32>()[32 - n..]);
                    }
                }
                Instr::PushLabel(l) => {
                    let at = offsets.get(l).copied().unwrap_or(0) as u16;
                    out.push(0x61);
                    out.extend_from_slice(&at.to_be_bytes());
                }
                Instr::Raw(b) => out.extend_from_slice(b),
            }
        }
        out.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_resolve_to_their_jumpdest() {
        let mut p = Program {
            push0: true,
            ..Default::default()
        };
        p.push(Instr::PushLabel(Label(1)));
        p.op(0x56);
        p.value(U256::ZERO);
        p.value(U256::from(0x1234));
        p.push(Instr::Mark(Label(1)));
        p.op(0x00);
        let code = p.assemble();
        // PUSH2 0x0008, JUMP, PUSH0, PUSH2 0x1234, JUMPDEST, STOP
        assert_eq!(
            code.as_ref(),
            &[0x61, 0x00, 0x08, 0x56, 0x5f, 0x61, 0x12, 0x34, 0x5b, 0x00]
        );
        let mut q = Program::default();
        q.value(U256::ZERO);
        assert_eq!(
            q.assemble().as_ref(),
            &[0x60, 0x00],
            "no PUSH0 before Shanghai"
        );
    }
}
