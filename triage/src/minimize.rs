//! Minimizing a divergent case: a smaller case that still shows the same divergence.
//!
//! A generated case runs hundreds of instructions over several contracts, and only a few of
//! them make the backends part. The minimizer edits the case and keeps every edit after which
//! the caller's predicate (in evmdiff: "the backends still diverge with the same signature")
//! still holds, until no edit helps or the attempt budget is spent:
//!
//! * in a chain, drop whole blocks, then single transactions, then withdrawals;
//! * drop pre-state accounts (but a sender's), then storage slots;
//! * in every code (account code, and the init code of a creating transaction): cut the code
//!   after an instruction, then blank runs of instructions — halving the run length each round,
//!   as delta debugging does — by overwriting them with JUMPDEST bytes. Blanking keeps every
//!   byte offset, so the program's jump targets stay where they were;
//! * rewrite each run of instructions that takes nothing from the stack below it by what it
//!   leaves: nothing (blanked) or one value (a push of zero), longest runs first — operands
//!   computed over several instructions become one push;
//! * finally rewrite push immediates (zero, else the same value in the fewest bytes), drop the
//!   blanked bytes where that keeps the divergence (a run at the end of a code, and runs
//!   nothing jumps over), and clear each transaction's value and call data.
//!
//! The predicate decides everything, so the result is correct by construction: it diverges in
//! the same way as the input. The minimizer knows no backend.

use alloy_primitives::{Bytes, U256};
use evmdiff_core::opcode::Opcode;
use evmdiff_core::rw_log::stack_io;
use evmdiff_core::{Case, Fork};

/// JUMPDEST: a one-byte instruction with no effect on the stack, memory or control flow.
const BLANK: u8 = 0x5b;
/// PUSH0 (Shanghai on).
const PUSH0: u8 = 0x5f;
/// PUSH1; PUSH1 + n - 1 is PUSHn.
const PUSH1: u8 = 0x60;

/// The result of [`minimize`].
#[derive(Debug, Clone)]
pub struct Minimized {
    /// The smallest case found that still satisfies the predicate.
    pub case: Case,
    /// Predicate evaluations made.
    pub attempts: usize,
    /// Edits kept.
    pub kept: usize,
    /// Instructions in all codes before and after.
    pub instructions: (usize, usize),
}

/// Which piece of the case holds a code.
#[derive(Debug, Clone, Copy)]
enum Code {
    /// The code of the pre-state account at this position.
    Account(usize),
    /// The data of the transaction at `(block, index)`, which is init code when the
    /// transaction creates a contract.
    InitCode(usize, usize),
}

/// Shrinks `case` while `keeps` holds, evaluating it at most `budget` times. `keeps(case)`
/// itself must hold (else the case is returned unchanged).
pub fn minimize(case: &Case, mut keeps: impl FnMut(&Case) -> bool, budget: usize) -> Minimized {
    let mut m = Minimizer {
        best: case.clone(),
        keeps: &mut keeps,
        attempts: 0,
        kept: 0,
        budget,
    };
    let before = instructions(&m.best);
    m.attempts += 1;
    if (m.keeps)(&m.best) {
        m.drop_blocks();
        m.drop_transactions();
        m.drop_withdrawals();
        // Blanking to a fixed point first, then rewriting what is left (which may let more
        // be blanked): rewriting earlier sends the search down other, often longer, paths.
        loop {
            loop {
                let kept = m.kept;
                m.drop_accounts();
                m.drop_storage();
                for code in codes(&m.best) {
                    m.cut(code);
                    m.blank(code);
                }
                if m.kept == kept || m.out_of_budget() {
                    break;
                }
            }
            let kept = m.kept;
            for code in codes(&m.best) {
                m.collapse(code);
            }
            if m.kept == kept || m.out_of_budget() {
                break;
            }
        }
        for code in codes(&m.best) {
            m.immediates(code);
            m.squeeze(code);
        }
        m.simplify_transaction();
    }
    let after = instructions(&m.best);
    Minimized {
        case: m.best,
        attempts: m.attempts,
        kept: m.kept,
        instructions: (before, after),
    }
}

struct Minimizer<'k> {
    best: Case,
    keeps: &'k mut dyn FnMut(&Case) -> bool,
    attempts: usize,
    kept: usize,
    budget: usize,
}

impl Minimizer<'_> {
    fn out_of_budget(&self) -> bool {
        self.attempts >= self.budget
    }

    /// Tries `candidate`; keeps it if the predicate holds.
    fn attempt(&mut self, candidate: Case) -> bool {
        if self.out_of_budget() {
            return false;
        }
        self.attempts += 1;
        if (self.keeps)(&candidate) {
            self.best = candidate;
            self.kept += 1;
            true
        } else {
            false
        }
    }

    /// Drops whole blocks of a chain, the last first (a block needs no later one), keeping at
    /// least one.
    fn drop_blocks(&mut self) {
        for i in (0..self.best.blocks.len()).rev() {
            if self.best.blocks.len() == 1 || i >= self.best.blocks.len() {
                continue;
            }
            let mut c = self.best.clone();
            c.blocks.remove(i);
            self.attempt(c);
        }
    }

    /// Drops single transactions, the last first, keeping at least one in the case.
    fn drop_transactions(&mut self) {
        for b in (0..self.best.blocks.len()).rev() {
            for t in (0..self.best.blocks[b].txs.len()).rev() {
                if self.best.tx_count() == 1 || t >= self.best.blocks[b].txs.len() {
                    continue;
                }
                let mut c = self.best.clone();
                c.blocks[b].txs.remove(t);
                self.attempt(c);
            }
        }
    }

    /// Drops the withdrawals of each block that has some.
    fn drop_withdrawals(&mut self) {
        for b in 0..self.best.blocks.len() {
            if self.best.blocks[b]
                .withdrawals
                .as_ref()
                .is_some_and(|w| !w.is_empty())
            {
                let mut c = self.best.clone();
                c.blocks[b].withdrawals = Some(Vec::new());
                self.attempt(c);
            }
        }
    }

    fn drop_accounts(&mut self) {
        let addresses: Vec<_> = self.best.pre.keys().copied().collect();
        for addr in addresses {
            if self.best.transactions().any(|(_, tx)| tx.sender == addr) {
                continue;
            }
            let mut c = self.best.clone();
            c.pre.remove(&addr);
            self.attempt(c);
        }
    }

    fn drop_storage(&mut self) {
        let slots: Vec<_> = self
            .best
            .pre
            .iter()
            .flat_map(|(a, acc)| acc.storage.keys().map(move |k| (*a, *k)))
            .collect();
        for (addr, slot) in slots {
            let mut c = self.best.clone();
            if let Some(acc) = c.pre.get_mut(&addr) {
                acc.storage.remove(&slot);
            }
            self.attempt(c);
        }
    }

    /// Cuts the code after an instruction: the shortest prefix that keeps the divergence, found
    /// by bisection over instruction boundaries (a shorter prefix that works is tried first).
    fn cut(&mut self, code: Code) {
        let Some(bytes) = get(&self.best, code) else {
            return;
        };
        let starts = boundaries(&bytes);
        let (mut lo, mut hi) = (0, starts.len());
        while lo < hi && !self.out_of_budget() {
            let mid = (lo + hi) / 2;
            let end = starts.get(mid).copied().unwrap_or(bytes.len());
            let c = with(&self.best, code, bytes[..end].to_vec());
            if self.attempt(c) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
    }

    /// Blanks runs of instructions, from half the code down to single instructions.
    fn blank(&mut self, code: Code) {
        let Some(bytes) = get(&self.best, code) else {
            return;
        };
        let live = live_instructions(&bytes);
        let mut run = (live.len() / 2).max(1);
        loop {
            let current = get(&self.best, code).unwrap_or_default();
            let live = live_instructions(&current);
            let mut i = 0;
            let mut bytes = current.to_vec();
            while i < live.len() && !self.out_of_budget() {
                let chunk = &live[i..(i + run).min(live.len())];
                let mut candidate = bytes.clone();
                for &(start, len) in chunk {
                    candidate[start..start + len].fill(BLANK);
                }
                if self.attempt(with(&self.best, code, candidate.clone())) {
                    bytes = candidate;
                }
                i += run;
            }
            if run == 1 || self.out_of_budget() {
                break;
            }
            run /= 2;
        }
    }

    /// Rewrites self-contained pieces of code by what they leave on the stack. A run of
    /// instructions that takes nothing from the stack below it (its operands are pushed inside
    /// it) and leaves nothing becomes blank; one that leaves one value becomes a push of zero
    /// (`PUSH0`, `PUSH1 0` before Shanghai): the value a computation made rarely matters to the
    /// divergence, and where it does the predicate says so. The longest run from each
    /// instruction is tried first; blanking pads the rest, so offsets stay.
    fn collapse(&mut self, code: Code) {
        let mut i = 0;
        loop {
            let Some(bytes) = get(&self.best, code) else {
                return;
            };
            let live = live_instructions(&bytes);
            if i >= live.len() || self.out_of_budget() {
                return;
            }
            // The ends of the runs from `i` that take nothing from below, with what they leave.
            let mut ends = Vec::new();
            let mut height = 0usize;
            for (j, &(s, _)) in live.iter().enumerate().skip(i) {
                let (inputs, outputs) = stack_io(bytes[s]);
                if height < inputs {
                    break;
                }
                height = height - inputs + outputs;
                if height <= 1 {
                    ends.push((j, height));
                }
            }
            let mut collapsed = false;
            for &(j, leaves) in ends.iter().rev() {
                if j + 1 - i <= leaves {
                    continue;
                }
                let (start, end) = (live[i].0, live[j].0 + live[j].1);
                let zero = self.push_zero();
                if leaves == 1 && zero.len() > end - start {
                    continue;
                }
                let mut candidate = bytes.to_vec();
                candidate[start..end].fill(BLANK);
                if leaves == 1 {
                    candidate[start..start + zero.len()].copy_from_slice(zero);
                }
                if self.attempt(with(&self.best, code, candidate)) {
                    collapsed = true;
                    break;
                }
            }
            if !collapsed {
                i += 1;
            }
        }
    }

    /// The shortest push of zero in the case's fork.
    fn push_zero(&self) -> &'static [u8] {
        if self.best.fork >= Fork::Shanghai {
            &[PUSH0]
        } else {
            &[PUSH1, 0]
        }
    }

    /// Rewrites each push's immediate: zero where the value does not matter, else the same
    /// value in the fewest bytes (`PUSH32 0x00..05` is `PUSH1 0x05`), blank-padded so that
    /// offsets stay.
    fn immediates(&mut self, code: Code) {
        let Some(bytes) = get(&self.best, code) else {
            return;
        };
        for (start, len) in live_instructions(&bytes) {
            let Some(bytes) = get(&self.best, code) else {
                return;
            };
            let op = bytes[start];
            if !(PUSH1..=PUSH1 + 31).contains(&op) || len < 2 || start + len > bytes.len() {
                continue;
            }
            let value = &bytes[start + 1..start + len];
            let zero = self.push_zero();
            let mut candidates: Vec<Vec<u8>> = Vec::new();
            if value.iter().any(|b| *b != 0) && zero.len() <= len {
                candidates.push(zero.to_vec());
            }
            let significant = &value[value.iter().take_while(|b| **b == 0).count()..];
            if !significant.is_empty() && significant.len() < value.len() {
                let mut short = vec![PUSH1 + (significant.len() as u8 - 1)];
                short.extend_from_slice(significant);
                candidates.push(short);
            }
            for replacement in candidates {
                let mut candidate = bytes.to_vec();
                candidate[start..start + len].fill(BLANK);
                candidate[start..start + replacement.len()].copy_from_slice(&replacement);
                if self.attempt(with(&self.best, code, candidate)) {
                    break;
                }
            }
        }
    }

    /// Removes blanked runs: each run of JUMPDEST bytes at a time, shortest code first.
    fn squeeze(&mut self, code: Code) {
        loop {
            let Some(bytes) = get(&self.best, code) else {
                return;
            };
            let mut removed = false;
            for (start, len) in blank_runs(&bytes).into_iter().rev() {
                let mut candidate = bytes.to_vec();
                candidate.drain(start..start + len);
                if self.attempt(with(&self.best, code, candidate)) {
                    removed = true;
                    break;
                }
            }
            if !removed || self.out_of_budget() {
                return;
            }
        }
    }

    fn simplify_transaction(&mut self) {
        for b in 0..self.best.blocks.len() {
            for t in 0..self.best.blocks[b].txs.len() {
                let tx = &self.best.blocks[b].txs[t];
                if tx.value != U256::ZERO {
                    let mut c = self.best.clone();
                    c.blocks[b].txs[t].value = U256::ZERO;
                    self.attempt(c);
                }
                let tx = &self.best.blocks[b].txs[t];
                if tx.to.is_some() && !tx.data.is_empty() {
                    let mut c = self.best.clone();
                    c.blocks[b].txs[t].data = Bytes::new();
                    self.attempt(c);
                }
            }
        }
    }
}

/// Every code of the case: account codes (non-empty), then the init codes.
fn codes(case: &Case) -> Vec<Code> {
    let mut out: Vec<Code> = case
        .pre
        .values()
        .enumerate()
        .filter(|(_, a)| !a.code.is_empty())
        .map(|(i, _)| Code::Account(i))
        .collect();
    for (at, tx) in case.transactions() {
        if tx.to.is_none() && !tx.data.is_empty() {
            out.push(Code::InitCode(at.block, at.tx.unwrap_or_default()));
        }
    }
    out
}

fn get(case: &Case, code: Code) -> Option<Bytes> {
    match code {
        Code::Account(i) => case.pre.values().nth(i).map(|a| a.code.clone()),
        Code::InitCode(b, t) => Some(case.blocks.get(b)?.txs.get(t)?.data.clone()),
    }
}

fn with(case: &Case, code: Code, bytes: Vec<u8>) -> Case {
    let mut c = case.clone();
    match code {
        Code::Account(i) => {
            if let Some(a) = c.pre.values_mut().nth(i) {
                a.code = bytes.into();
            }
        }
        Code::InitCode(b, t) => {
            if let Some(tx) = c.blocks.get_mut(b).and_then(|b| b.txs.get_mut(t)) {
                tx.data = bytes.into();
            }
        }
    }
    c
}

/// Byte offsets at which instructions start.
fn boundaries(code: &[u8]) -> Vec<usize> {
    instructions_of(code).into_iter().map(|(s, _)| s).collect()
}

/// `(start, length)` of every instruction, immediates included.
fn instructions_of(code: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pc = 0;
    while pc < code.len() {
        let len = (1 + Opcode(code[pc]).immediate_len()).min(code.len() - pc);
        out.push((pc, len));
        pc += len;
    }
    out
}

/// Instructions that are not already blank.
fn live_instructions(code: &[u8]) -> Vec<(usize, usize)> {
    instructions_of(code)
        .into_iter()
        .filter(|&(s, l)| !(l == 1 && code[s] == BLANK))
        .collect()
}

/// `(start, length)` of each maximal run of blank instructions.
fn blank_runs(code: &[u8]) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (s, l) in instructions_of(code) {
        if l == 1 && code[s] == BLANK {
            match runs.last_mut() {
                Some((start, len)) if *start + *len == s => *len += 1,
                _ => runs.push((s, 1)),
            }
        }
    }
    runs
}

/// Instructions over all codes that are not blank.
pub fn instructions(case: &Case) -> usize {
    codes(case)
        .into_iter()
        .filter_map(|c| get(case, c))
        .map(|b| live_instructions(&b).len())
        .sum()
}

/// A readable listing of `code`: one instruction per line, `pc: NAME immediate`, with runs of
/// blank JUMPDESTs folded into one line.
pub fn disassemble(code: &[u8]) -> String {
    let mut out = String::new();
    let mut blanks: Option<(usize, usize)> = None;
    let flush = |out: &mut String, blanks: &mut Option<(usize, usize)>| {
        if let Some((start, n)) = blanks.take() {
            if n == 1 {
                out.push_str(&format!("{start:>5}: JUMPDEST\n"));
            } else {
                out.push_str(&format!("{start:>5}: JUMPDEST x{n}\n"));
            }
        }
    };
    for (s, l) in instructions_of(code) {
        if l == 1 && code[s] == BLANK {
            match &mut blanks {
                Some((_, n)) => *n += 1,
                None => blanks = Some((s, 1)),
            }
            continue;
        }
        flush(&mut out, &mut blanks);
        let op = Opcode(code[s]);
        if l > 1 {
            let imm = alloy_primitives::hex::encode(&code[s + 1..s + l]);
            out.push_str(&format!("{s:>5}: {op} 0x{imm}\n"));
        } else {
            out.push_str(&format!("{s:>5}: {op}\n"));
        }
    }
    flush(&mut out, &mut blanks);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The regression case (a sender and one contract), with the contract's code replaced.
    fn case_with(code: Vec<u8>) -> Case {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/regressions/codecopy_msize.json");
        let mut c = evmdiff_core::statetest::read_file(&path)
            .unwrap()
            .cases
            .remove(0);
        let to = c.tx().unwrap().to.unwrap();
        c.pre.get_mut(&to).unwrap().code = code.into();
        c
    }

    /// The contract's code (empty once the minimizer has dropped the account).
    fn code(c: &Case) -> Vec<u8> {
        c.pre
            .get(&c.tx().unwrap().to.unwrap())
            .map(|a| a.code.to_vec())
            .unwrap_or_default()
    }

    #[test]
    fn keeps_only_what_the_predicate_needs() {
        // PUSH1 1, PUSH1 2, ADD, CODECOPY-free filler ..., MSIZE, POP, STOP: the predicate
        // wants an MSIZE followed somewhere by a POP.
        let mut bytes = vec![0x60, 0x01, 0x60, 0x02, 0x01, 0x50];
        bytes.extend([0x30; 20]); // ADDRESS x20
        bytes.extend([0x59, 0x50, 0x00]);
        let case = case_with(bytes);
        let wants = |c: &Case| {
            let b = code(c);
            let ops = live_instructions(&b);
            ops.iter().any(|&(s, _)| b[s] == 0x59)
                && ops
                    .windows(2)
                    .any(|w| b[w[0].0] == 0x59 && b[w[1].0] == 0x50)
        };
        let m = minimize(&case, wants, 10_000);
        assert!(wants(&m.case));
        assert_eq!(disassemble(&code(&m.case)), "    0: MSIZE\n    1: POP\n");
        assert_eq!(m.instructions.1, 2);
        assert!(m.instructions.0 > 20);
    }

    #[test]
    fn blanking_keeps_jump_targets() {
        // PUSH1 6, JUMP, ADDRESS, ADDRESS, ... JUMPDEST at 6, MSIZE: the predicate needs the
        // JUMP to land on offset 6, so the bytes before it keep their offsets.
        let bytes = vec![0x60, 0x06, 0x56, 0x30, 0x30, 0x30, 0x5b, 0x59];
        let case = case_with(bytes);
        let wants = |c: &Case| {
            let b = code(c);
            b.len() > 7 && b[0] == 0x60 && b[1] == 0x06 && b[2] == 0x56 && b[7] == 0x59
        };
        let m = minimize(&case, wants, 10_000);
        assert_eq!(
            code(&m.case),
            vec![0x60, 0x06, 0x56, 0x5b, 0x5b, 0x5b, 0x5b, 0x59]
        );
        assert_eq!(
            disassemble(&code(&m.case)),
            "    0: PUSH1 0x06\n    2: JUMP\n    3: JUMPDEST x4\n    7: MSIZE\n"
        );
    }

    /// Operands computed over several instructions become one push of zero, and an immediate
    /// whose value does not matter becomes zero: the predicate wants an SSTORE that finds
    /// exactly its two operands on the stack.
    #[test]
    fn computed_operands_collapse_into_pushes() {
        // ADDRESS POP PUSH1 3 PUSH1 4 ADD PUSH2 0x0001 SSTORE STOP
        let bytes = vec![
            0x30, 0x50, 0x60, 0x03, 0x60, 0x04, 0x01, 0x61, 0x00, 0x01, 0x55, 0x00,
        ];
        let case = case_with(bytes);
        let wants = |c: &Case| {
            let b = code(c);
            let mut height = 0usize;
            for (s, _) in live_instructions(&b) {
                let (inputs, outputs) = stack_io(b[s]);
                if b[s] == 0x55 {
                    return height == 2;
                }
                let Some(h) = height.checked_sub(inputs) else {
                    return false;
                };
                height = h + outputs;
            }
            false
        };
        let m = minimize(&case, wants, 10_000);
        assert_eq!(
            disassemble(&code(&m.case)),
            "    0: PUSH0\n    1: PUSH0\n    2: SSTORE\n"
        );
        assert_eq!(m.instructions, (8, 3));
    }

    #[test]
    fn a_case_that_does_not_hold_is_returned_unchanged() {
        let case = case_with(vec![0x30, 0x00]);
        let m = minimize(&case, |_| false, 100);
        assert_eq!(code(&m.case), vec![0x30, 0x00]);
        assert_eq!((m.attempts, m.kept), (1, 0));
    }

    #[test]
    fn the_budget_bounds_the_attempts() {
        let case = case_with(vec![0x30; 200]);
        let m = minimize(&case, |_| true, 25);
        assert!(m.attempts <= 25, "{} attempts", m.attempts);
    }
}
