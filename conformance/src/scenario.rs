//! The scenario table: every profile behaviour evmdiff specifies, as one row of plain data
//! each (a program, the profile and fork it runs under, and the outcome it must give), and
//! [`check`], which runs one row on any [`Backend`].
//!
//! Every expected gas figure is derived by hand in the comment above its row, from the yellow
//! paper and EIP costs of the row's fork, so a wrong override shows up as a gas difference even
//! when the status happens to match. Costs used throughout: PUSH 3, MSTORE 3 plus 3 per new
//! word of memory, RETURNDATASIZE/PREVRANDAO/COINBASE/NUMBER/CHAINID/BASEFEE 2, BLOCKHASH 20,
//! CALL to a warm address (every precompile, EIP-2929) 100 and to a cold one 2600, SSTORE of a
//! cold zero slot to non-zero 22,100 (2,100 cold + 20,000 set) and to zero 2,200 (2,100 cold +
//! 100), 21,000 intrinsic gas plus 4 per zero and 16 per non-zero calldata byte.

use alloy_primitives::{Address, B256, Bytes, U256, address, b256};
use evmdiff_core::case::{BlockEnv, Transaction};
use evmdiff_core::{
    Account, Backend, BackendError, Case, ChainOutcome, Fork, HaltClass, Outcome, Profile, State,
    Status,
};

/// The sender of every scenario's transaction (the ethereum/tests sender), with 1 ether.
pub const SENDER: Address = address!("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
const SENDER_KEY: B256 = b256!("45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8");
const SENDER_BALANCE: u128 = 1_000_000_000_000_000_000;
/// The contract the transaction calls: it holds the scenario's program and one wei.
pub const CONTRACT: Address = address!("000000000000000000000000000000000000c0de");
/// A second contract, called by programs that test a rule one frame down.
pub const INNER: Address = address!("000000000000000000000000000000000000beef");
const COINBASE: Address = address!("2adc25665018aa1fe0e6bc666dac8fc2697ff9ba");
/// The block's PREVRANDAO (Paris and later).
pub const RANDOM: B256 = b256!("abababababababababababababababababababababababababababababababab");
/// Gas limit of the transaction unless a row says otherwise.
pub const TX_GAS: u64 = 1_000_000;
const GAS_PRICE: u64 = 10;
const BASE_FEE: u64 = 7;

/// The profile a scenario runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileSpec {
    /// Plain mainnet at the scenario's fork.
    Mainnet,
    /// A built-in profile (`profiles/*.toml`) by name.
    Builtin(&'static str),
    /// A profile written inline, in the profile TOML format.
    Toml(&'static str),
}

/// Where the transaction goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// [`CONTRACT`].
    Contract,
    /// The precompile at this address, called directly.
    Precompile(u8),
    /// A contract creation whose init code is the calldata.
    Create,
    /// Any other account (an added precompile above 0xff, a probe's own contract).
    Account(Address),
}

/// A change to the otherwise valid legacy transaction, for rows about refused transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tweak {
    /// None.
    None,
    /// A nonce that is not the sender's (1 instead of 0).
    WrongNonce,
    /// An (empty) EIP-7702 authorization list, which makes it a type-4 transaction.
    EmptyAuthorizationList,
}

/// What the top frame must return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Not checked.
    Any,
    /// Nothing.
    Empty,
    /// Exactly these bytes.
    Exact(Vec<u8>),
    /// This many bytes.
    Len(usize),
    /// Anything but these bytes (a rule's value must not be what mainnet computes).
    Not(Vec<u8>),
    /// The two words [`call`]-style programs return: the CALL's success flag and
    /// RETURNDATASIZE.
    FlagAndSize(u64, u64),
}

/// The outcome a scenario must give. Fields left at their default are not checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// Status of the transaction. A halt also requires empty output and no logs; a
    /// rejection requires exactly [`Outcome::rejected`] (no fee, no state change).
    pub status: Status,
    /// Gas charged to the sender.
    pub gas: Option<u64>,
    /// Refund already deducted from `gas`.
    pub refund: Option<u64>,
    /// Output of the top frame.
    pub output: Output,
    /// Storage slots of [`CONTRACT`] after the transaction (a zero value: the slot is absent).
    pub storage: Vec<(u64, U256)>,
    /// [`CONTRACT`] has no storage at all afterwards.
    pub no_storage: bool,
    /// Balances after the transaction.
    pub balances: Vec<(Address, U256)>,
    /// Accounts that must not exist afterwards.
    pub gone: Vec<Address>,
    /// The code deployed at the sender's nonce-0 creation address (which gets nonce 1), or
    /// `Some(empty)` when nothing may be there.
    pub created: Option<Vec<u8>>,
    /// Text the backend's own description of the result must contain.
    pub detail: Option<&'static str>,
    /// The sender pays exactly `gas_used` at 10 wei and the coinbase earns the tip (3 wei from
    /// London, 10 before).
    pub fees: bool,
}

/// One behaviour: a case built from plain data, the profile it runs under, what it must give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Unique name, `area/behaviour`.
    pub name: &'static str,
    /// The profile.
    pub profile: ProfileSpec,
    /// The fork of the case and of a [`ProfileSpec::Mainnet`] profile.
    pub fork: Fork,
    /// Code of [`CONTRACT`].
    pub code: Vec<u8>,
    /// Code of [`INNER`] (the account exists only when this is not empty).
    pub inner: Vec<u8>,
    /// Storage of [`CONTRACT`] before the transaction.
    pub pre_storage: Vec<(u64, u64)>,
    /// Where the transaction goes.
    pub to: Target,
    /// Calldata (the init code of a creation).
    pub data: Vec<u8>,
    /// Gas limit of the transaction.
    pub tx_gas: u64,
    /// A change that makes the transaction invalid.
    pub tweak: Tweak,
    /// The outcome it must give.
    pub expect: Expect,
}

/// A backend's result on one scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Everything the scenario expects holds.
    Pass,
    /// Something differs: what, readably.
    Fail(String),
    /// The backend cannot honour the scenario's fork, profile or transaction; its reason.
    Unsupported(String),
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Pass => write!(f, "pass"),
            Verdict::Fail(why) => write!(f, "fail: {why}"),
            Verdict::Unsupported(why) => write!(f, "unsupported: {why}"),
        }
    }
}

/// Runs `s` on `backend` and checks every expectation it states.
pub fn check(backend: &mut dyn Backend, s: &Scenario) -> Verdict {
    let profile = match s.profile() {
        Ok(p) => p,
        Err(e) => return Verdict::Fail(format!("profile: {e}")),
    };
    let case = s.case();
    match backend
        .execute(&case, &profile)
        .map(ChainOutcome::into_last_tx)
    {
        Ok(None) => Verdict::Fail("no transaction outcome".into()),
        Ok(Some(o)) => match s.expect.mismatches(&case, &o) {
            m if m.is_empty() => Verdict::Pass,
            m => Verdict::Fail(format!(
                "{} [{:?}, {} gas, {}]",
                m.join("; "),
                o.status,
                o.gas_used,
                o.detail
            )),
        },
        Err(BackendError::Unsupported(why)) => Verdict::Unsupported(why),
        Err(e) => Verdict::Fail(e.to_string()),
    }
}

impl Expect {
    /// Expects `status`, and nothing else yet.
    pub fn new(status: Status) -> Expect {
        Expect {
            status,
            gas: None,
            refund: None,
            output: Output::Any,
            storage: Vec::new(),
            no_storage: false,
            balances: Vec::new(),
            gone: Vec::new(),
            created: None,
            detail: None,
            fees: false,
        }
    }
    /// Gas charged.
    pub fn gas(mut self, gas: u64) -> Expect {
        self.gas = Some(gas);
        self
    }
    /// Refund deducted.
    pub fn refund(mut self, refund: u64) -> Expect {
        self.refund = Some(refund);
        self
    }
    /// Output.
    pub fn output(mut self, output: Output) -> Expect {
        self.output = output;
        self
    }
    /// Output of a [`call`]-style program: success flag and return data size.
    pub fn flag_and_size(self, flag: u64, size: u64) -> Expect {
        self.output(Output::FlagAndSize(flag, size))
    }
    /// A storage slot of [`CONTRACT`].
    pub fn slot(mut self, slot: u64, value: U256) -> Expect {
        self.storage.push((slot, value));
        self
    }
    /// Slots 0 and 1 of [`CONTRACT`], as the `record_call` programs leave them.
    pub fn slots(self, zero: u64, one: u64) -> Expect {
        self.slot(0, U256::from(zero)).slot(1, U256::from(one))
    }
    /// [`CONTRACT`] ends with no storage.
    pub fn no_storage(mut self) -> Expect {
        self.no_storage = true;
        self
    }
    /// A balance afterwards.
    pub fn balance(mut self, who: Address, value: u64) -> Expect {
        self.balances.push((who, U256::from(value)));
        self
    }
    /// An account that must not exist afterwards.
    pub fn gone(mut self, who: Address) -> Expect {
        self.gone.push(who);
        self
    }
    /// The code a creation deploys (empty: nothing deployed).
    pub fn created(mut self, code: &[u8]) -> Expect {
        self.created = Some(code.to_vec());
        self
    }
    /// Text of the backend's own description.
    pub fn detail(mut self, text: &'static str) -> Expect {
        self.detail = Some(text);
        self
    }
    /// Check the fees paid and earned.
    pub fn fees(mut self) -> Expect {
        self.fees = true;
        self
    }

    /// Every way `o` differs from this expectation on `case`, readably.
    pub fn mismatches(&self, case: &Case, o: &Outcome) -> Vec<String> {
        let mut m = Vec::new();
        let mut differ = |what: &str, got: String, want: String| {
            if got != want {
                m.push(format!("{what} {got}, expected {want}"));
            }
        };
        differ(
            "status",
            format!("{:?}", o.status),
            format!("{:?}", self.status),
        );
        if let Some(gas) = self.gas {
            differ("gas", o.gas_used.to_string(), gas.to_string());
        }
        if let Some(refund) = self.refund {
            differ("refund", o.refund.to_string(), refund.to_string());
        }
        if matches!(self.status, Status::Halt(_)) {
            differ(
                "halt output",
                o.output.to_string(),
                Bytes::new().to_string(),
            );
            differ("halt logs", o.logs.len().to_string(), "0".into());
        }
        if self.status == Status::Rejected {
            let rejected = Outcome::rejected(&case.pre, o.detail.clone());
            differ(
                "rejection (no fee, no state change)",
                format!("{:?}", (o.gas_used, &o.post, o.state_root())),
                format!(
                    "{:?}",
                    (rejected.gas_used, &rejected.post, rejected.state_root())
                ),
            );
        }
        let word = |b: &[u8]| U256::from_be_slice(b).to_string();
        match &self.output {
            Output::Any => {}
            Output::Empty => differ("output", o.output.to_string(), "0x".into()),
            Output::Exact(b) => differ(
                "output",
                o.output.to_string(),
                Bytes::copy_from_slice(b).to_string(),
            ),
            Output::Len(n) => differ("output length", o.output.len().to_string(), n.to_string()),
            Output::Not(b) => {
                if o.output.as_ref() == b.as_slice() {
                    m.push(format!("output {} must differ from it", o.output));
                }
            }
            Output::FlagAndSize(flag, size) => {
                if o.output.len() == 64 {
                    differ("success flag", word(&o.output[..32]), flag.to_string());
                    differ("return data size", word(&o.output[32..]), size.to_string());
                } else {
                    m.push(format!("output {}, expected two words", o.output));
                }
            }
        }
        let storage = o.post.get(&CONTRACT).map(|a| &a.storage);
        for (slot, want) in &self.storage {
            let got = storage
                .and_then(|s| s.get(&U256::from(*slot)).copied())
                .unwrap_or_default();
            m.push(format!("slot {slot} {got}, expected {want}"));
            if got == *want {
                m.pop();
            }
        }
        if self.no_storage && storage.is_some_and(|s| !s.is_empty()) {
            m.push(format!("storage {:?}, expected none", storage));
        }
        for (who, want) in &self.balances {
            let got = o.post.get(who).map(|a| a.balance).unwrap_or_default();
            if got != *want {
                m.push(format!("balance of {who} {got}, expected {want}"));
            }
        }
        for who in &self.gone {
            if o.post.contains_key(who) {
                m.push(format!("{who} exists afterwards"));
            }
        }
        if let Some(code) = &self.created {
            let created = o.post.get(&SENDER.create(0));
            match created {
                Some(a) if code.is_empty() => m.push(format!("created account {a:?}")),
                Some(a) if a.code.as_ref() != code.as_slice() || a.nonce != 1 => m.push(format!(
                    "created code {} nonce {}, expected {} nonce 1",
                    a.code,
                    a.nonce,
                    Bytes::copy_from_slice(code)
                )),
                None if !code.is_empty() => m.push("nothing created".into()),
                _ => {}
            }
        }
        if let Some(text) = self.detail
            && !o.detail.contains(text)
        {
            m.push(format!("detail `{}` lacks `{text}`", o.detail));
        }
        if self.fees {
            let before = case.pre[&SENDER].balance;
            let paid = U256::from(o.gas_used) * U256::from(GAS_PRICE);
            let sender = o.post.get(&SENDER).map(|a| a.balance).unwrap_or_default();
            if sender + paid != before {
                m.push(format!("sender paid {}, expected {paid}", before - sender));
            }
            let tip = if case.fork.includes(Fork::London) {
                GAS_PRICE - BASE_FEE
            } else {
                GAS_PRICE
            };
            let earned = o.post.get(&COINBASE).map(|a| a.balance).unwrap_or_default();
            if earned != U256::from(o.gas_used * tip) {
                m.push(format!("coinbase earned {earned}, expected gas × {tip}"));
            }
        }
        m
    }
}

impl Scenario {
    /// A row with an empty contract, a call to it with [`TX_GAS`], expecting success.
    pub fn new(name: &'static str, profile: ProfileSpec, fork: Fork) -> Scenario {
        Scenario {
            name,
            profile,
            fork,
            code: Vec::new(),
            inner: Vec::new(),
            pre_storage: Vec::new(),
            to: Target::Contract,
            data: Vec::new(),
            tx_gas: TX_GAS,
            tweak: Tweak::None,
            expect: Expect::new(Status::Success),
        }
    }
    /// The code of [`CONTRACT`].
    pub fn code(mut self, code: Vec<u8>) -> Scenario {
        self.code = code;
        self
    }
    /// The code of [`INNER`].
    pub fn inner(mut self, code: Vec<u8>) -> Scenario {
        self.inner = code;
        self
    }
    /// A storage slot of [`CONTRACT`] before the transaction.
    pub fn pre_slot(mut self, slot: u64, value: u64) -> Scenario {
        self.pre_storage.push((slot, value));
        self
    }
    /// Where the transaction goes.
    pub fn to(mut self, to: Target) -> Scenario {
        self.to = to;
        self
    }
    /// The calldata.
    pub fn data(mut self, data: Vec<u8>) -> Scenario {
        self.data = data;
        self
    }
    /// The transaction's gas limit.
    pub fn tx_gas(mut self, gas: u64) -> Scenario {
        self.tx_gas = gas;
        self
    }
    /// A change that makes the transaction invalid.
    pub fn tweak(mut self, tweak: Tweak) -> Scenario {
        self.tweak = tweak;
        self
    }
    /// The outcome it must give.
    pub fn expect(mut self, expect: Expect) -> Scenario {
        self.expect = expect;
        self
    }

    /// The profile the scenario runs under.
    pub fn profile(&self) -> Result<Profile, String> {
        match self.profile {
            ProfileSpec::Mainnet => Ok(Profile::mainnet(self.fork)),
            ProfileSpec::Builtin(name) => Profile::load(name).map_err(|e| e.to_string()),
            ProfileSpec::Toml(text) => {
                Profile::from_toml(text, self.name).map_err(|e| e.to_string())
            }
        }
    }

    /// The executable case: [`SENDER`] sends [`Scenario::data`] to [`Scenario::to`] at 10 wei
    /// a gas (base fee 7 from London), [`CONTRACT`] and [`INNER`] hold their code.
    pub fn case(&self) -> Case {
        let fork = self.fork;
        let mut pre = State::new();
        pre.insert(
            SENDER,
            Account {
                balance: U256::from(SENDER_BALANCE),
                ..Account::default()
            },
        );
        pre.insert(
            CONTRACT,
            Account {
                balance: U256::from(1),
                nonce: 1,
                code: Bytes::copy_from_slice(&self.code),
                storage: self
                    .pre_storage
                    .iter()
                    .map(|(k, v)| (U256::from(*k), U256::from(*v)))
                    .collect(),
            },
        );
        if !self.inner.is_empty() {
            pre.insert(
                INNER,
                Account {
                    nonce: 1,
                    code: Bytes::copy_from_slice(&self.inner),
                    ..Account::default()
                },
            );
        }
        let to = match self.to {
            Target::Contract => Some(CONTRACT),
            Target::Precompile(n) => Some(Address::with_last_byte(n)),
            Target::Create => None,
            Target::Account(a) => Some(a),
        };
        let mut tx = Transaction::legacy(
            SENDER,
            SENDER_KEY,
            to,
            Bytes::copy_from_slice(&self.data),
            self.tx_gas,
            GAS_PRICE,
        );
        match self.tweak {
            Tweak::None => {}
            Tweak::WrongNonce => tx.nonce = U256::from(1),
            Tweak::EmptyAuthorizationList => tx.authorization_list = Some(Vec::new()),
        }
        Case::state_test(
            self.name,
            fork,
            BlockEnv {
                coinbase: COINBASE,
                gas_limit: U256::from(30_000_000u64),
                number: U256::from(1),
                timestamp: U256::from(1000),
                difficulty: U256::from(0x20000),
                base_fee: fork.includes(Fork::London).then(|| U256::from(BASE_FEE)),
                random: fork.includes(Fork::Paris).then_some(RANDOM),
                excess_blob_gas: fork.includes(Fork::Cancun).then_some(0),
                chain_id: 1,
            },
            pre,
            tx,
        )
    }
}

/// The scenario called `name`.
pub fn find(name: &str) -> Option<Scenario> {
    scenarios().into_iter().find(|s| s.name == name)
}

// ------------------------------------------------------------------------------ programs

/// The tail of [`call`]: store the CALL's success flag at memory 0 and RETURNDATASIZE at 0x20,
/// return both words. Gas: PUSH1 0 (3) + MSTORE (3 + 3 for the first word of memory) = 9;
/// RETURNDATASIZE (2) + PUSH1 (3) + MSTORE (3 + 3 for the second word) = 11; PUSH1, PUSH1 (6)
/// + RETURN (0, no expansion) = 6. Total 26 (20 when memory already holds both words).
const RETURN_FLAG_AND_SIZE: &[u8] = &[
    0x60, 0x00, 0x52, 0x3d, 0x60, 0x20, 0x52, 0x60, 0x40, 0x60, 0x00, 0xf3,
];

/// `CALL(gas = 0xffff, to, value, in = 0..0, out = 0..0)` followed by the flag-and-size tail.
/// Before the CALL: six PUSH1 and one PUSH2, 7 × 3 = 21 gas; so a call program costs
/// 21 + CALL + 26.
pub fn call(to: u16, value: u8) -> Vec<u8> {
    let [hi, lo] = to.to_be_bytes();
    let mut code = vec![
        0x60, 0x00, // retSize
        0x60, 0x00, // retOffset
        0x60, 0x00, // argsSize
        0x60, 0x00, // argsOffset
        0x60, value, // value
        0x61, hi, lo, // address
        0x61, 0xff, 0xff, // gas: 65535
        0xf1, // CALL
    ];
    code.extend_from_slice(RETURN_FLAG_AND_SIZE);
    code
}

/// CALLDATACOPY the whole calldata to memory 0, `CALL(gas = 0xffff, to, 0, in = 0..cds, out =
/// 0..0)`, then the flag-and-size tail. With 96 bytes of calldata: CALLDATASIZE 2, PUSH1 ×2
/// 6, CALLDATACOPY 3 + 3 × 3 words + 9 for three words of memory = 21 (29); then PUSH1 ×2 6,
/// CALLDATASIZE 2, PUSH1 ×2 6, PUSH2 ×2 6 (20); CALL 100 (warm, memory already expanded);
/// tail 20 (memory already holds both words). Total 169 + the precompile's price.
pub fn call_with_calldata(to: u16) -> Vec<u8> {
    call_with_calldata_gas(to, 0xffff)
}

/// [`call_with_calldata`] forwarding `gas` instead of 0xffff (the same cost before the CALL).
pub fn call_with_calldata_gas(to: u16, gas: u16) -> Vec<u8> {
    let [hi, lo] = to.to_be_bytes();
    let [ghi, glo] = gas.to_be_bytes();
    let mut code = vec![
        0x36, 0x60, 0x00, 0x60, 0x00, 0x37, // CALLDATACOPY(0, 0, CALLDATASIZE)
        0x60, 0x00, 0x60, 0x00, // retSize, retOffset
        0x36, 0x60, 0x00, // argsSize = CALLDATASIZE, argsOffset
        0x60, 0x00, // value
        0x61, hi, lo, 0x61, ghi, glo, // address, gas
        0xf1,
    ];
    code.extend_from_slice(RETURN_FLAG_AND_SIZE);
    code
}

/// Modexp input with the three length words and nothing else (96 bytes).
pub fn modexp_lengths(base: u64, exp: u64, modulus: u64) -> Vec<u8> {
    [base, exp, modulus]
        .iter()
        .flat_map(|n| U256::from(*n).to_be_bytes::<32>())
        .collect()
}

/// A program that CALLs `to` with `gas`, no value and no data, then stores `success + 1` in
/// slot 0 and `RETURNDATASIZE + 1` in slot 1 (so both are non-zero and visible).
/// [`RECORD_CALL`] is its gas when the target is warm.
fn record_call(to: u16, gas: u16) -> Vec<u8> {
    let [thi, tlo] = to.to_be_bytes();
    let [hi, lo] = gas.to_be_bytes();
    vec![
        0x60, 0x00, // retLen
        0x60, 0x00, // retOff
        0x60, 0x00, // argsLen
        0x60, 0x00, // argsOff
        0x60, 0x00, // value
        0x61, thi, tlo, // address
        0x61, hi, lo,   // gas
        0xf1, // CALL
        0x60, 0x01, 0x01, 0x60, 0x00, 0x55, // slot0 = success + 1
        0x3d, 0x60, 0x01, 0x01, 0x60, 0x01, 0x55, // slot1 = RETURNDATASIZE + 1
        0x00,
    ]
}
/// Gas of [`record_call`] with a warm target, beyond what the callee uses: 7 PUSHes (21), CALL
/// (100), then PUSH ADD PUSH (9), SSTORE (22,100), RETURNDATASIZE (2), PUSH ADD PUSH (9),
/// SSTORE (22,100).
const RECORD_CALL: u64 = 21 + 100 + 9 + 22_100 + 2 + 9 + 22_100;

/// `CALL(gas 0xffff, to, 0, in 0..32, out 0..32); SSTORE(0, success); SSTORE(1,
/// RETURNDATASIZE)`. [`STORE_CALL`] is its gas before the callee and the two SSTOREs.
fn store_call(to: u8) -> Vec<u8> {
    vec![
        0x60, 0x20, 0x60, 0x00, 0x60, 0x20, 0x60, 0x00, 0x60, 0x00, 0x60, to, 0x61, 0xff, 0xff,
        0xf1, // CALL
        0x60, 0x00, 0x55, // SSTORE(0, success)
        0x3d, 0x60, 0x01, 0x55, // SSTORE(1, RETURNDATASIZE)
        0x00,
    ]
}
/// Intrinsic 21,000; seven PUSHes 21; CALL's own charges: warm precompile 100 + memory
/// expansion to one word 3 = 103; PUSH1 3, RETURNDATASIZE 2, PUSH1 3.
const STORE_CALL: u64 = 21_000 + 21 + 103 + 3 + 2 + 3;

/// CALLs modexp with `gas` on base length `base_len`, exponent and modulus length 1 (the
/// values themselves are zero-padded), and records success and output size as [`record_call`]
/// does. Gas before the precompile: three MSTOREs of a PUSH1 pair, each 6 + 3 + 3 for its new
/// word = 36; seven PUSHes 21; CALL 100 (warm, memory already 96 bytes); the record 44,220
/// (both slots non-zero). Total 44,377.
fn record_modexp(base_len: u8, gas: u16) -> Vec<u8> {
    let [hi, lo] = gas.to_be_bytes();
    vec![
        0x60, base_len, 0x60, 0x00, 0x52, // MSTORE(0, base_len)
        0x60, 0x01, 0x60, 0x20, 0x52, // MSTORE(32, 1)
        0x60, 0x01, 0x60, 0x40, 0x52, // MSTORE(64, 1)
        0x60, 0x00, 0x60, 0x00, // retLen, retOff
        0x60, 0x60, 0x60, 0x00, // argsLen 96, argsOff 0
        0x60, 0x00, 0x60, 0x05, 0x61, hi, lo, // value, modexp, gas
        0xf1, 0x60, 0x01, 0x01, 0x60, 0x00, 0x55, // slot0 = success + 1
        0x3d, 0x60, 0x01, 0x01, 0x60, 0x01, 0x55, // slot1 = RETURNDATASIZE + 1
        0x00,
    ]
}

/// `MSTORE(0, len); MSTORE(0x20, 1); MSTORE(0x40, 1); CALL(0xffff, 0x05, 0, 0, 0x63, 0, 0);
/// SSTORE(0, success)`. Gas before the precompile and the SSTORE: three MSTOREs 36 (PUSH2 and
/// PUSH1 cost the same), six PUSH1 and a PUSH2 21, CALL 100 + 3 for the fourth word of memory
/// (input 0..0x63), PUSH1 3: 21,163 with the intrinsic gas.
fn store_modexp(len: u16) -> Vec<u8> {
    let [hi, lo] = len.to_be_bytes();
    vec![
        0x61, hi, lo, 0x60, 0x00, 0x52, // MSTORE(0, len)
        0x60, 0x01, 0x60, 0x20, 0x52, // MSTORE(0x20, 1)
        0x60, 0x01, 0x60, 0x40, 0x52, // MSTORE(0x40, 1)
        0x60, 0x00, 0x60, 0x00, 0x60, 0x63, 0x60, 0x00, 0x60, 0x00, 0x60, 0x05, 0x61, 0xff, 0xff,
        0xf1, // CALL
        0x60, 0x00, 0x55, 0x00,
    ]
}

/// Init code `MSTORE8(0, byte) RETURN(0, 1)`: deploys the one byte.
fn deploy_byte(byte: u8) -> Vec<u8> {
    vec![0x60, byte, 0x60, 0x00, 0x53, 0x60, 0x01, 0x60, 0x00, 0xf3]
}

/// `count` PUSH0s and then `tail`.
fn after_push0s(count: usize, tail: &[u8]) -> Vec<u8> {
    let mut code = vec![0x5f; count];
    code.extend_from_slice(tail);
    code
}

/// bn254 addition of (1, 1), a point off the curve, to the point at infinity.
fn bn254_add_off_curve() -> Vec<u8> {
    let mut input = vec![0u8; 128];
    input[31] = 1;
    input[63] = 1;
    input
}

/// Modexp input with a base length of 2^64 and nothing else.
fn modexp_base_len_2_pow_64() -> Vec<u8> {
    let mut input = vec![0u8; 96];
    input[23] = 1;
    input
}

/// A valid RIP-7212 / EIP-7951 P256VERIFY input (hash, r, s, x, y; 160 bytes, 3 of them
/// zero): the `ok_1` vector of revm-precompile 43's `secp256r1` tests.
pub fn p256_valid() -> Vec<u8> {
    alloy_primitives::hex::decode(
        "4cee90eb86eaa050036147a12d49004b6b9c72bd725d39d4785011fe190f0b4da73bd4903f0ce3b639bbbf6e8e80d16931ff4bcf5993d58468e8fb19086e8cac36dbcd03009df8c59286b162af3bd7fcc0450c9aa81be5d10d312af6c66b1d604aebd3099c618202fcfe16ae7770b0c49ab5eadf74b754204a3bb6060e44eff37618b065f9832de4ca6ca971a7a1adc826d0f7c00181a5fb2ddf79ae00b4e10e",
    )
    .expect("hex")
}

/// [`p256_valid`] with the hash's first byte changed (0x4c to 0x3c): the signature no longer
/// verifies; still 3 zero bytes.
fn p256_wrong_hash() -> Vec<u8> {
    let mut input = p256_valid();
    input[0] = 0x3c;
    input
}

/// Intrinsic gas of a transaction carrying a [`p256_valid`]-like input (157 non-zero bytes,
/// 3 zero): 21,000 + 157 × 16 + 3 × 4.
const P256_INTRINSIC: u64 = 21_000 + 157 * 16 + 3 * 4;
/// [`call_with_calldata`] with 160 bytes: CALLDATASIZE 2, PUSH1 ×2 6, CALLDATACOPY 3 + 3 × 5
/// words + 15 for five words of memory = 33 (41); PUSH1 ×2 6, CALLDATASIZE 2, PUSH1 ×2 6,
/// PUSH2 ×2 6 (20); CALL 100 (warm: every precompile, an added one too; memory already
/// expanded); tail 20. Total 181 + the precompile's price.
const P256_CALL: u64 = 181;

fn word(v: U256) -> Vec<u8> {
    v.to_be_bytes::<32>().to_vec()
}

// --------------------------------------------------------------------------- profiles

const SHA256_HALT_CANCUN: &str =
    "name = \"sha256-halt\"\nbase_fork = \"Cancun\"\n[precompiles]\nsha256 = \"halt\"\n";
const SHA256_HALT_SHANGHAI: &str =
    "name = \"sha256-halt\"\nbase_fork = \"Shanghai\"\n[precompiles]\nsha256 = \"halt\"\n";
const SHA256_ABSENT_CANCUN: &str =
    "name = \"sha256-absent\"\nbase_fork = \"Cancun\"\n[precompiles]\nsha256 = \"absent\"\n";
const SHA256_ABSENT_SHANGHAI: &str =
    "name = \"sha256-absent\"\nbase_fork = \"Shanghai\"\n[precompiles]\nsha256 = \"absent\"\n";
const SHA256_REJECT_CANCUN: &str =
    "name = \"sha256-reject\"\nbase_fork = \"Cancun\"\n[precompiles]\nsha256 = \"reject\"\n";
const SHA256_REJECT_SHANGHAI: &str =
    "name = \"sha256-reject\"\nbase_fork = \"Shanghai\"\n[precompiles]\nsha256 = \"reject\"\n";
const G1ADD_ABSENT_PRAGUE: &str =
    "name = \"g1add-absent\"\nbase_fork = \"Prague\"\n[precompiles]\nbls12_g1add = \"absent\"\n";
const BLOCKHASH_CONSTANT: &str = "name = \"blockhash-constant\"\nbase_fork = \"Shanghai\"\n[opcodes]\nBLOCKHASH = { behaviour = \"constant\", value = \"0x1234\" }\n";
const BLOCKHASH_COINBASE_CONSTANT: &str = "name = \"constants\"\nbase_fork = \"Cancun\"\n[opcodes]\nBLOCKHASH = { behaviour = \"constant\", value = \"0x77\" }\nCOINBASE = { behaviour = \"constant\", value = 5 }\n";
const CHAINID_CONSTANT: &str = "name = \"chainid-constant\"\nbase_fork = \"Shanghai\"\n[opcodes]\nCHAINID = { behaviour = \"constant\", value = \"0x1234\" }\n";
const BLOCKHASH_CONSTANT_5: &str = "name = \"blockhash-constant\"\nbase_fork = \"Shanghai\"\n[opcodes]\nBLOCKHASH = { behaviour = \"constant\", value = 5 }\n";
const NUMBER_INVALID: &str =
    "name = \"number-invalid\"\nbase_fork = \"Cancun\"\n[opcodes]\nNUMBER = \"invalid\"\n";
const NUMBER_REVERT_REFUND_CANCUN: &str = "name = \"number-revert-refund\"\nbase_fork = \"Cancun\"\n[opcodes]\nNUMBER = \"revert-refund\"\n";
const NUMBER_REVERT_REFUND_SHANGHAI: &str = "name = \"number-revert-refund\"\nbase_fork = \"Shanghai\"\n[opcodes]\nNUMBER = \"revert-refund\"\n";
const NUMBER_REJECT: &str =
    "name = \"number-reject\"\nbase_fork = \"Cancun\"\n[opcodes]\nNUMBER = \"reject\"\n";
const SSTORE_REVERT_REFUND: &str = "name = \"sstore-revert-refund\"\nbase_fork = \"Shanghai\"\n[opcodes]\nSSTORE = \"revert-refund\"\n";
const TIMESTAMP_REJECT: &str =
    "name = \"timestamp-reject\"\nbase_fork = \"Shanghai\"\n[opcodes]\nTIMESTAMP = \"reject\"\n";
const MODEXP_HALT_OSAKA: &str = "name = \"modexp-halt\"\nbase_fork = \"Osaka\"\n[limits.modexp]\nmax_len = 512\nbehaviour = \"halt\"\n";
const MODEXP_64_REVERT_REFUND: &str = "name = \"modexp-64\"\nbase_fork = \"Cancun\"\n[limits.modexp]\nmax_len = 64\nbehaviour = \"revert-refund\"\n";
const MODEXP_64_HALT: &str = "name = \"modexp-64\"\nbase_fork = \"Cancun\"\n[limits.modexp]\nmax_len = 64\nbehaviour = \"halt\"\n";
const MODEXP_64_REJECT: &str = "name = \"modexp-64\"\nbase_fork = \"Cancun\"\n[limits.modexp]\nmax_len = 64\nbehaviour = \"reject\"\n";

const KECCAK_BLOCKHASH: &str = "name = \"keccak-blockhash\"\nbase_fork = \"Cancun\"\n[opcodes]\nBLOCKHASH = \"keccak-chain-number\"\n";
const ADD_GAS_REPRICED: &str =
    "name = \"add-gas\"\nbase_fork = \"Cancun\"\n[gas.opcodes]\nADD = 30\nGAS = 10\n";
const ADD_CHEAPER: &str =
    "name = \"add-cheaper\"\nbase_fork = \"Cancun\"\n[gas.opcodes]\nADD = 1\n";
const ECRECOVER_6000: &str =
    "name = \"ecrecover-6000\"\nbase_fork = \"Cancun\"\n[gas.precompiles]\necrecover = 6000\n";
const P256_RIP7212_CANCUN: &str = "name = \"rip7212\"\nbase_fork = \"Cancun\"\n[added_precompiles]\n\"0x100\" = { implementation = \"p256verify-rip7212\", gas = 3450 }\n";
const P256_RIP7212_OSAKA: &str = "name = \"rip7212\"\nbase_fork = \"Osaka\"\n[added_precompiles]\n\"0x100\" = { implementation = \"p256verify-rip7212\", gas = 3450 }\n";

// ------------------------------------------------------------------------------ the table

/// Every scenario, in the order a suite runs them (one backend instance runs them all in
/// turn, so a rule that leaks into the next execution shows up).
pub fn scenarios() -> Vec<Scenario> {
    use Fork::*;
    use ProfileSpec::{Builtin, Mainnet, Toml};
    let ok = || Expect::new(Status::Success);
    let revert = || Expect::new(Status::Revert);
    let halt = |class| Expect::new(Status::Halt(class));
    let rejected = || Expect::new(Status::Rejected);
    let s = Scenario::new;
    let n = U256::from;
    let mut random_plus_one = U256::from_be_bytes(RANDOM.0);
    random_plus_one += U256::from(1);
    vec![
        // ------------------------------------------------------------ the forks themselves
        // STOP: the intrinsic gas only. Backends that lack a fork say `Unsupported`
        // (deviation.rs).
        s("fork/frontier", Mainnet, Frontier)
            .code(vec![0x00])
            .expect(ok().gas(21_000).fees()),
        s("fork/constantinople", Mainnet, Constantinople)
            .code(vec![0x00])
            .expect(ok().gas(21_000)),
        s("fork/berlin", Mainnet, Berlin)
            .code(vec![0x00])
            .expect(ok().gas(21_000)),
        s("fork/london", Mainnet, London)
            .code(vec![0x00])
            .expect(ok().gas(21_000).fees()),
        s("fork/paris", Mainnet, Paris)
            .code(vec![0x00])
            .expect(ok().gas(21_000)),
        s("fork/prague", Mainnet, Prague)
            .code(vec![0x00])
            .expect(ok().gas(21_000)),
        s("fork/osaka", Mainnet, Osaka)
            .code(vec![0x00])
            .expect(ok().gas(21_000)),
        // ----------------------------------------------------- precompile: revert-refund
        // 21000 intrinsic + 21 pushes + CALL 100 (warm precompile, no value, no memory; the
        // 65535 forwarded come back whole) + 26 for the tail = 21147.
        s(
            "precompile/revert-refund-returns-forwarded-gas",
            Builtin("eip7530-b"),
            Shanghai,
        )
        .code(call(0x02, 0))
        .expect(ok().flag_and_size(0, 0).gas(21_147).refund(0).fees()),
        // As above, plus sha256 of empty input: 60 + 12 × 0 words = 60. 21147 + 60 = 21207.
        // Profile A does not touch precompiles: the same as plain Shanghai.
        s(
            "precompile/eip7530-a-runs-sha256",
            Builtin("eip7530-a"),
            Shanghai,
        )
        .code(call(0x02, 0))
        .expect(ok().flag_and_size(1, 32).gas(21_207).refund(0).fees()),
        s("precompile/mainnet-runs-sha256", Mainnet, Shanghai)
            .code(call(0x02, 0))
            .expect(ok().flag_and_size(1, 32).gas(21_207).refund(0).fees()),
        // CALL with 1 wei to sha256 (which does not exist as an account): 100 warm + 9000
        // value transfer + 25000 new account; the callee gets 65535 + 2300 stipend and all of
        // it comes back, so the caller nets the stipend: 100 + 9000 + 25000 - 2300 = 31800.
        // 21000 + 21 + 31800 + 26 = 52847. The value transfer is reverted with the call.
        s(
            "precompile/revert-refund-still-charges-the-call",
            Builtin("eip7530-b"),
            Shanghai,
        )
        .code(call(0x02, 1))
        .expect(
            ok().flag_and_size(0, 0)
                .gas(52_847)
                .balance(CONTRACT, 1)
                .gone(Address::with_last_byte(2)),
        ),
        // Intrinsic only: 21000 + 4 non-zero calldata bytes × 16 = 21064.
        s(
            "precompile/revert-refund-as-target",
            Builtin("eip7530-b"),
            Shanghai,
        )
        .to(Target::Precompile(0x02))
        .data(vec![0xff; 4])
        .expect(revert().output(Output::Empty).gas(21_064)),
        // Plain Shanghai runs sha256: 21064 + 60 + 12 × 1 word = 21136.
        s("precompile/mainnet-sha256-as-target", Mainnet, Shanghai)
            .to(Target::Precompile(0x02))
            .data(vec![0xff; 4])
            .expect(ok().output(Output::Len(32)).gas(21_136)),
        // No calldata: 21000, and the sender pays it.
        s(
            "precompile/revert-refund-as-target-no-data",
            Builtin("eip7530-b"),
            Shanghai,
        )
        .to(Target::Precompile(0x02))
        .expect(revert().output(Output::Empty).gas(21_000).fees()),
        // 32 zero bytes of calldata: 21000 + 32 × 4 = 21128.
        s(
            "precompile/revert-refund-as-target-zero-data",
            Builtin("eip7530-b"),
            Shanghai,
        )
        .to(Target::Precompile(0x02))
        .data(vec![0; 32])
        .expect(revert().output(Output::Empty).gas(21_128)),
        // record_call with a warm target, 10,000 forwarded, none of it used:
        // 21000 + 44341 = 65341; slots: success 0 + 1, no return data 0 + 1.
        s(
            "precompile/revert-refund-recorded",
            Builtin("eip7530-b"),
            Shanghai,
        )
        .code(record_call(0x02, 10_000))
        .expect(ok().slots(1, 1).gas(21_000 + RECORD_CALL).refund(0).fees()),
        // sha256 of empty input costs 60: 65401; success 1 + 1, 32 bytes + 1.
        s(
            "precompile/eip7530-a-recorded",
            Builtin("eip7530-a"),
            Shanghai,
        )
        .code(record_call(0x02, 10_000))
        .expect(ok().slots(2, 33).gas(21_000 + RECORD_CALL + 60).fees()),
        // store_call: both SSTOREs write zero, 2200 each: 21132 + 4400 = 25532.
        s(
            "precompile/revert-refund-stored",
            Builtin("eip7530-b"),
            Shanghai,
        )
        .code(store_call(0x02))
        .expect(ok().slots(0, 0).gas(STORE_CALL + 2_200 + 2_200)),
        // sha256 of one word: 60 + 12 = 72; both SSTOREs write non-zero, 22100 each: 65404.
        s(
            "precompile/eip7530-a-stored",
            Builtin("eip7530-a"),
            Shanghai,
        )
        .code(store_call(0x02))
        .expect(ok().slots(1, 32).gas(STORE_CALL + 72 + 22_100 + 22_100)),
        // ---------------------------------------------------------------- precompile: halt
        // 21000 + 21 + CALL 100 + all 65535 forwarded consumed + 26 = 86682.
        s("precompile/scroll-ripemd160-halt", Builtin("scroll"), Osaka)
            .code(call(0x03, 0))
            .expect(ok().flag_and_size(0, 0).gas(86_682)),
        // Plain Osaka runs ripemd160: 600 + 120 × 0 words = 600 → 21747, success, 32 bytes.
        s("precompile/mainnet-ripemd160", Mainnet, Osaka)
            .code(call(0x03, 0))
            .expect(ok().flag_and_size(1, 32).gas(21_747)),
        // 21132 + all 65535 forwarded + two zero SSTOREs 4400 = 91067.
        s(
            "precompile/scroll-ripemd160-halt-stored",
            Builtin("scroll"),
            Osaka,
        )
        .code(store_call(0x03))
        .expect(ok().slots(0, 0).gas(STORE_CALL + 65_535 + 4_400)),
        // A halting precompile as the transaction's target: an L1-style precompile failure.
        s("precompile/halt-as-target", Builtin("scroll"), Osaka)
            .to(Target::Precompile(0x03))
            .tx_gas(50_000)
            .expect(halt(HaltClass::PrecompileFailure).gas(50_000)),
        s(
            "precompile/halt-rule-as-target",
            Toml(SHA256_HALT_CANCUN),
            Cancun,
        )
        .to(Target::Precompile(0x02))
        .expect(halt(HaltClass::PrecompileFailure).gas(TX_GAS)),
        // 21000 + 44341 + the 10,000 forwarded, consumed = 75341.
        s(
            "precompile/halt-rule-recorded",
            Toml(SHA256_HALT_CANCUN),
            Cancun,
        )
        .code(record_call(0x02, 10_000))
        .expect(ok().slots(1, 1).gas(21_000 + RECORD_CALL + 10_000).fees()),
        // 21132 + 65535 + 4400 = 91067.
        s(
            "precompile/halt-rule-stored",
            Toml(SHA256_HALT_SHANGHAI),
            Shanghai,
        )
        .code(store_call(0x02))
        .expect(ok().slots(0, 0).gas(STORE_CALL + 65_535 + 4_400)),
        // Mainnet bn254 add of a point off the curve: invalid input, all gas consumed...
        s("precompile/mainnet-bn254-invalid-input", Mainnet, Cancun)
            .to(Target::Precompile(0x06))
            .data(bn254_add_off_curve())
            .expect(halt(HaltClass::PrecompileFailure).gas(TX_GAS)),
        // ...unless the gas cannot pay the 150 it costs: intrinsic 21000 + 2 non-zero bytes ×
        // 16 + 126 zero bytes × 4 = 21536, and 149 more.
        s("precompile/mainnet-bn254-out-of-gas", Mainnet, Cancun)
            .to(Target::Precompile(0x06))
            .data(bn254_add_off_curve())
            .tx_gas(21_536 + 149)
            .expect(halt(HaltClass::OutOfGas).gas(21_536 + 149)),
        // modexp with a base length of 2^64: out of gas, as the execution spec prices it from
        // its lengths (revm, evm and levm call it an input failure once the gas covers the
        // minimum price of 200: deviation.rs). Intrinsic 21000 + 16 + 95 × 4 = 21396.
        s("precompile/mainnet-modexp-huge-base", Mainnet, Cancun)
            .to(Target::Precompile(0x05))
            .data(modexp_base_len_2_pow_64())
            .tx_gas(21_396 + 200)
            .expect(halt(HaltClass::OutOfGas).gas(21_396 + 200)),
        s(
            "precompile/mainnet-modexp-huge-base-out-of-gas",
            Mainnet,
            Cancun,
        )
        .to(Target::Precompile(0x05))
        .data(modexp_base_len_2_pow_64())
        .tx_gas(21_396 + 199)
        .expect(halt(HaltClass::OutOfGas).gas(21_396 + 199)),
        // -------------------------------------------------------------- precompile: absent
        // Scroll (base Osaka) has no point evaluation at 0x0a. A CALL to a cold address: 2600
        // instead of 100 (EIP-2929); no code, so nothing of the 65535 forwarded is used.
        // 21000 + 21 + 2600 + 26 = 23647. Touched and empty: removed again (EIP-161).
        s(
            "precompile/scroll-absent-point-evaluation",
            Builtin("scroll"),
            Osaka,
        )
        .code(call(0x0a, 0))
        .expect(
            ok().flag_and_size(1, 0)
                .gas(23_647)
                .gone(Address::with_last_byte(0x0a)),
        ),
        // Plain Osaka: a warm precompile failing on a 0-byte input consumes the forwarded gas:
        // 21000 + 21 + 100 + 65535 + 26 = 86682.
        s(
            "precompile/mainnet-point-evaluation-empty-input",
            Mainnet,
            Osaka,
        )
        .code(call(0x0a, 0))
        .expect(ok().flag_and_size(0, 0).gas(86_682)),
        // 21000 + 44341 - 100 + 2600 (cold) = 67841.
        s(
            "precompile/absent-sha256-recorded",
            Toml(SHA256_ABSENT_CANCUN),
            Cancun,
        )
        .code(record_call(0x02, 10_000))
        .expect(
            ok().slots(2, 1)
                .gas(21_000 + RECORD_CALL - 100 + 2_600)
                .gone(Address::with_last_byte(2))
                .fees(),
        ),
        // 21132 - 100 + 2600 + SSTORE 1 (22100) + SSTORE 0 (2200) = 47932.
        s(
            "precompile/absent-sha256-stored",
            Toml(SHA256_ABSENT_SHANGHAI),
            Shanghai,
        )
        .code(store_call(0x02))
        .expect(
            ok().slots(1, 0)
                .gas(STORE_CALL - 100 + 2_600 + 22_100 + 2_200)
                .gone(Address::with_last_byte(2)),
        ),
        // Above 0x09, in Prague: a cold (2600) empty account. 21000 + 21 + 2600 + 26 = 23647.
        s(
            "precompile/absent-bls12-g1add",
            Toml(G1ADD_ABSENT_PRAGUE),
            Prague,
        )
        .code(call(0x0b, 0))
        .expect(ok().flag_and_size(1, 0).gas(23_647)),
        // The fork's other precompiles stay warm and dispatched: blake2f (0x09), point
        // evaluation (0x0a) and bls12_map_fp2_to_g2 (0x11) fail on an empty input as on
        // mainnet, consuming the forwarded gas: 86682.
        s(
            "precompile/absent-g1add-keeps-blake2f",
            Toml(G1ADD_ABSENT_PRAGUE),
            Prague,
        )
        .code(call(0x09, 0))
        .expect(ok().flag_and_size(0, 0).gas(86_682)),
        s(
            "precompile/absent-g1add-keeps-point-evaluation",
            Toml(G1ADD_ABSENT_PRAGUE),
            Prague,
        )
        .code(call(0x0a, 0))
        .expect(ok().flag_and_size(0, 0).gas(86_682)),
        s(
            "precompile/absent-g1add-keeps-map-fp2",
            Toml(G1ADD_ABSENT_PRAGUE),
            Prague,
        )
        .code(call(0x11, 0))
        .expect(ok().flag_and_size(0, 0).gas(86_682)),
        // -------------------------------------------------------------- precompile: reject
        // Linea refuses a transaction that calls ripemd160: from a contract, two frames deep,
        // or directly. No fee, no state change.
        s(
            "precompile/linea-rejects-ripemd160",
            Builtin("linea"),
            Osaka,
        )
        .code(call(0x03, 0))
        .expect(rejected().gas(0)),
        s(
            "precompile/linea-rejects-ripemd160-two-frames-deep",
            Builtin("linea"),
            Osaka,
        )
        .code(call(0xbeef, 0))
        .inner(call(0x03, 0))
        .expect(rejected()),
        s(
            "precompile/linea-rejects-ripemd160-as-target",
            Builtin("linea"),
            Osaka,
        )
        .to(Target::Precompile(0x03))
        .tx_gas(50_000)
        .expect(rejected()),
        s(
            "precompile/linea-rejects-ripemd160-stored",
            Builtin("linea"),
            Osaka,
        )
        .code(store_call(0x03))
        .expect(rejected()),
        // sha256 is fine on Linea: as on mainnet, 21207.
        s("precompile/linea-runs-sha256", Builtin("linea"), Osaka)
            .code(call(0x02, 0))
            .expect(ok().flag_and_size(1, 32).gas(21_207)),
        s(
            "precompile/reject-rule-recorded",
            Toml(SHA256_REJECT_CANCUN),
            Cancun,
        )
        .code(record_call(0x02, 10_000))
        .expect(rejected().gas(0)),
        s(
            "precompile/reject-rule-stored",
            Toml(SHA256_REJECT_SHANGHAI),
            Shanghai,
        )
        .code(store_call(0x02))
        .expect(rejected().gas(0)),
        // ---------------------------------------------------------------- opcode: constant
        // PREVRANDAO PUSH1 0 MSTORE PUSH1 0x20 PUSH1 0 RETURN: 2 + 3 + (3 + 3) + 3 + 3 + 0 =
        // 17 → 21017, under mainnet and under both EIP-7530 profiles (which make it 0).
        s("opcode/mainnet-prevrandao", Mainnet, Shanghai)
            .code(vec![0x44, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3])
            .expect(ok().output(Output::Exact(RANDOM.to_vec())).gas(21_017)),
        s(
            "opcode/eip7530-a-prevrandao-zero",
            Builtin("eip7530-a"),
            Shanghai,
        )
        .code(vec![0x44, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3])
        .expect(ok().output(Output::Exact(word(U256::ZERO))).gas(21_017)),
        s(
            "opcode/eip7530-b-prevrandao-zero",
            Builtin("eip7530-b"),
            Shanghai,
        )
        .code(vec![0x44, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3])
        .expect(ok().output(Output::Exact(word(U256::ZERO))).gas(21_017)),
        // PREVRANDAO PUSH1 1 ADD PUSH1 0 SSTORE STOP: 2 + 3 + 3 + 3 + 22100 = 22111 → 43111;
        // slot 0 = PREVRANDAO + 1.
        s("opcode/mainnet-prevrandao-plus-one", Mainnet, Shanghai)
            .code(vec![0x44, 0x60, 0x01, 0x01, 0x60, 0x00, 0x55, 0x00])
            .expect(ok().slot(0, random_plus_one).gas(43_111)),
        s(
            "opcode/eip7530-a-prevrandao-plus-one",
            Builtin("eip7530-a"),
            Shanghai,
        )
        .code(vec![0x44, 0x60, 0x01, 0x01, 0x60, 0x00, 0x55, 0x00])
        .expect(ok().slot(0, n(1)).gas(43_111)),
        s(
            "opcode/eip7530-b-prevrandao-plus-one",
            Builtin("eip7530-b"),
            Shanghai,
        )
        .code(vec![0x44, 0x60, 0x01, 0x01, 0x60, 0x00, 0x55, 0x00])
        .expect(ok().slot(0, n(1)).gas(43_111)),
        // SSTORE(0, PREVRANDAO): 2 + 3 + 22100 = 43105 on mainnet; a zero store costs 2200
        // under the profiles: 23205.
        s("opcode/mainnet-prevrandao-stored", Mainnet, Shanghai)
            .code(vec![0x44, 0x60, 0x00, 0x55, 0x00])
            .expect(ok().slot(0, U256::from_be_bytes(RANDOM.0)).gas(43_105)),
        s(
            "opcode/eip7530-a-prevrandao-stored",
            Builtin("eip7530-a"),
            Shanghai,
        )
        .code(vec![0x44, 0x60, 0x00, 0x55, 0x00])
        .expect(ok().no_storage().gas(23_205)),
        s(
            "opcode/eip7530-b-prevrandao-stored",
            Builtin("eip7530-b"),
            Shanghai,
        )
        .code(vec![0x44, 0x60, 0x00, 0x55, 0x00])
        .expect(ok().no_storage().gas(23_205)),
        // Exactly 2 gas for PREVRANDAO: 21001 is one short, 21002 is enough (then STOP).
        s("opcode/constant-out-of-gas", Builtin("eip7530-a"), Shanghai)
            .code(vec![0x44, 0x00])
            .tx_gas(21_001)
            .expect(halt(HaltClass::OutOfGas).gas(21_001)),
        s("opcode/constant-exact-gas", Builtin("eip7530-a"), Shanghai)
            .code(vec![0x44, 0x00])
            .tx_gas(21_002)
            .expect(ok().gas(21_002)),
        // 1024 × PUSH0 fill the stack; the constant push overflows it, as PREVRANDAO does.
        s(
            "opcode/constant-stack-overflow",
            Builtin("eip7530-a"),
            Shanghai,
        )
        .code(after_push0s(1024, &[0x44]))
        .expect(halt(HaltClass::StackOverflow).gas(TX_GAS)),
        s(
            "opcode/mainnet-prevrandao-stack-overflow",
            Mainnet,
            Shanghai,
        )
        .code(after_push0s(1024, &[0x44]))
        .expect(halt(HaltClass::StackOverflow).gas(TX_GAS)),
        // 1023 items leave room: 1023 × 2 + 2 = 2048 → 23048.
        s(
            "opcode/constant-fits-under-the-limit",
            Builtin("eip7530-a"),
            Shanghai,
        )
        .code(after_push0s(1023, &[0x44, 0x00]))
        .expect(ok().gas(23_048)),
        // PUSH1 0 BLOCKHASH PUSH1 0 MSTORE PUSH1 0x20 PUSH1 0 RETURN: 3 + 20 + 3 + 6 + 3 + 3 =
        // 38, with the constant and on mainnet (which returns something else).
        s(
            "opcode/constant-with-an-input",
            Toml(BLOCKHASH_CONSTANT),
            Shanghai,
        )
        .code(vec![
            0x60, 0x00, 0x40, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3,
        ])
        .expect(ok().output(Output::Exact(word(n(0x1234)))).gas(21_038)),
        s("opcode/mainnet-blockhash", Mainnet, Shanghai)
            .code(vec![
                0x60, 0x00, 0x40, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3,
            ])
            .expect(ok().output(Output::Not(word(n(0x1234)))).gas(21_038)),
        // With nothing to pop: stack underflow, all gas consumed.
        s(
            "opcode/constant-with-an-input-underflows",
            Toml(BLOCKHASH_CONSTANT),
            Shanghai,
        )
        .code(vec![0x40])
        .expect(halt(HaltClass::StackUnderflow).gas(TX_GAS)),
        s(
            "opcode/constant-5-underflows",
            Toml(BLOCKHASH_CONSTANT_5),
            Shanghai,
        )
        .code(vec![0x40, 0x00])
        .expect(halt(HaltClass::StackUnderflow).gas(TX_GAS)),
        // Exactly one item is popped: PUSH1 7 PUSH1 0 BLOCKHASH → [7, 0x1234]; POP leaves 7 on
        // top. 3 + 3 + 20 + 2 + 3 + 6 + 3 + 3 = 43 → 21043.
        s(
            "opcode/constant-pops-one-input",
            Toml(BLOCKHASH_CONSTANT),
            Shanghai,
        )
        .code(vec![
            0x60, 0x07, 0x60, 0x00, 0x40, 0x50, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3,
        ])
        .expect(ok().output(Output::Exact(word(n(7)))).gas(21_043)),
        // PUSH1 5 BLOCKHASH PUSH1 0 SSTORE STOP: slot 0 = 0x77; 3 + 20 + 3 + 22100 → 43126.
        s(
            "opcode/constant-stored",
            Toml(BLOCKHASH_COINBASE_CONSTANT),
            Cancun,
        )
        .code(vec![0x60, 0x05, 0x40, 0x60, 0x00, 0x55, 0x00])
        .expect(ok().slot(0, n(0x77)).gas(43_126)),
        s(
            "opcode/constant-underflows-in-cancun",
            Toml(BLOCKHASH_COINBASE_CONSTANT),
            Cancun,
        )
        .code(vec![0x40, 0x00])
        .expect(halt(HaltClass::StackUnderflow).gas(TX_GAS)),
        // 19 gas left for a 20-gas opcode: 21000 + 3 + 19.
        s(
            "opcode/constant-short-of-gas",
            Toml(BLOCKHASH_COINBASE_CONSTANT),
            Cancun,
        )
        .code(vec![0x60, 0x05, 0x40, 0x00])
        .tx_gas(21_022)
        .expect(halt(HaltClass::OutOfGas).gas(21_022)),
        // COINBASE (no input, one output) on a full stack overflows; with 1023 items it fits:
        // 1023 × 2 + 2 = 2048 → 23048.
        s(
            "opcode/constant-overflows-in-cancun",
            Toml(BLOCKHASH_COINBASE_CONSTANT),
            Cancun,
        )
        .code(after_push0s(1024, &[0x41, 0x00]))
        .expect(halt(HaltClass::StackOverflow).gas(TX_GAS)),
        s(
            "opcode/constant-fits-in-cancun",
            Toml(BLOCKHASH_COINBASE_CONSTANT),
            Cancun,
        )
        .code(after_push0s(1023, &[0x41, 0x00]))
        .expect(ok().gas(23_048)),
        // SSTORE(0, CHAINID): 2 + 3 + 22100 → 43105.
        s("opcode/constant-chainid", Toml(CHAINID_CONSTANT), Shanghai)
            .code(vec![0x46, 0x60, 0x00, 0x55, 0x00])
            .expect(ok().slot(0, n(0x1234)).gas(43_105)),
        // ----------------------------------------------------------------- opcode: invalid
        // PUSH1 0 SELFDESTRUCT under Scroll: an exceptional halt consuming all gas.
        s(
            "opcode/scroll-selfdestruct-invalid",
            Builtin("scroll"),
            Osaka,
        )
        .code(vec![0x60, 0x00, 0xff])
        .expect(halt(HaltClass::InvalidOpcode).gas(TX_GAS).fees()),
        // Even without the 5000 gas SELFDESTRUCT would cost: the rule acts before any gas
        // check.
        s(
            "opcode/invalid-before-the-gas-check",
            Builtin("scroll"),
            Osaka,
        )
        .code(vec![0x60, 0x00, 0xff])
        .tx_gas(21_010)
        .expect(halt(HaltClass::InvalidOpcode).gas(21_010)),
        // In a sub-call: the callee's frame halts, all 65535 forwarded are lost, the caller
        // goes on. 21000 + 21 + CALL (2600 cold INNER) + 65535 + 26 = 89182.
        s("opcode/invalid-in-a-sub-call", Builtin("scroll"), Osaka)
            .code(call(0xbeef, 0))
            .inner(vec![0x60, 0x00, 0xff])
            .expect(ok().flag_and_size(0, 0).gas(89_182)),
        s("opcode/invalid-rule", Toml(NUMBER_INVALID), Cancun)
            .code(vec![0x43, 0x00])
            .expect(halt(HaltClass::InvalidOpcode).gas(TX_GAS)),
        // NUMBER STOP on mainnet: 21002.
        s("opcode/mainnet-number", Mainnet, Cancun)
            .code(vec![0x43, 0x00])
            .expect(ok().gas(21_002)),
        // The call fails and its 5,000 gas are gone; the cold callee costs 2,600:
        // 21000 + 44341 - 100 + 2600 + 5000 = 72841.
        s(
            "opcode/invalid-rule-in-a-callee",
            Toml(NUMBER_INVALID),
            Cancun,
        )
        .code(record_call(0xbeef, 5_000))
        .inner(vec![0x43, 0x00])
        .expect(
            ok().slots(1, 1)
                .gas(21_000 + RECORD_CALL - 100 + 2_600 + 5_000),
        ),
        // SSTORE(0, BASEFEE): the block's base fee on mainnet (2 + 3 + 22100 → 43105);
        // BASEFEE is invalid on polygon-zkevm.
        s("opcode/mainnet-basefee", Mainnet, Shanghai)
            .code(vec![0x48, 0x60, 0x00, 0x55, 0x00])
            .expect(ok().slot(0, n(7)).gas(43_105)),
        s(
            "opcode/polygon-basefee-invalid",
            Builtin("polygon-zkevm"),
            Shanghai,
        )
        .code(vec![0x48, 0x60, 0x00, 0x55, 0x00])
        .expect(halt(HaltClass::InvalidOpcode).gas(TX_GAS)),
        // ----------------------------------------------------------- opcode: revert-refund
        // PUSH1 1 PUSH1 0 SSTORE: 3 + 3, then the SSTORE reverts at no cost. 21006 gas.
        s(
            "opcode/revert-refund-at-the-top",
            Toml(SSTORE_REVERT_REFUND),
            Shanghai,
        )
        .code(vec![0x60, 0x01, 0x60, 0x00, 0x55, 0x00])
        .expect(revert().output(Output::Empty).gas(21_006).no_storage()),
        // In a sub-call: success 0, empty return data, and the callee's unused gas comes
        // back: 21000 + 21 + CALL 2600 (cold INNER) + 6 used by INNER + 26 = 23653.
        s(
            "opcode/revert-refund-in-a-sub-call",
            Toml(SSTORE_REVERT_REFUND),
            Shanghai,
        )
        .code(call(0xbeef, 0))
        .inner(vec![0x60, 0x01, 0x60, 0x00, 0x55, 0x00])
        .expect(ok().flag_and_size(0, 0).gas(23_653)),
        // Without the rule INNER stores (22100 for a cold slot from zero) and succeeds.
        s("opcode/mainnet-sstore-in-a-sub-call", Mainnet, Shanghai)
            .code(call(0xbeef, 0))
            .inner(vec![0x60, 0x01, 0x60, 0x00, 0x55, 0x00])
            .expect(ok().flag_and_size(1, 0).gas(23_653 + 22_100)),
        // SSTORE(0, 1), NUMBER: the store is undone, its gas is not; NUMBER is free.
        // 21000 + 3 + 3 + 22100 = 43106.
        s(
            "opcode/revert-refund-keeps-spent-gas",
            Toml(NUMBER_REVERT_REFUND_CANCUN),
            Cancun,
        )
        .code(vec![0x60, 0x01, 0x60, 0x00, 0x55, 0x43, 0x00])
        .expect(
            revert()
                .output(Output::Empty)
                .gas(43_106)
                .no_storage()
                .fees(),
        ),
        s(
            "opcode/revert-refund-in-shanghai",
            Toml(NUMBER_REVERT_REFUND_SHANGHAI),
            Shanghai,
        )
        .code(vec![0x60, 0x01, 0x60, 0x00, 0x55, 0x43, 0x00])
        .expect(revert().output(Output::Empty).gas(43_106).no_storage()),
        // In a callee: CALL returns 0 with empty data and every unit of the 5,000 comes
        // back: 21000 + 44341 - 100 + 2600 = 67841.
        s(
            "opcode/revert-refund-in-a-callee",
            Toml(NUMBER_REVERT_REFUND_CANCUN),
            Cancun,
        )
        .code(record_call(0xbeef, 5_000))
        .inner(vec![0x43, 0x00])
        .expect(ok().slots(1, 1).gas(21_000 + RECORD_CALL - 100 + 2_600)),
        // ------------------------------------------------------------------ opcode: reject
        // Executed two frames deep: the whole transaction is refused.
        s(
            "opcode/reject-two-frames-deep",
            Toml(TIMESTAMP_REJECT),
            Shanghai,
        )
        .code(call(0xbeef, 0))
        .inner(vec![0x42, 0x00])
        .expect(rejected()),
        // The next execution on the same backend is not refused: the rejection does not leak
        // (the suite runs the table in order on one instance).
        s(
            "opcode/reject-does-not-leak",
            Toml(TIMESTAMP_REJECT),
            Shanghai,
        )
        .code(vec![0x00])
        .expect(ok().gas(21_000)),
        // Present in the code but jumped over (PUSH1 5 JUMP TIMESTAMP STOP JUMPDEST STOP):
        // runs. PUSH1 3 + JUMP 8 + JUMPDEST 1 = 12.
        s(
            "opcode/reject-only-when-executed",
            Toml(TIMESTAMP_REJECT),
            Shanghai,
        )
        .code(vec![0x60, 0x05, 0x56, 0x42, 0x00, 0x5b, 0x00])
        .expect(ok().gas(21_012)),
        s("opcode/reject-in-a-callee", Toml(NUMBER_REJECT), Cancun)
            .code(record_call(0xbeef, 5_000))
            .inner(vec![0x43, 0x00])
            .expect(rejected().gas(0).detail("NUMBER")),
        // ----------------------------------------------------------------------- modexp cap
        // Exponent length 1025 > 1024 under polygon-zkevm: the call returns 0 and costs
        // nothing beyond the CALL. Calldata: 94 zero bytes × 4 + 2 non-zero × 16 = 408;
        // 21000 + 408 + 169 = 21577.
        s(
            "modexp/polygon-revert-refund-over-the-cap",
            Builtin("polygon-zkevm"),
            Shanghai,
        )
        .code(call_with_calldata(0x05))
        .data(modexp_lengths(0, 1025, 0))
        .expect(ok().flag_and_size(0, 0).gas(21_577)),
        // Plain Shanghai runs it: modulus length 0 gives empty output at the EIP-2565 minimum
        // of 200 gas (multiplication complexity 0): 21777.
        s("modexp/mainnet-over-polygon-cap", Mainnet, Shanghai)
            .code(call_with_calldata(0x05))
            .data(modexp_lengths(0, 1025, 0))
            .expect(ok().flag_and_size(1, 0).gas(21_777)),
        // At the cap (1024) it runs under the profile too: one non-zero calldata byte (95 × 4
        // + 16 = 396), 21000 + 396 + 169 + 200 = 21765, on both.
        s(
            "modexp/polygon-at-the-cap",
            Builtin("polygon-zkevm"),
            Shanghai,
        )
        .code(call_with_calldata(0x05))
        .data(modexp_lengths(0, 1024, 0))
        .expect(ok().flag_and_size(1, 0).gas(21_765)),
        s("modexp/mainnet-at-polygon-cap", Mainnet, Shanghai)
            .code(call_with_calldata(0x05))
            .data(modexp_lengths(0, 1024, 0))
            .expect(ok().flag_and_size(1, 0).gas(21_765)),
        // Base length 513 > 512: Linea refuses the transaction; 512 is accepted. Osaka's
        // modexp (EIP-7883) on base length 512: 64 words, complexity 2 × 64² = 8192, exponent 0
        // → 1 iteration: 8192; calldata 396: 21000 + 396 + 169 + 8192 = 29757.
        s("modexp/linea-rejects-over-the-cap", Builtin("linea"), Osaka)
            .code(call_with_calldata(0x05))
            .data(modexp_lengths(513, 0, 0))
            .expect(rejected()),
        s("modexp/linea-at-the-cap", Builtin("linea"), Osaka)
            .code(call_with_calldata(0x05))
            .data(modexp_lengths(512, 0, 0))
            .expect(ok().flag_and_size(1, 0).gas(29_757)),
        // Base length 513 on mainnet Osaka: 65 words, 2 × 65² = 8450; calldata 408:
        // 21000 + 408 + 169 + 8450 = 30027. A `halt` cap consumes the 65535 forwarded instead
        // of those 8450: 30027 - 8450 + 65535 = 87112.
        s("modexp/mainnet-over-linea-cap", Mainnet, Osaka)
            .code(call_with_calldata(0x05))
            .data(modexp_lengths(513, 0, 0))
            .expect(ok().flag_and_size(1, 0).gas(30_027)),
        s("modexp/halt-over-the-cap", Toml(MODEXP_HALT_OSAKA), Osaka)
            .code(call_with_calldata(0x05))
            .data(modexp_lengths(513, 0, 0))
            .expect(ok().flag_and_size(0, 0).gas(87_112)),
        // record_modexp at base length 64 under a cap of 64 runs: EIP-2565, 8 words, 64 / 3 =
        // 21 under the 200 minimum; 21000 + 44377 + 200 = 65577; one byte out.
        s(
            "modexp/revert-refund-at-a-cap-of-64",
            Toml(MODEXP_64_REVERT_REFUND),
            Cancun,
        )
        .code(record_modexp(64, 10_000))
        .expect(ok().slots(2, 2).gas(65_577)),
        // 65 is refused with no output: 21000 + 44377 = 65377.
        s(
            "modexp/revert-refund-over-a-cap-of-64",
            Toml(MODEXP_64_REVERT_REFUND),
            Cancun,
        )
        .code(record_modexp(65, 10_000))
        .expect(ok().slots(1, 1).gas(65_377)),
        // Without the cap it runs and pays modexp's minimum price of 200: 65577.
        s("modexp/mainnet-base-length-65", Mainnet, Cancun)
            .code(record_modexp(65, 10_000))
            .expect(ok().slots(2, 2).gas(65_577)),
        // Halt keeps the forwarded 10,000 that revert-refund gives back: 75377.
        s("modexp/halt-over-a-cap-of-64", Toml(MODEXP_64_HALT), Cancun)
            .code(record_modexp(65, 10_000))
            .expect(ok().slots(1, 1).gas(75_377)),
        s(
            "modexp/reject-over-a-cap-of-64",
            Toml(MODEXP_64_REJECT),
            Cancun,
        )
        .code(record_modexp(65, 10_000))
        .expect(rejected()),
        // store_modexp on polygon-zkevm: base length 1024 runs (EIP-2565: 128 words, 128² =
        // 16384, exponent beyond the input → 1 iteration, 16384 / 3 = 5461) and stores 1:
        // 21163 + 5461 + 22100 = 48724. 1025 is refused at no precompile gas and stores 0
        // (2200): 23363.
        s(
            "modexp/polygon-stored-at-the-cap",
            Builtin("polygon-zkevm"),
            Shanghai,
        )
        .code(store_modexp(1024))
        .expect(ok().slot(0, n(1)).gas(48_724)),
        s(
            "modexp/polygon-stored-over-the-cap",
            Builtin("polygon-zkevm"),
            Shanghai,
        )
        .code(store_modexp(1025))
        .expect(ok().no_storage().gas(23_363)),
        // --------------------------------------------------------------------------- refund
        // PUSH1 0 PUSH1 0 SSTORE STOP with slot 0 = 5: 3 + 3 + SSTORE (cold 2100 + reset 2900)
        // = 5006 → 26006 spent; clearing a slot refunds 4800 (EIP-3529, under the 26006 / 5
        // cap): 21206.
        s("refund/clearing-a-slot", Mainnet, Shanghai)
            .code(vec![0x60, 0x00, 0x60, 0x00, 0x55, 0x00])
            .pre_slot(0, 5)
            .expect(ok().gas(21_206).refund(4_800).no_storage()),
        // Prague with 400 zero bytes of calldata: 26006 + 4 × 400 = 27606 spent, 22806 after
        // the refund, but the EIP-7623 floor is 21000 + 10 × 400 = 25000. The sender pays
        // 25000, so 2606 of the refund was deducted.
        s("refund/under-the-calldata-floor", Mainnet, Prague)
            .code(vec![0x60, 0x00, 0x60, 0x00, 0x55, 0x00])
            .pre_slot(0, 5)
            .data(vec![0; 400])
            .expect(ok().gas(25_000).refund(2_606)),
        // -------------------------------------------------------------------- normalization
        // Every exceptional halt consumes all gas, with no output and no logs, whatever the
        // backend calls it: TLOAD before Cancun, 0xFE and the undefined 0x0c are invalid...
        s("halt/tload-before-cancun", Mainnet, Shanghai)
            .code(vec![0x5c])
            .expect(halt(HaltClass::InvalidOpcode).gas(TX_GAS)),
        s("halt/designated-invalid", Mainnet, Shanghai)
            .code(vec![0xfe])
            .expect(halt(HaltClass::InvalidOpcode).gas(TX_GAS)),
        s("halt/undefined-opcode", Mainnet, Shanghai)
            .code(vec![0x0c])
            .expect(halt(HaltClass::InvalidOpcode).gas(TX_GAS)),
        s("halt/stack-underflow", Mainnet, Shanghai)
            .code(vec![0x56])
            .expect(halt(HaltClass::StackUnderflow).gas(TX_GAS)),
        s("halt/invalid-jump", Mainnet, Shanghai)
            .code(vec![0x60, 0x03, 0x56])
            .expect(halt(HaltClass::InvalidJump).gas(TX_GAS)),
        // RETURNDATACOPY(0, 0, 1) with no return data.
        s("halt/return-data-out-of-bounds", Mainnet, Shanghai)
            .code(vec![0x60, 0x01, 0x60, 0x00, 0x60, 0x00, 0x3e])
            .expect(halt(HaltClass::ReturnDataOutOfBounds).gas(TX_GAS)),
        // Plain out of gas (PUSH1 PUSH1 ADD needs 9, 8 given), and memory expansion out of
        // gas (MLOAD at 2^32).
        s("halt/out-of-gas", Mainnet, Shanghai)
            .code(vec![0x60, 0x00, 0x60, 0x00, 0x01])
            .tx_gas(21_008)
            .expect(halt(HaltClass::OutOfGas).gas(21_008)),
        s("halt/memory-out-of-gas", Mainnet, Shanghai)
            .code(vec![0x63, 0xff, 0xff, 0xff, 0xff, 0x51])
            .expect(halt(HaltClass::OutOfGas).gas(TX_GAS)),
        // --------------------------------------------------------------------------- create
        // Init code MSTORE8(0, 0) RETURN(0, 1): intrinsic 53000 + 7 non-zero × 16 + 3 zero × 4
        // = 53124, + 2 for one word of init code (EIP-3860) = 53126; PUSH1 ×2 6, MSTORE8 3 +
        // 3 for the word, PUSH1 ×2 6 = 18; code deposit 200 × 1: 53344. The new account (nonce
        // 1, EIP-161) is at the sender's nonce-0 address.
        s("create/returns-the-deployed-code", Mainnet, Shanghai)
            .to(Target::Create)
            .data(deploy_byte(0x00))
            .expect(
                ok().output(Output::Exact(vec![0x00]))
                    .created(&[0x00])
                    .gas(53_344),
            ),
        // Deploying code that starts with 0xEF (EIP-3541).
        s("create/0xef-prefix", Mainnet, Shanghai)
            .to(Target::Create)
            .data(deploy_byte(0xef))
            .expect(halt(HaltClass::InvalidCodePrefix).created(&[])),
        // PUSH2 0xabcd, PUSH1 0, MSTORE, PUSH1 2, PUSH1 30, RETURN: deploys 0xabcd. Intrinsic
        // 53,000 + 10 non-zero bytes × 16 + 1 zero × 4 + 1 init-code word (2); then 4 PUSHes
        // 12, MSTORE with one word of memory 6, RETURN 0, and 2 bytes of code deposit 400.
        s("create/deploys-two-bytes", Mainnet, Cancun)
            .to(Target::Create)
            .data(vec![
                0x61, 0xab, 0xcd, 0x60, 0x00, 0x52, 0x60, 0x02, 0x60, 0x1e, 0xf3,
            ])
            .expect(
                ok().output(Output::Exact(vec![0xab, 0xcd]))
                    .created(&[0xab, 0xcd])
                    .gas(53_000 + 10 * 16 + 4 + 2 + 4 * 3 + 6 + 400),
            ),
        // ------------------------------------------------- rollup rules: block-derived
        // Scroll's BLOCKHASH before Feynman: keccak256(chain id ‖ number), 8 bytes big-endian
        // each. The block is number 1 on chain 1, so block 0 is in the window: keccak256 of
        // 0x0000000000000001_0000000000000000 = 0x1b3d..daa3 (computed outside Rust). PUSH1 0
        // BLOCKHASH PUSH1 0 MSTORE PUSH1 0x20 PUSH1 0 RETURN: 3 + 20 + 3 + 6 + 3 + 3 = 38.
        s(
            "rollup/blockhash-keccak-chain-number",
            Toml(KECCAK_BLOCKHASH),
            Cancun,
        )
        .code(vec![
            0x60, 0x00, 0x40, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3,
        ])
        .expect(
            ok().output(Output::Exact(word(
                "0x1b3dc907f2c72f8fba8e45cebb54b5ff1cb577e25373135a90900c10ed2cdaa3"
                    .parse()
                    .expect("a number"),
            )))
            .gas(21_038),
        ),
        // The current block (1) is outside the window: 0, same gas.
        s(
            "rollup/blockhash-keccak-current-block-is-zero",
            Toml(KECCAK_BLOCKHASH),
            Cancun,
        )
        .code(vec![
            0x60, 0x01, 0x40, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3,
        ])
        .expect(ok().output(Output::Exact(word(n(0)))).gas(21_038)),
        // Nothing to hash: stack underflow, all gas consumed.
        s(
            "rollup/blockhash-keccak-underflows",
            Toml(KECCAK_BLOCKHASH),
            Cancun,
        )
        .code(vec![0x40])
        .expect(halt(HaltClass::StackUnderflow).gas(TX_GAS)),
        // ------------------------------------------------------ rollup rules: changed gas
        // ADD at 30 and GAS at 10: PUSH1 1 PUSH1 2 ADD PUSH1 0 MSTORE PUSH1 0x20 PUSH1 0 RETURN
        // = 3 + 3 + 30 + 3 + 6 + 3 + 3 = 51 (24 on mainnet).
        s("rollup/gas-opcode-repriced", Toml(ADD_GAS_REPRICED), Cancun)
            .code(vec![
                0x60, 0x01, 0x60, 0x02, 0x01, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3,
            ])
            .expect(ok().output(Output::Exact(word(n(3)))).gas(21_051)),
        // GAS pushes what is left after its own new price: 100,000 - 21,000 - 10 = 78,990;
        // then PUSH1 0 MSTORE PUSH1 0x20 PUSH1 0 RETURN 15: 21,025.
        s(
            "rollup/gas-opcode-repriced-gas-sees-it",
            Toml(ADD_GAS_REPRICED),
            Cancun,
        )
        .code(vec![0x5a, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3])
        .tx_gas(100_000)
        .expect(ok().output(Output::Exact(word(n(78_990)))).gas(21_025)),
        // ADD at 1: PUSH1 1 PUSH1 2 ADD STOP costs 7, and runs with exactly 21,007 gas, where the
        // standard ADD (3) would be out of gas: the new price decides, not the old one.
        s("rollup/gas-opcode-cheaper-runs", Toml(ADD_CHEAPER), Cancun)
            .code(vec![0x60, 0x01, 0x60, 0x02, 0x01, 0x00])
            .tx_gas(21_007)
            .expect(ok().gas(21_007)),
        // ...and one gas less is out of gas at the ADD.
        s(
            "rollup/gas-opcode-cheaper-out-of-gas",
            Toml(ADD_CHEAPER),
            Cancun,
        )
        .code(vec![0x60, 0x01, 0x60, 0x02, 0x01, 0x00])
        .tx_gas(21_006)
        .expect(halt(HaltClass::OutOfGas).gas(21_006)),
        // ecrecover at 6,000 (3,000 on mainnet), called by the transaction with no input (which
        // recovers nothing: success, empty output): 21,000 + 6,000.
        s(
            "rollup/gas-precompile-repriced",
            Toml(ECRECOVER_6000),
            Cancun,
        )
        .to(Target::Precompile(0x01))
        .expect(ok().output(Output::Empty).gas(27_000)),
        s(
            "rollup/gas-precompile-repriced-out-of-gas",
            Toml(ECRECOVER_6000),
            Cancun,
        )
        .to(Target::Precompile(0x01))
        .tx_gas(26_999)
        .expect(halt(HaltClass::OutOfGas).gas(26_999)),
        // Through a CALL: the record program around it, and the 6,000.
        s(
            "rollup/gas-precompile-repriced-in-a-call",
            Toml(ECRECOVER_6000),
            Cancun,
        )
        .code(record_call(0x01, 0xffff))
        .expect(ok().slots(2, 1).gas(21_000 + RECORD_CALL + 6_000)),
        // ----------------------------------------------- rollup rules: added precompiles
        // RIP-7212 P256VERIFY at 0x100 for 3,450, in a fork without any precompile there. A
        // valid signature: the word 1. Intrinsic + the call program + 3,450.
        s(
            "rollup/added-p256verify-valid",
            Toml(P256_RIP7212_CANCUN),
            Cancun,
        )
        .code(call_with_calldata(0x100))
        .data(p256_valid())
        .expect(
            ok().flag_and_size(1, 32)
                .gas(P256_INTRINSIC + P256_CALL + 3_450),
        ),
        // A signature that does not verify: success, no output, the same price.
        s(
            "rollup/added-p256verify-wrong-hash",
            Toml(P256_RIP7212_CANCUN),
            Cancun,
        )
        .code(call_with_calldata(0x100))
        .data(p256_wrong_hash())
        .expect(
            ok().flag_and_size(1, 0)
                .gas(P256_INTRINSIC + P256_CALL + 3_450),
        ),
        // 3,449 forwarded: out of gas inside the call, which consumes them and returns 0.
        s(
            "rollup/added-p256verify-out-of-gas",
            Toml(P256_RIP7212_CANCUN),
            Cancun,
        )
        .code(call_with_calldata_gas(0x100, 3_449))
        .data(p256_valid())
        .expect(
            ok().flag_and_size(0, 0)
                .gas(P256_INTRINSIC + P256_CALL + 3_449),
        ),
        // In Osaka it replaces EIP-7951's P256VERIFY (6,900): 3,500 forwarded are enough.
        // Execution 23,524 + 181 + 3,450 = 27,155 is under the EIP-7623 floor of 21,000 + 10 ×
        // (3 + 4 × 157) = 27,310, which is charged.
        s(
            "rollup/added-p256verify-replaces-osaka",
            Toml(P256_RIP7212_OSAKA),
            Osaka,
        )
        .code(call_with_calldata_gas(0x100, 3_500))
        .data(p256_valid())
        .expect(ok().flag_and_size(1, 32).gas(27_310)),
        // Mainnet Osaka for comparison: the same 3,500 do not pay EIP-7951's 6,900 (the call
        // consumes them: 23,524 + 181 + 3,500 = 27,205, under the floor of 27,310)...
        s(
            "precompile/mainnet-osaka-p256verify-at-3500",
            Mainnet,
            Osaka,
        )
        .code(call_with_calldata_gas(0x100, 3_500))
        .data(p256_valid())
        .expect(ok().flag_and_size(0, 0).gas(27_310)),
        // ...and 0xffff do: 23,524 + 181 + 6,900 = 30,605, over the floor.
        s("precompile/mainnet-osaka-p256verify", Mainnet, Osaka)
            .code(call_with_calldata(0x100))
            .data(p256_valid())
            .expect(
                ok().flag_and_size(1, 32)
                    .gas(P256_INTRINSIC + P256_CALL + 6_900),
            ),
        // ----------------------------------------------------------- refused transactions
        // An EIP-7702 transaction does not exist in Cancun; a nonce that is not the sender's.
        s("tx/type-4-before-prague", Mainnet, Cancun)
            .code(vec![0x00])
            .tweak(Tweak::EmptyAuthorizationList)
            .expect(rejected()),
        s("tx/wrong-nonce", Mainnet, Cancun)
            .code(vec![0x00])
            .tweak(Tweak::WrongNonce)
            .expect(rejected()),
    ]
}
