//! From fuzzer bytes to a [`Case`] under a [`Profile`].
//!
//! Each contract is built by a [`Builder`] that models the stack depth, so every instruction
//! has its operands; operands come typed (offsets small, addresses real); control flow is
//! forward conditional blocks and loops with a constant trip count, so every program
//! terminates by construction; results are stored, logged or returned so a wrong value
//! reaches the compared state.

use alloy_primitives::{Address, B256, Bytes, U256, address};
use arbitrary::{Arbitrary, Result, Unstructured};
use evmdiff_core::case::{AccessListItem, BlockEnv, Case, Transaction};
use evmdiff_core::opcode::Opcode;
use evmdiff_core::precompile::Precompile;
use evmdiff_core::{Account, Behaviour, Fork, Profile, State};

use crate::config::{Class, GeneratorConfig};
use crate::operands::{self, Edge, Kind, value};
use crate::precompile_input;
use crate::program::{Instr, Label, Program};
use crate::table::{Entry, TABLE};

/// The sender of every generated transaction (the ethereum/tests key).
pub const SENDER: Address = address!("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
/// Its private key.
pub const SENDER_KEY: B256 = B256::new(alloy_primitives::hex!(
    "45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8"
));
/// The block's coinbase.
pub const COINBASE: Address = address!("2adc25665018aa1fe0e6bc666dac8fc2697ff9ba");
/// An address that never has an account.
pub const NOBODY: Address = address!("000000000000000000000000000000000000dead");
/// The block number of generated state tests (BLOCKHASH looks back from it).
const BLOCK_NUMBER: u64 = 1000;
/// The number of the last block a generated chain may have (its genesis is block 0).
pub(crate) const CHAIN_BLOCKS: u64 = 3;
/// Largest transaction gas limit (the EIP-7825 cap from Osaka).
const MAX_TX_GAS: u64 = 16_777_216;

/// The address of generated contract `i`.
pub fn contract_address(i: usize) -> Address {
    let mut b = [0u8; 20];
    b[16] = 0xc0;
    b[17] = 0xde;
    b[19] = i as u8 + 1;
    Address::new(b)
}

/// A generated case and the configuration it was generated with.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The case (fork = the profile's base fork).
    pub case: Case,
    /// The swarm configuration drawn for it.
    pub config: GeneratorConfig,
}

/// Generates a case under `profile` from `u`. The same bytes always give the same case.
pub fn generate(u: &mut Unstructured<'_>, profile: &Profile) -> Result<Generated> {
    let config = GeneratorConfig::arbitrary(u)?;
    generate_with(u, profile, config)
}

/// Generates as [`generate`] does, each transaction given at most `gas_budget` gas (see
/// [`GeneratorConfig::gas_budget`]). The same bytes and budget always give the same case; the
/// draws do not depend on the budget, so a budgeted case is the unbudgeted one with its gas
/// limits capped.
pub fn generate_within(
    u: &mut Unstructured<'_>,
    profile: &Profile,
    gas_budget: Option<u64>,
) -> Result<Generated> {
    let mut config = GeneratorConfig::arbitrary(u)?;
    config.gas_budget = gas_budget;
    generate_with(u, profile, config)
}

/// Generates with a given configuration.
pub fn generate_with(
    u: &mut Unstructured<'_>,
    profile: &Profile,
    config: GeneratorConfig,
) -> Result<Generated> {
    let fork = profile.base_fork;
    let chain = config.chain && fork >= Fork::Paris;
    let world = World::new(
        profile,
        &config,
        if chain { CHAIN_BLOCKS } else { BLOCK_NUMBER },
    );
    if chain {
        let case = crate::chain::chain(u, &world, &config)?;
        return Ok(Generated { case, config });
    }
    // The transaction first: its parameters and the code of its own frame get fresh bytes.
    // Drawn last, they came from an exhausted input in about a quarter of the cases (every
    // draw then gives its lowest choice: the smallest gas limit, a plain call).
    let tx = transaction(u, &world, &config)?;
    let calls_contract_0 = tx.to == Some(contract_address(0));
    let mut pre = funded_sender();
    contracts(u, &world, &config, calls_contract_0, &mut pre)?;
    let case = Case::state_test("generated", fork, state_test_env(fork), pre, tx);
    Ok(Generated { case, config })
}

/// A pre-state holding the sender, funded for any generated transaction.
pub(crate) fn funded_sender() -> State {
    let mut pre = State::new();
    pre.insert(
        SENDER,
        Account {
            balance: U256::from(10u128.pow(21)),
            ..Default::default()
        },
    );
    pre
}

/// The block of a generated state test under `fork`.
pub(crate) fn state_test_env(fork: Fork) -> BlockEnv {
    BlockEnv {
        coinbase: COINBASE,
        gas_limit: U256::from(30_000_000u64),
        number: U256::from(BLOCK_NUMBER),
        timestamp: U256::from(1_700_000_000u64),
        difficulty: if fork >= Fork::Paris {
            U256::ZERO
        } else {
            U256::from(0x20000)
        },
        base_fee: (fork >= Fork::London).then(|| U256::from(7)),
        random: (fork >= Fork::Paris).then(|| B256::repeat_byte(0x5a)),
        excess_blob_gas: (fork >= Fork::Cancun).then_some(0),
        chain_id: 1,
    }
}

/// The generated contracts, into `pre`; contract 0's code runs as the transaction's own frame
/// when `top`.
pub(crate) fn contracts(
    u: &mut Unstructured<'_>,
    world: &World<'_>,
    config: &GeneratorConfig,
    top: bool,
    pre: &mut State,
) -> Result<()> {
    for i in 0..config.contracts {
        let mut b = Builder::new(u, world, config, 0, i == 0 && top);
        let code = b.contract()?;
        let mut storage = std::collections::BTreeMap::new();
        for slot in 0..u.int_in_range(0..=3)? {
            storage.insert(U256::from(slot), U256::from(u.int_in_range(1u64..=3)?));
        }
        let balance = U256::from(*u.choose(&[0u64, 1, 1_000_000_000])?);
        pre.insert(
            contract_address(i),
            Account {
                balance,
                nonce: 1,
                code,
                storage,
            },
        );
    }
    Ok(())
}

/// What the builders may refer to.
///
/// What a profile changes is touched on purpose, but not so often that most cases test only
/// that: a rule that ends the executing frame (`invalid`, `revert-refund`) or the whole
/// transaction (`reject`) makes everything after it dead code, so such opcodes and
/// precompiles are kept apart from the ordinary ones and drawn at their own, lower rates.
pub(crate) struct World<'p> {
    pub(crate) profile: &'p Profile,
    pub(crate) fork: Fork,
    /// The block number BLOCKHASH operands look back from.
    number: u64,
    contracts: Vec<Address>,
    /// Precompiles of the base fork plus the next fork's first one (an ordinary account
    /// here), except those the profile rejects.
    pub(crate) precompiles: Vec<Address>,
    /// Precompiles whose behaviour the profile changes (other than `reject`), weighted up.
    changed_precompiles: Vec<Address>,
    /// Precompiles the profile rejects: a call refuses the transaction from any depth.
    rejected_precompiles: Vec<Address>,
    /// Opcodes whose rule leaves the frame running (a constant, a block-derived value, a new
    /// price): harmless, touched often.
    constant_ops: Vec<u8>,
    /// Opcodes whose rule ends the frame or the transaction (`invalid`, `revert-refund`,
    /// `reject`): kept out of `entries`, emitted only through `Builder::may_disrupt`.
    disruptive_ops: Vec<u8>,
    /// Whether some opcode rule is `reject`, which ends the case from any depth.
    rejects_opcodes: bool,
    /// Entries usable by class, gated by the fork, without the disruptive opcodes.
    entries: Vec<Entry>,
}

impl<'p> World<'p> {
    fn new(profile: &'p Profile, config: &GeneratorConfig, number: u64) -> Self {
        let fork = profile.base_fork;
        // Precompiles of the base fork, plus the next fork's first one (absent here).
        let mut all: Vec<Address> = Precompile::active_in(fork).map(|p| p.address).collect();
        if let Some(next) = evmdiff_core::precompile::PRECOMPILES
            .iter()
            .find(|p| !fork.includes(p.introduced))
        {
            all.push(next.address);
        }
        // Precompiles the profile adds (RIP-7212 P256VERIFY at 0x100 on a Shanghai base).
        for a in profile.added.keys() {
            if !all.contains(a) {
                all.push(*a);
            }
        }
        let behaviour = |a: &Address| profile.precompile(a).unwrap_or(Behaviour::Supported);
        let (rejected_precompiles, precompiles): (Vec<Address>, Vec<Address>) = all
            .into_iter()
            .partition(|a| behaviour(a) == Behaviour::Reject);
        let changed_precompiles = precompiles
            .iter()
            .copied()
            .filter(|a| {
                behaviour(a) != Behaviour::Supported
                    || profile.added.contains_key(a)
                    || profile.gas.precompiles.contains_key(a)
            })
            .collect();
        let mut constant_ops: Vec<u8> = profile
            .opcodes
            .iter()
            .filter(|(_, b)| matches!(b, Behaviour::Constant(_) | Behaviour::KeccakChainNumber))
            .map(|(op, _)| *op)
            .collect();
        // Re-priced opcodes the table knows how to feed (not PUSHn, JUMP...: those are emitted
        // by their own generators, which the table's entries reach anyway).
        constant_ops.extend(
            profile
                .gas
                .opcodes
                .keys()
                .filter(|op| TABLE.iter().any(|e| e.op == **op) && Opcode(**op).exists_in(fork)),
        );
        let disruptive_ops: Vec<u8> = profile
            .opcodes
            .iter()
            .filter(|(_, b)| {
                matches!(
                    b,
                    Behaviour::Invalid | Behaviour::RevertRefund | Behaviour::Reject
                )
            })
            .map(|(op, _)| *op)
            .collect();
        let entries = TABLE
            .iter()
            .filter(|e| {
                config.has(e.class)
                    && Opcode(e.op).exists_in(fork)
                    && !disruptive_ops.contains(&e.op)
            })
            .copied()
            .collect();
        World {
            profile,
            fork,
            number,
            contracts: (0..config.contracts).map(contract_address).collect(),
            precompiles,
            changed_precompiles,
            rejected_precompiles,
            constant_ops,
            rejects_opcodes: profile.opcodes.values().any(|b| *b == Behaviour::Reject),
            disruptive_ops,
            entries,
        }
    }
}

/// Builds one contract's (or init code's) program.
pub(crate) struct Builder<'a, 'u, 'p> {
    u: &'a mut Unstructured<'u>,
    world: &'a World<'p>,
    config: &'a GeneratorConfig,
    prog: Program,
    depth: usize,
    /// Items below this depth belong to an enclosing block and must not be consumed.
    floor: usize,
    labels: u32,
    slot: u64,
    nesting: usize,
    /// Init-code nesting: CREATE inside init code is allowed once.
    create_level: usize,
    /// This code runs in the transaction's own frame (contract 0, or a creation
    /// transaction's init code), where ending the frame ends the case.
    top: bool,
    /// Actions begun so far.
    actions: usize,
    /// A disruptive opcode has been emitted (the top frame gets at most one).
    disrupted: bool,
    /// Values written to the observation area so far.
    observed: u64,
    /// Loops enclosing the code being built.
    loops: usize,
    /// The first two slots this code's storage (`[0]`) and transient storage (`[1]`)
    /// operations drew: half of the later ones use them.
    hot_slots: [Vec<U256>; 2],
}

/// Most values the builder keeps on its modelled stack before it observes instead of
/// pushing more (a deep DUP or SWAP pads past it briefly).
const MAX_DEPTH: usize = 48;
/// Where observed values are written in memory: past the offsets operands use (at most a
/// few KiB, including init code copied to 0x400), so that they survive until `finish`.
const OBS_AREA: u64 = 0x3000;
/// Words of the observation area; later values wrap around.
const OBS_WORDS: u64 = 64;
/// Precompiles that cost about a millisecond of CPU per call (pairing checks, the KZG
/// proof check): not called inside loops, whose bodies run up to 8 times (512 when nested),
/// since repeating the same check tests nothing new and slowed campaigns by a quarter.
const SLOW_PRECOMPILES: [u8; 3] = [0x08, 0x0a, 0x0f];
/// Gas amounts a call forwards when it forwards a fixed amount.
const CALL_GAS: [u64; 7] = [0, 100, 2300, 10_000, 30_000, 65_535, 200_000];

impl<'a, 'u, 'p> Builder<'a, 'u, 'p> {
    pub(crate) fn new(
        u: &'a mut Unstructured<'u>,
        world: &'a World<'p>,
        config: &'a GeneratorConfig,
        create_level: usize,
        top: bool,
    ) -> Self {
        let prog = Program {
            push0: world.fork >= Fork::Shanghai,
            ..Default::default()
        };
        Builder {
            u,
            world,
            config,
            prog,
            depth: 0,
            floor: 0,
            labels: 0,
            slot: 0x100,
            nesting: 0,
            create_level,
            top,
            actions: 0,
            disrupted: false,
            observed: 0,
            loops: 0,
            hot_slots: [Vec::new(), Vec::new()],
        }
    }

    /// A whole contract: actions, then the stack made observable, then RETURN or STOP.
    pub(crate) fn contract(&mut self) -> Result<Bytes> {
        let n = self.u.int_in_range(1..=self.config.max_actions)?;
        for _ in 0..n {
            if self.u.is_empty() {
                break;
            }
            self.action()?;
        }
        self.finish()?;
        Ok(self.prog.assemble())
    }

    /// Observes what is left on the stack, then returns (the observation area, or some of
    /// memory) or stops, making the observation area visible first.
    fn finish(&mut self) -> Result<()> {
        while self.depth > self.floor {
            self.observe()?;
        }
        let area = self.observed.min(OBS_WORDS) * 32;
        match self.u.int_in_range(0..=3)? {
            0 if area > 0 => {
                self.push_value(U256::from(area));
                self.push_value(U256::from(OBS_AREA));
                self.raw_op(0xf3, 2, 0);
            }
            0 | 1 => {
                self.flush()?;
                let len = *self.u.choose(&[0u64, 32, 64])?;
                self.push_value(U256::from(len));
                self.push_value(U256::ZERO);
                self.raw_op(0xf3, 2, 0);
            }
            _ => {
                self.flush()?;
                self.raw_op(0x00, 0, 0);
            }
        }
        Ok(())
    }

    /// Makes the observation area reach the state: LOG0 of it, or its KECCAK256 stored.
    fn flush(&mut self) -> Result<()> {
        let area = self.observed.min(OBS_WORDS) * 32;
        if area == 0 {
            return Ok(());
        }
        self.push_value(U256::from(area));
        self.push_value(U256::from(OBS_AREA));
        if self.u.ratio(1, 2)? {
            self.raw_op(0xa0, 2, 0);
        } else {
            self.raw_op(0x20, 2, 1);
            self.push_value(U256::from(self.slot));
            self.slot += 1;
            self.raw_op(0x55, 2, 0);
        }
        Ok(())
    }

    fn label(&mut self) -> Label {
        self.labels += 1;
        Label(self.labels)
    }

    fn push_value(&mut self, v: U256) {
        self.prog.value(v);
        self.depth += 1;
    }

    fn raw_op(&mut self, op: u8, inputs: usize, outputs: usize) {
        self.prog.op(op);
        self.depth = self.depth - inputs + outputs;
    }

    fn address(&mut self) -> Result<Address> {
        Ok(match self.u.int_in_range(0..=9)? {
            0..=3 => *self.u.choose(&self.world.contracts)?,
            4 | 5 => *self.u.choose(&self.world.precompiles)?,
            6 => SENDER,
            7 => COINBASE,
            _ => NOBODY,
        })
    }

    /// Pushes one operand of `kind`: sometimes an existing stack value (data flow), mostly a
    /// fresh typed value.
    fn operand(&mut self, kind: Kind) -> Result<()> {
        if kind == Kind::Value && self.depth > 0 && self.depth < 1024 && self.u.ratio(1, 3)? {
            let n = self.u.int_in_range(1..=self.depth.min(16))?;
            self.raw_op(0x7f + n as u8, 0, 1); // DUPn
            return Ok(());
        }
        let v = match kind {
            Kind::Address => {
                if self.u.ratio(1, 8)? {
                    let op = *self.u.choose(&[0x30u8, 0x33, 0x32, 0x41])?; // ADDRESS CALLER ORIGIN COINBASE
                    self.raw_op(op, 0, 1);
                    return Ok(());
                }
                U256::from_be_slice(self.address()?.as_slice())
            }
            Kind::Offset | Kind::Length if self.top => {
                // A huge offset or length runs the frame out of gas on the spot (memory
                // expansion), which in the transaction's own frame ends the case; there
                // three in four are drawn again.
                let v = value(self.u, kind, self.world.number)?;
                if v > U256::from(u32::MAX) && !self.u.ratio(1, 4)? {
                    value(self.u, kind, self.world.number)?
                } else {
                    v
                }
            }
            k => value(self.u, k, self.world.number)?,
        };
        self.push_value(v);
        Ok(())
    }

    /// Pushes operands for `kinds` (first = top of stack) then emits `op`.
    fn emit(&mut self, op: u8, kinds: &[Kind], outputs: usize) -> Result<()> {
        for k in kinds.iter().rev() {
            self.operand(*k)?;
        }
        self.raw_op(op, kinds.len(), outputs);
        Ok(())
    }

    /// Consumes the top value so that it reaches the compared state: a log topic, a fresh
    /// storage slot, or (half the time) a word of the observation area, which `finish`
    /// logs, hashes into storage or returns. The area is the cheap way: a fresh slot costs
    /// 22,100 gas, and storing every value ran most cases out of gas.
    fn observe(&mut self) -> Result<()> {
        match self.u.int_in_range(0..=7)? {
            0 | 1 => {
                // LOG1 with the value as topic: topic, then offset/length.
                let len = *self.u.choose(&[0u64, 32])?;
                self.push_value(U256::from(len));
                self.push_value(U256::ZERO);
                self.raw_op(0xa1, 3, 0);
            }
            2 | 3 => {
                self.push_value(U256::from(self.slot));
                self.slot += 1;
                self.raw_op(0x55, 2, 0);
            }
            _ => {
                let at = OBS_AREA + 32 * (self.observed % OBS_WORDS);
                self.observed += 1;
                self.push_value(U256::from(at));
                self.raw_op(0x52, 2, 0);
            }
        }
        Ok(())
    }

    /// One action, its input bytes noted for a structure-aware mutator ([`crate::spans`]).
    fn action(&mut self) -> Result<()> {
        let before = self.u.len();
        let out = self.any_action();
        crate::spans::note(crate::spans::Unit::Action, before, self.u.len());
        out
    }

    fn any_action(&mut self) -> Result<()> {
        self.actions += 1;
        if self.depth >= MAX_DEPTH {
            return self.observe();
        }
        // Touch what the profile changes on purpose: constants (harmless) about one action
        // in twelve, opcodes that end the frame at the rate `may_disrupt` allows.
        if !self.world.constant_ops.is_empty() && self.u.ratio(1, 12)? {
            let op = *self.u.choose(&self.world.constant_ops)?;
            return self.changed_opcode(op);
        }
        if !self.world.disruptive_ops.is_empty() && self.may_disrupt()? {
            let op = *self.u.choose(&self.world.disruptive_ops)?;
            self.disrupted = true;
            return self.changed_opcode(op);
        }
        let mut choices: Vec<u8> = vec![0, 0, 0, 0]; // table entries
        let c = self.config;
        if c.has(Class::Control) && self.nesting < 3 {
            choices.extend([1, 2]);
        }
        if c.has(Class::Stack) && self.depth > self.floor {
            choices.extend([3, 3]);
        }
        if c.has(Class::Calls) {
            choices.extend([4, 4]);
        }
        if c.has(Class::Precompiles) {
            choices.extend([5, 5]);
        }
        if c.has(Class::Creates) && self.create_level < 2 {
            choices.push(6);
        }
        if c.has(Class::Selfdestruct) {
            choices.push(7);
        }
        if c.has(Class::Terminators) && self.nesting > 0 {
            choices.push(8);
        }
        if self.depth > self.floor {
            choices.push(9);
        }
        if c.has(Class::Control) && self.u.ratio(1, 16)? && self.may_disrupt()? {
            return self.wild_jump();
        }
        match *self.u.choose(&choices)? {
            0 => self.table_op(),
            1 => self.if_block(),
            2 => self.loop_block(),
            3 => self.stack_op(),
            4 => self.call(None),
            5 => {
                let addr = self.precompile_target()?;
                self.call(Some(addr))
            }
            6 => self.create(),
            // A SELFDESTRUCT the profile forbids comes through `may_disrupt` only.
            7 if self.world.disruptive_ops.contains(&0xff) => self.observe_or_nothing(),
            7 => self.emit(0xff, &[Kind::Address], 0),
            8 => self.terminator(),
            _ => self.observe(),
        }
    }

    /// Whether to emit an opcode whose rule ends the frame. In a nested frame that is what
    /// the profile is about (the caller goes on and sees the failure), one action in 32: so
    /// that most called contracts still run to their end rather than burn the gas they were
    /// given. In the transaction's own frame it ends the case, so there it comes at most
    /// once, never among the first actions, and in about one case in ten; a `reject` rule
    /// ends the case from any depth, so it is treated as top-frame everywhere.
    fn may_disrupt(&mut self) -> Result<bool> {
        if self.top || self.world.rejects_opcodes {
            if self.disrupted || self.actions <= 3 {
                return Ok(false);
            }
            return self.u.ratio(1, 128);
        }
        self.u.ratio(1, 32)
    }

    /// The precompile a precompile call targets: one the profile changes a third of the
    /// time, one it rejects rarely (that refuses the whole transaction), else any; inside a
    /// loop, a slow one becomes identity.
    fn precompile_target(&mut self) -> Result<Address> {
        let w = self.world;
        let target = if !w.rejected_precompiles.is_empty() && self.u.ratio(1, 48)? {
            *self.u.choose(&w.rejected_precompiles)?
        } else if !w.changed_precompiles.is_empty() && self.u.ratio(1, 3)? {
            *self.u.choose(&w.changed_precompiles)?
        } else {
            *self.u.choose(&w.precompiles)?
        };
        let slow = target.as_slice()[..19] == [0u8; 19]
            && SLOW_PRECOMPILES.contains(&target.as_slice()[19]);
        Ok(if slow && self.loops > 0 {
            Address::with_last_byte(0x04)
        } else {
            target
        })
    }

    fn table_op(&mut self) -> Result<()> {
        if self.world.entries.is_empty() {
            return self.observe_or_nothing();
        }
        let e = *self.u.choose(&self.world.entries)?;
        if e.op == 0x3e {
            return self.returndatacopy();
        }
        if matches!(e.op, 0x54 | 0x55 | 0x5c | 0x5d) {
            return self.storage_op(e.op, e.outputs);
        }
        let tuples = operands::boundary(e.op);
        if !tuples.is_empty() && self.u.ratio(1, 4)? {
            let tuple = *self.u.choose(tuples)?;
            for (edge, kind) in tuple.iter().zip(e.inputs).rev() {
                match edge {
                    Edge::Is(v) => self.push_value(*v),
                    Edge::Any => self.operand(*kind)?,
                }
            }
            self.raw_op(e.op, e.inputs.len(), e.outputs);
        } else {
            self.emit(e.op, e.inputs, e.outputs)?;
        }
        if e.outputs > 0 && self.u.ratio(1, 3)? {
            self.observe()?;
        }
        Ok(())
    }

    /// SLOAD, SSTORE, TLOAD or TSTORE; half the time at one of two "hot" slots of this
    /// contract (per kind of storage), the same for its reads and its writes. Independent
    /// draws rarely read back a written slot (9 cases in 2,000 did, `--coverage`'s
    /// `sload-after-sstore`), yet the branches of SSTORE's gas and refunds (EIP-2200: dirty
    /// slots, restoring the original value) and of TLOAD are in that order of events, and so
    /// is what a transaction leaves for the next: a read placed before the write in the code
    /// sees, in a later run of the same code, what the earlier one wrote.
    fn storage_op(&mut self, op: u8, outputs: usize) -> Result<()> {
        let transient = matches!(op, 0x5c | 0x5d);
        let writes = matches!(op, 0x55 | 0x5d);
        if writes {
            self.operand(Kind::Value)?;
        }
        let hot = &self.hot_slots[transient as usize];
        let slot = if hot.len() == 2 && self.u.ratio(1, 2)? {
            *self.u.choose(hot)?
        } else {
            let slot = value(self.u, Kind::Slot, self.world.number)?;
            let hot = &mut self.hot_slots[transient as usize];
            if hot.len() < 2 && !hot.contains(&slot) {
                hot.push(slot);
            }
            slot
        };
        self.push_value(slot);
        self.raw_op(op, 1 + writes as usize, outputs);
        if outputs > 0 && self.u.ratio(1, 3)? {
            self.observe()?;
        }
        Ok(())
    }

    fn observe_or_nothing(&mut self) -> Result<()> {
        if self.depth > self.floor {
            self.observe()
        } else {
            Ok(())
        }
    }

    /// An opcode the profile changes: its table operands if it has an entry, else plain.
    fn changed_opcode(&mut self, op: u8) -> Result<()> {
        match TABLE.iter().find(|e| e.op == op) {
            Some(e) => self.emit(op, e.inputs, e.outputs),
            None if op == 0xff => self.emit(0xff, &[Kind::Address], 0),
            None => {
                self.prog.op(op);
                Ok(())
            }
        }
    }

    /// RETURNDATACOPY: mostly of exactly the return data there is, sometimes of typed
    /// operands that may read past its end (an exceptional halt of the frame).
    fn returndatacopy(&mut self) -> Result<()> {
        if self.u.ratio(1, 6)? {
            return self.emit(0x3e, &[Kind::Offset, Kind::Small, Kind::Length], 0);
        }
        // Stack, pushed in reverse: destOffset, offset 0, length = RETURNDATASIZE.
        self.raw_op(0x3d, 0, 1);
        self.push_value(U256::ZERO);
        self.operand(Kind::Offset)?;
        self.raw_op(0x3e, 3, 0);
        Ok(())
    }

    /// POP, or a DUPn or SWAPn with n uniform in 1..=16 (SWAP more often: operands already
    /// DUP): the stack is padded with fresh operands when it is too shallow (the modelled
    /// stack rarely holds 17 values by itself), and brought back afterwards with the result
    /// observed. At the rate [`Builder::may_disrupt`] allows, a DUPn or SWAPn one item deeper
    /// than the stack instead: a stack underflow, an exceptional halt of the frame.
    fn stack_op(&mut self) -> Result<()> {
        if self.depth < 16 && self.may_disrupt()? {
            self.disrupted = true;
            let n = (self.depth + 1) as u8;
            let op = if self.u.ratio(1, 2)? {
                0x7f + n
            } else {
                0x8f + n
            };
            self.prog.op(op);
            return Ok(());
        }
        let before = self.depth;
        match self.u.int_in_range(0..=3)? {
            0 => self.raw_op(0x50, 1, 0),
            1 => {
                let n = self.u.int_in_range(1..=16)?;
                while self.depth < n {
                    self.operand(Kind::Value)?;
                }
                self.raw_op(0x7f + n as u8, 0, 1);
            }
            _ => {
                let n = self.u.int_in_range(1..=16)?;
                // SWAPn rewrites the (n+1)th item, which must be above the floor.
                while self.depth - self.floor < n + 1 {
                    self.operand(Kind::Value)?;
                }
                self.raw_op(0x8f + n as u8, 0, 0);
            }
        }
        if self.depth > before + 1 {
            self.observe()?;
            while self.depth > before {
                self.raw_op(0x50, 1, 0);
            }
        }
        Ok(())
    }

    /// Runs `body` with everything below the current depth protected, then pops back to it.
    fn block(&mut self) -> Result<()> {
        let (floor, depth) = (self.floor, self.depth);
        self.floor = depth;
        self.nesting += 1;
        for _ in 0..self.u.int_in_range(1..=6)? {
            self.action()?;
        }
        while self.depth > self.floor {
            self.raw_op(0x50, 1, 0);
        }
        self.nesting -= 1;
        self.floor = floor;
        debug_assert_eq!(self.depth, depth);
        Ok(())
    }

    /// `if (cond) skip { block }` with a forward JUMPI; half the time with an else block,
    /// which the first block JUMPs over (sometimes past a dead INVALID, which must never
    /// run).
    fn if_block(&mut self) -> Result<()> {
        let skip = self.label();
        // The condition: half the time a comparison (often 0), so the first block runs in
        // a fair share of cases; an arbitrary value is nearly always non-zero.
        if self.u.ratio(1, 2)? {
            let op = *self.u.choose(&[0x10u8, 0x11, 0x12, 0x13, 0x14])?; // LT GT SLT SGT EQ
            self.emit(op, &[Kind::Value, Kind::Value], 1)?;
        } else {
            self.operand(Kind::Value)?;
        }
        self.prog.push(Instr::PushLabel(skip));
        self.depth += 1;
        self.raw_op(0x57, 2, 0);
        self.block()?;
        if self.u.ratio(1, 2)? {
            let end = self.label();
            self.prog.push(Instr::PushLabel(end));
            self.depth += 1;
            self.raw_op(0x56, 1, 0);
            if self.u.ratio(1, 2)? {
                self.prog.op(0xfe);
            }
            self.prog.push(Instr::Mark(skip));
            self.block()?;
            self.prog.push(Instr::Mark(end));
        } else {
            self.prog.push(Instr::Mark(skip));
        }
        Ok(())
    }

    /// A loop with a constant trip count (1..=8) kept on the stack below the body.
    fn loop_block(&mut self) -> Result<()> {
        let top = self.label();
        let n = self.u.int_in_range(1u64..=8)?;
        self.push_value(U256::from(n));
        self.prog.push(Instr::Mark(top));
        self.loops += 1;
        self.block()?;
        self.loops -= 1;
        // counter - 1; jump back while non-zero; pop the counter.
        self.push_value(U256::from(1));
        self.raw_op(0x90, 0, 0); // SWAP1
        self.raw_op(0x03, 2, 1); // SUB
        self.raw_op(0x80, 0, 1); // DUP1
        self.prog.push(Instr::PushLabel(top));
        self.depth += 1;
        self.raw_op(0x57, 2, 0); // JUMPI
        self.raw_op(0x50, 1, 0); // POP
        Ok(())
    }

    /// A call of some kind to `target` (a precompile with a typed input) or to any account.
    fn call(&mut self, target: Option<Address>) -> Result<()> {
        let fork = self.world.fork;
        let mut kinds = vec![0xf1u8, 0xf2];
        if fork >= Fork::Homestead {
            kinds.push(0xf4);
        }
        // STATICCALL is the natural way to call a precompile. A contract called by it halts
        // on its first state change (most generated contracts store or log), consuming the
        // forwarded gas, so contracts get it as often as the other kinds, not twice as often.
        if fork >= Fork::Byzantium {
            kinds.push(0xfa);
            if target.is_some() {
                kinds.push(0xfa);
            }
        }
        let op = *self.u.choose(&kinds)?;
        let (in_len, addr) = match target {
            Some(addr) => {
                let input =
                    precompile_input::input(self.u, addr, self.world.profile.limits.modexp)?;
                self.store_bytes(&input, 0);
                (input.len() as u64, U256::from_be_slice(addr.as_slice()))
            }
            None => {
                let a = self.address()?;
                (
                    *self.u.choose(&[0u64, 4, 32, 64])?,
                    U256::from_be_slice(a.as_slice()),
                )
            }
        };
        let out_len = *self.u.choose(&[0u64, 32, 64])?;
        // Stack, pushed in reverse: gas, addr, [value], in_off, in_len, out_off, out_len.
        self.push_value(U256::from(out_len));
        self.push_value(U256::ZERO);
        self.push_value(U256::from(in_len));
        self.push_value(U256::ZERO);
        if op == 0xf1 || op == 0xf2 {
            let v = *self.u.choose(&[0u64, 0, 0, 1, 1000])?;
            self.push_value(U256::from(v));
        }
        self.push_value(addr);
        self.call_gas(target.is_some())?;
        let inputs = if op == 0xf1 || op == 0xf2 { 7 } else { 6 };
        self.raw_op(op, inputs, 1);
        self.observe()?;
        // What came back: its size, and its first word through memory.
        if self.u.ratio(1, 2)? {
            self.raw_op(0x3d, 0, 1);
            self.observe()?;
        }
        if out_len > 0 && self.u.ratio(1, 2)? {
            self.push_value(U256::ZERO);
            self.raw_op(0x51, 1, 1);
            self.observe()?;
        }
        Ok(())
    }

    /// Pushes the gas a call forwards. All of it (63/64, EIP-150) only one call in sixteen:
    /// a callee that halts (a static violation, an invalid opcode, a precompile refusing
    /// its input) consumes what it was given, and a contract calling itself with all its
    /// gas recurses until none is left, which left most callers out of gas. Otherwise a
    /// share (GAS / 4, 8 or 16: recursion shrinks geometrically, and a failing call
    /// repeated by a loop leaves the caller enough), or a fixed amount. `bounded` calls (to
    /// a precompile, which needs no more than its price, or a STATICCALL of a new contract,
    /// which may well write) get a fixed amount three times in four, the others half the
    /// time.
    fn call_gas(&mut self, bounded: bool) -> Result<()> {
        let pick = self.u.int_in_range(0..=15)?;
        let shares = if bounded { 3 } else { 7 };
        match pick {
            0 => self.raw_op(0x5a, 0, 1),
            p if p <= shares => {
                let k = *self.u.choose(&[4u64, 8, 16])?;
                self.push_value(U256::from(k));
                self.raw_op(0x5a, 0, 1);
                self.raw_op(0x04, 2, 1); // GAS / k
            }
            _ => {
                let g = *self.u.choose(&CALL_GAS)?;
                self.push_value(U256::from(g));
            }
        }
        Ok(())
    }

    /// Writes `bytes` into memory at `at` with MSTOREs (zero-padded to whole words).
    fn store_bytes(&mut self, bytes: &[u8], at: u64) {
        for (i, chunk) in bytes.chunks(32).enumerate() {
            let mut w = [0u8; 32];
            w[..chunk.len()].copy_from_slice(chunk);
            self.push_value(U256::from_be_bytes(w));
            self.push_value(U256::from(at + 32 * i as u64));
            self.raw_op(0x52, 2, 0);
        }
    }

    /// CREATE or CREATE2 of generated init code, which returns generated runtime code.
    fn create(&mut self) -> Result<()> {
        let init = {
            let mut b = Builder::new(
                self.u,
                self.world,
                self.config,
                self.create_level + 1,
                false,
            );
            let runtime = {
                let mut r = Builder::new(b.u, b.world, b.config, 2, false);
                for _ in 0..r.u.int_in_range(0..=4)? {
                    r.action()?;
                }
                r.finish()?;
                r.prog.assemble()
            };
            for _ in 0..b.u.int_in_range(0..=3)? {
                b.action()?;
            }
            while b.depth > 0 {
                b.observe()?;
            }
            b.flush()?;
            b.store_bytes(&runtime, 0);
            b.push_value(U256::from(runtime.len()));
            b.push_value(U256::ZERO);
            let end = if b.u.ratio(1, 8)? { 0xfd } else { 0xf3 };
            b.raw_op(end, 2, 0);
            b.prog.assemble()
        };
        const AT: u64 = 0x400;
        self.store_bytes(&init, AT);
        let create2 = self.world.fork >= Fork::Constantinople && self.u.ratio(1, 2)?;
        if create2 {
            // A constant salt collides whenever the same CREATE2 runs again (in a loop, or
            // in a contract called twice), and a collision consumes all the gas handed to the
            // init code, which left the caller out of gas. So the salt is usually the gas
            // left, which differs on every execution; a constant one a quarter of the time.
            if self.u.ratio(1, 4)? {
                let salt = value(self.u, Kind::Small, 0)?;
                self.push_value(salt);
            } else {
                self.raw_op(0x5a, 0, 1);
            }
        }
        // Now and then a length over EIP-3860's init-code limit (49,152 bytes from
        // Shanghai), an exceptional halt of the creating frame: rare in the transaction's own
        // frame, where it ends the case.
        let over_limit = self.world.fork >= Fork::Shanghai
            && self.u.ratio(1, if self.top { 256 } else { 48 })?;
        let len = if over_limit { 49_153 } else { init.len() };
        self.push_value(U256::from(len));
        self.push_value(U256::from(AT));
        let endowment = *self.u.choose(&[0u64, 0, 1])?;
        self.push_value(U256::from(endowment));
        self.raw_op(
            if create2 { 0xf5 } else { 0xf0 },
            if create2 { 4 } else { 3 },
            1,
        );
        // Sometimes STATICCALL the new contract (address 0 if the creation failed): push the
        // four zero memory arguments, DUP5 the address above them, then the gas.
        if self.u.ratio(1, 2)? {
            for _ in 0..4 {
                self.push_value(U256::ZERO);
            }
            self.raw_op(0x84, 0, 1); // DUP5
            self.call_gas(true)?;
            self.raw_op(0xfa, 6, 1); // STATICCALL
            self.observe()?;
        }
        self.observe()
    }

    /// A jump to where no code is (past the largest contract any fork allows): JUMP, or JUMPI
    /// with a non-zero condition, halts the frame (an invalid destination); JUMPI with a zero
    /// condition falls through, the destination never checked.
    fn wild_jump(&mut self) -> Result<()> {
        if self.u.ratio(1, 3)? {
            return self.truncating_jump();
        }
        let dest = U256::from(*self.u.choose(&[0x6001u64, 0xffff, u64::from(u32::MAX)])?);
        if self.u.ratio(1, 2)? {
            self.disrupted = true;
            self.push_value(dest);
            self.raw_op(0x56, 1, 0);
        } else {
            let taken = self.u.ratio(1, 2)?;
            self.disrupted |= taken;
            self.push_value(U256::from(taken as u64));
            self.push_value(dest);
            self.raw_op(0x57, 2, 0);
        }
        Ok(())
    }

    /// A jump to a destination whose low 64 bits are the JUMPDEST right after the jump (the
    /// label with bit 64, 128 or 255 set): invalid, so JUMP halts; an implementation that
    /// truncates the destination to a machine word jumps and goes on.
    fn truncating_jump(&mut self) -> Result<()> {
        let here = self.label();
        let high = U256::from(1) << *self.u.choose(&[64usize, 128, 255])?;
        self.disrupted = true;
        let jumpi = !self.u.ratio(1, 2)?;
        if jumpi {
            self.push_value(U256::from(1)); // the condition, taken
        }
        self.prog.push(Instr::PushLabel(here));
        self.depth += 1;
        self.push_value(high);
        self.raw_op(0x17, 2, 1); // OR
        if jumpi {
            self.raw_op(0x57, 2, 0);
        } else {
            self.raw_op(0x56, 1, 0);
        }
        self.prog.push(Instr::Mark(here));
        Ok(())
    }

    fn terminator(&mut self) -> Result<()> {
        match self.u.int_in_range(0..=3)? {
            0 => self.emit(0xf3, &[Kind::Offset, Kind::Length], 0),
            1 => self.emit(0xfd, &[Kind::Offset, Kind::Length], 0),
            2 => self.emit(0x00, &[], 0),
            _ => self.emit(0xfe, &[], 0),
        }
    }
}

/// The transaction: usually a call of contract 0, sometimes a creation or a call straight to
/// a precompile; a typed transaction where the fork allows.
pub(crate) fn transaction(
    u: &mut Unstructured<'_>,
    world: &World<'_>,
    config: &GeneratorConfig,
) -> Result<Transaction> {
    let fork = world.fork;
    let len = u.int_in_range(0..=64)?.min(u.len());
    let mut data: Vec<u8> = u.bytes(len).unwrap_or_default().to_vec();
    let to = if config.allow_create_tx && u.ratio(1, 2)? {
        let mut b = Builder::new(u, world, config, 1, true);
        data = b.contract()?.to_vec();
        None
    } else if config.allow_precompile_tx && u.ratio(1, 2)? {
        let target = *u.choose(&world.precompiles)?;
        data = precompile_input::input(u, target, world.profile.limits.modexp)?;
        Some(target)
    } else {
        Some(contract_address(0))
    };
    // Mostly enough for the program to run to its end, sometimes tight.
    let gas_limit = U256::from(
        (*u.choose(&[
            100_000u64, 300_000, 1_000_000, 1_000_000, 3_000_000, 3_000_000, 10_000_000, 10_000_000,
        ])?)
        .min(MAX_TX_GAS)
        .min(config.gas_budget.unwrap_or(u64::MAX)),
    );
    let value = U256::from(*u.choose(&[0u64, 0, 0, 1, 1_000_000])?);
    let typed = fork >= Fork::London && u.ratio(1, 2)?;
    let access_list = if fork >= Fork::Berlin && u.ratio(1, 4)? {
        Some(vec![AccessListItem {
            address: contract_address(0),
            storage_keys: vec![B256::ZERO],
        }])
    } else {
        None
    };
    let blob = fork >= Fork::Cancun && to.is_some() && u.ratio(1, 8)?;
    Ok(Transaction {
        sender: SENDER,
        secret_key: SENDER_KEY,
        to,
        nonce: U256::ZERO,
        data: data.into(),
        gas_limit,
        value,
        gas_price: (!typed && !blob).then(|| U256::from(10)),
        max_fee_per_gas: (typed || blob).then(|| U256::from(10)),
        max_priority_fee_per_gas: (typed || blob).then(|| U256::from(1)),
        access_list,
        max_fee_per_blob_gas: blob.then(|| U256::from(1)),
        blob_versioned_hashes: blob.then(|| vec![precompile_input::kzg_versioned_hash()]),
        authorization_list: None,
        tx_type: None,
        signature: None,
    })
}
