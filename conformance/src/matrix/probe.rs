//! The targeted cases of one matrix row: the rule's subject (the opcode executed, the
//! precompile called) in each of the six places where profile rules break: a plain call, a
//! call with value, under STATICCALL, in init code, as the transaction's target, and in a
//! frame that reverts afterwards.
//!
//! Every probe measures rather than trusts: the frame holding the subject (the *site*, code of
//! [`INNER`]) reads GAS just before and just after it and hands back what it saw (the value
//! pushed, the success flag and return data size of a precompile call, both gas readings) as
//! its return data, its revert data, or the code it deploys; the transaction's target
//! ([`CONTRACT`], the *recorder*) enters the site, reads GAS around that too, and stores
//! everything in its storage, where [`judge`](super::judge) reads it.

use alloy_primitives::{Address, B256, U256, b256};
use evmdiff_core::opcode::Opcode;
use evmdiff_core::profile::fixed_opcode_gas;
use evmdiff_core::rw_log::stack_io;
use evmdiff_core::{Case, Fork, Profile};

use super::rule::{Item, Rule};
use crate::scenario::{INNER, ProfileSpec, Scenario, TX_GAS, Target};

/// Gas the recorder forwards to the site.
pub const FRAME_GAS: u64 = 300_000;
/// Gas the site forwards to a precompile.
pub const PRECOMPILE_GAS: u64 = 100_000;
/// Gas of the transaction of an init-code probe (under the 2^24 cap of EIP-7825).
pub const CREATE_TX_GAS: u64 = 16_000_000;
/// Balance of the site's account, so that it can call with value.
const SITE_BALANCE: u64 = 10;

/// Recorder storage: the entry's success flag (a creation: a non-zero address).
pub const SLOT_FLAG: u64 = 0;
/// Recorder storage: the entry's return data size (a creation: the deployed code's size).
pub const SLOT_SIZE: u64 = 1;
/// Recorder storage: the site's words start here, one per slot.
pub const SLOT_WORDS: u64 = 2;
/// Recorder storage: GAS before and after the entry.
pub const SLOT_GAS: [u64; 2] = [8, 9];
/// Words an opcode site hands back: GAS before, the value pushed (0 if none), GAS after.
pub const OPCODE_WORDS: usize = 3;
/// Words a precompile site hands back: success flag, return data size, GAS before, GAS after,
/// the first word of output.
pub const PRECOMPILE_WORDS: usize = 5;

/// Where the subject runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Context {
    /// In a frame entered by a plain CALL.
    Call,
    /// In a frame entered by a CALL with value; a precompile is called with value too.
    CallWithValue,
    /// In a frame entered by STATICCALL.
    StaticCall,
    /// In the init code of a CREATE.
    InitCode,
    /// As the transaction's target: the opcode in the top frame, the precompile as `to`.
    TxTarget,
    /// In a CALLed frame that reverts afterwards (a precompile called with value).
    RevertedFrame,
}

impl Context {
    /// All six, in the order the matrix shows them.
    pub const ALL: [Context; 6] = [
        Context::Call,
        Context::CallWithValue,
        Context::StaticCall,
        Context::InitCode,
        Context::TxTarget,
        Context::RevertedFrame,
    ];

    /// The name a reader sees.
    pub fn name(self) -> &'static str {
        match self {
            Context::Call => "call",
            Context::CallWithValue => "call with value",
            Context::StaticCall => "STATICCALL",
            Context::InitCode => "init code",
            Context::TxTarget => "tx target",
            Context::RevertedFrame => "reverted frame",
        }
    }

    /// A file-name-safe slug.
    pub fn slug(self) -> &'static str {
        match self {
            Context::Call => "call",
            Context::CallWithValue => "value",
            Context::StaticCall => "static",
            Context::InitCode => "init",
            Context::TxTarget => "target",
            Context::RevertedFrame => "reverted",
        }
    }
}

/// One targeted case.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Where the subject runs.
    pub context: Context,
    /// The case.
    pub case: Case,
    /// Gas of the site's instructions between its two GAS readings other than the subject
    /// (the opcode, or the precompile CALL), priced with the profile.
    pub measured: u64,
    /// The site calls the precompile with one wei.
    pub value: bool,
}

/// The probe of `rule` under `profile` in `context`.
pub fn probe(profile: &Profile, rule: &Rule, context: Context) -> Probe {
    let exit = if context == Context::RevertedFrame {
        0xfd
    } else {
        0xf3
    };
    let value = matches!(context, Context::CallWithValue | Context::RevertedFrame);
    let (site, measured) = match rule.item {
        Item::Opcode(op) => opcode_site(op, exit),
        Item::Precompile(address) => precompile_site(address, &rule.input, value, exit),
    };
    let fork = profile.base_fork;
    // CREATE keeps only 1/64 of the gas back for the recorder, whose stores need some 200,000
    // after init code that halts: the creation's transaction carries more.
    let tx_gas = if context == Context::InitCode {
        CREATE_TX_GAS
    } else {
        TX_GAS
    };
    let s = Scenario::new("matrix", ProfileSpec::Mainnet, fork).tx_gas(tx_gas);
    let s = match (context, rule.item) {
        (Context::TxTarget, Item::Precompile(address)) => {
            s.to(Target::Account(address)).data(rule.input.clone())
        }
        (Context::TxTarget, Item::Opcode(_)) => s.code(site.code.clone()),
        (Context::InitCode, _) => s
            .code(recorder_create(site.code.len()))
            .inner(site.code.clone()),
        (Context::StaticCall, _) => s.code(recorder_call(0xfa, 0)).inner(site.code.clone()),
        (Context::CallWithValue, _) => s.code(recorder_call(0xf1, 1)).inner(site.code.clone()),
        (Context::Call | Context::RevertedFrame, _) => {
            s.code(recorder_call(0xf1, 0)).inner(site.code.clone())
        }
    };
    let mut case = s.case();
    case.name = format!("matrix-{}-{}", slug(&rule.name), context.slug());
    if let Some(inner) = case.pre.get_mut(&INNER) {
        inner.balance = U256::from(SITE_BALANCE);
    }
    if fork.includes(Fork::Cancun) {
        blob_environment(&mut case, rule.item == Item::Opcode(BLOBHASH));
    }
    let measured = measured.iter().map(|op| price(profile, *op)).sum();
    Probe {
        context,
        case,
        measured,
        value,
    }
}

const BLOBHASH: u8 = 0x49;

/// A blob base fee above 1 (an excess of 10,000,000 blob gas), and for a BLOBHASH probe a
/// type-3 transaction carrying one versioned hash: so that the commonest constants a profile
/// gives these opcodes (0, 1) differ from what the base fork computes, and a backend that
/// ignores the rule shows.
fn blob_environment(case: &mut Case, blob_tx: bool) {
    let Some(block) = case.blocks.first_mut() else {
        return;
    };
    block.env.excess_blob_gas = Some(10_000_000);
    if !blob_tx {
        return;
    }
    for tx in &mut block.txs {
        let price = tx.gas_price.take();
        tx.max_fee_per_gas = price;
        tx.max_priority_fee_per_gas = Some(U256::from(3));
        tx.access_list = Some(Vec::new());
        tx.max_fee_per_blob_gas = Some(U256::from(1_000_000u64));
        tx.blob_versioned_hashes = Some(vec![VERSIONED_HASH]);
    }
}

/// The versioned hash a BLOBHASH probe's transaction carries (version byte 0x01).
pub const VERSIONED_HASH: B256 =
    b256!("0100000000000000000000000000000000000000000000000000000000000abc");

/// `PREVRANDAO (0x44)` → `prevrandao-0x44`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// The gas of an instruction the probes measure across (a PUSH, GAS, JUMPDEST), under the
/// profile's gas rules.
pub fn price(profile: &Profile, op: u8) -> u64 {
    profile
        .gas
        .opcodes
        .get(&op)
        .copied()
        .or_else(|| fixed_opcode_gas(Opcode(op)))
        .unwrap_or(0)
}

/// Code under construction, remembering the instructions between two GAS readings.
#[derive(Default)]
struct Code {
    code: Vec<u8>,
    measuring: Option<Vec<u8>>,
}

impl Code {
    /// An instruction the measurement counts.
    fn op(&mut self, op: u8) -> &mut Code {
        self.code.push(op);
        if let Some(m) = &mut self.measuring {
            m.push(op);
        }
        self
    }

    /// The subject itself: not counted, it is what is measured.
    fn subject(&mut self, op: u8) -> &mut Code {
        self.code.push(op);
        self.code
            .extend(std::iter::repeat_n(0, Opcode(op).immediate_len()));
        self
    }

    /// PUSH of a small number.
    fn push(&mut self, v: u64) -> &mut Code {
        self.push_word(U256::from(v))
    }

    /// The shortest PUSHn (never PUSH0, which older forks lack) of `v`.
    fn push_word(&mut self, v: U256) -> &mut Code {
        let len = v.byte_len().max(1);
        self.op(0x5f + len as u8);
        self.code
            .extend_from_slice(&v.to_be_bytes::<32>()[32 - len..]);
        self
    }

    /// GAS, starting the measurement.
    fn start(&mut self) -> &mut Code {
        self.op(0x5a);
        self.measuring = Some(Vec::new());
        self
    }

    /// GAS, ending it: the instructions counted.
    fn end(&mut self) -> Vec<u8> {
        self.op(0x5a);
        self.measuring.take().unwrap_or_default()
    }
}

/// The site's code.
struct Site {
    code: Vec<u8>,
}

/// `GAS; <inputs>; OP; GAS`, then `[GAS before, top of stack, GAS after]` returned (or
/// reverted) from memory 0. Inputs are zero, but for BLOCKHASH (the previous block, 0) and
/// JUMP/JUMPI (to the JUMPDEST right after, taken).
fn opcode_site(op: u8, exit: u8) -> (Site, Vec<u8>) {
    let (inputs, outputs) = stack_io(op);
    let mut c = Code::default();
    c.start();
    match op {
        0x56 => {
            let dest = c.code.len() + 3;
            c.push(dest as u64).subject(op).op(0x5b);
        }
        0x57 => {
            let dest = c.code.len() + 5;
            c.push(1).push(dest as u64).subject(op).op(0x5b);
        }
        _ => {
            for _ in 0..inputs {
                c.push(0);
            }
            c.subject(op);
        }
    }
    let measured = c.end();
    c.push(0x40).op(0x52);
    if outputs >= 1 {
        c.push(0x20).op(0x52);
        for _ in 1..outputs {
            c.op(0x50);
        }
    }
    c.push(0).op(0x52);
    c.push((OPCODE_WORDS * 32) as u64).push(0).op(exit);
    (Site { code: c.code }, measured)
}

/// The input in memory from 0xa0, then `GAS; CALL(PRECOMPILE_GAS, address, value, 0xa0,
/// len, 0x80, 32); GAS`, then `[flag, RETURNDATASIZE, GAS before, GAS after, output word]`
/// returned (or reverted) from memory 0. Memory is expanded before the first reading, so the
/// CALL pays no expansion.
fn precompile_site(address: Address, input: &[u8], value: bool, exit: u8) -> (Site, Vec<u8>) {
    let mut c = Code::default();
    for (i, chunk) in input.chunks(32).enumerate() {
        let mut word = [0u8; 32];
        word[..chunk.len()].copy_from_slice(chunk);
        c.push_word(U256::from_be_bytes(word))
            .push(0xa0 + 32 * i as u64)
            .op(0x52);
    }
    c.push(0).push(0x80).op(0x52);
    c.start();
    c.push(32)
        .push(0x80)
        .push(input.len() as u64)
        .push(0xa0)
        .push(u64::from(value))
        .push_word(U256::from_be_slice(address.as_slice()))
        .push(PRECOMPILE_GAS)
        .subject(0xf1);
    let measured = c.end();
    // [GAS before, flag, GAS after]
    c.push(0x60).op(0x52);
    c.push(0).op(0x52);
    c.push(0x40).op(0x52);
    c.op(0x3d).push(0x20).op(0x52);
    c.push((PRECOMPILE_WORDS * 32) as u64).push(0).op(exit);
    (Site { code: c.code }, measured)
}

/// The recorder for the call contexts: `GAS; CALL|STATICCALL(FRAME_GAS, INNER, value, 0, 0,
/// 0, 0); GAS`, then the flag, return data size, both readings and the return data's first
/// words in storage.
fn recorder_call(call: u8, value: u64) -> Vec<u8> {
    let mut c = Code::default();
    c.start();
    c.push(0).push(0).push(0).push(0);
    if call == 0xf1 {
        c.push(value);
    }
    c.push_word(U256::from_be_slice(INNER.as_slice()))
        .push(FRAME_GAS)
        .op(call);
    c.end();
    // [GAS before, flag, GAS after]
    c.push(SLOT_GAS[1]).op(0x55);
    c.push(SLOT_FLAG).op(0x55);
    c.push(SLOT_GAS[0]).op(0x55);
    c.op(0x3d).push(SLOT_SIZE).op(0x55);
    c.op(0x3d).push(0).push(0).op(0x3e);
    store_words(&mut c, 0);
    c.op(0x00);
    c.code
}

/// The recorder for init code: INNER's code copied to memory, `GAS; CREATE(0, 0, len); GAS`,
/// then whether an address came back, the deployed code's size and first words, and both
/// readings in storage.
fn recorder_create(len: usize) -> Vec<u8> {
    const COPY: u64 = 0x400;
    let mut c = Code::default();
    c.push(len as u64)
        .push(0)
        .push(0)
        .push_word(U256::from_be_slice(INNER.as_slice()))
        .op(0x3c);
    c.start();
    c.push(len as u64).push(0).push(0).op(0xf0);
    c.end();
    // [GAS before, address, GAS after]
    c.push(SLOT_GAS[1]).op(0x55);
    c.op(0x80).op(0x15).op(0x15).push(SLOT_FLAG).op(0x55);
    c.op(0x80).op(0x3b).push(SLOT_SIZE).op(0x55);
    c.push((PRECOMPILE_WORDS * 32) as u64)
        .push(0)
        .push(COPY)
        .op(0x83)
        .op(0x3c);
    c.op(0x50);
    c.push(SLOT_GAS[0]).op(0x55);
    store_words(&mut c, COPY);
    c.op(0x00);
    c.code
}

/// `SSTORE(SLOT_WORDS + k, MLOAD(from + 32k))` for every word a site hands back.
fn store_words(c: &mut Code, from: u64) {
    for k in 0..PRECOMPILE_WORDS as u64 {
        c.push(from + 32 * k).op(0x51).push(SLOT_WORDS + k).op(0x55);
    }
}
