//! Whether a backend did on a probe what the profile says: the observation the probe
//! recorded, checked against the rule's behaviour (its documented semantics in
//! [`Behaviour`]), with every gas figure derived from the fork's call costs and the profile's
//! prices, never taken from a backend.

use alloy_primitives::{Address, U256};
use evmdiff_core::profile::{Implementation, P256_VALID, constant_shape, keccak_chain_number};
use evmdiff_core::{
    Backend, BackendError, Behaviour, Case, ChainOutcome, Fork, Outcome, Profile, Scope, Status,
};

use super::probe::{
    Context, FRAME_GAS, OPCODE_WORDS, PRECOMPILE_GAS, PRECOMPILE_WORDS, Probe, SLOT_FLAG, SLOT_GAS,
    SLOT_SIZE, SLOT_WORDS,
};
use super::rule::{Item, Rule, Says};
use crate::scenario::{CONTRACT, Expect, Verdict};

/// Runs `probe` on `backend` under `profile` and judges it against `rule`; with the outcome
/// when it is as the profile says (a case file's expectation).
pub fn judge(
    backend: &mut dyn Backend,
    profile: &Profile,
    rule: &Rule,
    probe: &Probe,
) -> (Verdict, Option<Outcome>) {
    let o = match outcome(backend, &probe.case, profile) {
        Ok(o) => o,
        Err(v) => return (v, None),
    };
    let mismatches = if rule.says == Says::AsBaseFork {
        match outcome(backend, &probe.case, &base_fork_of(profile)) {
            Ok(base) => as_base_fork(&o, &base),
            Err(v) => return (v, None),
        }
    } else {
        Judge {
            profile,
            rule,
            probe,
            o: &o,
        }
        .mismatches()
    };
    if mismatches.is_empty() {
        (Verdict::Pass, Some(o))
    } else {
        let verdict = Verdict::Fail(format!(
            "{} [{:?}, {} gas{}]",
            mismatches.join("; "),
            o.status,
            o.gas_used,
            if o.detail.is_empty() {
                String::new()
            } else {
                format!(", {}", o.detail)
            }
        ));
        (verdict, None)
    }
}

/// The backend's outcome, or the verdict when there is none to judge: it cannot run the case
/// (it sits out), it failed, or it reports too little to read the probe's record.
fn outcome(backend: &mut dyn Backend, case: &Case, profile: &Profile) -> Result<Outcome, Verdict> {
    match backend
        .execute(case, profile)
        .map(ChainOutcome::into_last_tx)
    {
        Ok(Some(o)) if !o.scope.has_state() => Err(Verdict::Unsupported(
            "it reports a state root, not the post-state the probes record into".into(),
        )),
        Ok(Some(o)) => Ok(o),
        Ok(None) => Err(Verdict::Fail("no transaction outcome".into())),
        Err(BackendError::Unsupported(why)) => Err(Verdict::Unsupported(why)),
        Err(e) => Err(Verdict::Fail(e.to_string())),
    }
}

/// The base fork with the profile's opcode prices and nothing else: what an item the profile
/// leaves as in the base fork is compared with. The probes' own instructions (GAS, PUSH) may
/// be re-priced, and must cost the same on both sides; a behaviour rule on them leaves the row
/// unprobed ([`super::rule`]).
fn base_fork_of(profile: &Profile) -> Profile {
    let mut base = Profile::mainnet(profile.base_fork);
    base.gas.opcodes = profile.gas.opcodes.clone();
    base
}

/// Differences from the same backend's run of the probe without the profile.
fn as_base_fork(o: &Outcome, base: &Outcome) -> Vec<String> {
    let mut m = Vec::new();
    if o.status != base.status {
        m.push(format!(
            "status {:?}, without the profile {:?}",
            o.status, base.status
        ));
    }
    if o.gas_used != base.gas_used {
        m.push(format!(
            "gas {}, without the profile {}",
            o.gas_used, base.gas_used
        ));
    }
    if o.output != base.output {
        m.push(format!(
            "output {}, without the profile {}",
            o.output, base.output
        ));
    }
    if o.state_root() != base.state_root() {
        m.push("post-state differs from the run without the profile".into());
    }
    m
}

/// The kind of ending a rule gives the frame running its subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// It goes on: the probe's words come back.
    Completes,
    /// An exceptional halt consuming the frame's gas.
    Halts,
    /// A revert with empty data, keeping the frame's unused gas.
    Reverts,
    /// The transaction is refused.
    Rejected,
}

struct Judge<'a> {
    profile: &'a Profile,
    rule: &'a Rule,
    probe: &'a Probe,
    o: &'a Outcome,
}

impl Judge<'_> {
    fn mismatches(&self) -> Vec<String> {
        if self.ending() == Ending::Rejected {
            return Expect::new(Status::Rejected).mismatches(&self.probe.case, self.o);
        }
        let mut m = Vec::new();
        if self.o.status == Status::Rejected {
            m.push(format!("rejected ({})", self.o.detail));
            return m;
        }
        match (self.rule.item, self.probe.context) {
            (Item::Opcode(_), Context::TxTarget) => self.opcode_as_target(&mut m),
            (Item::Precompile(_), Context::TxTarget) => self.precompile_as_target(&mut m),
            (Item::Opcode(op), _) => self.opcode_in_frame(op, &mut m),
            (Item::Precompile(a), _) => self.precompile_in_frame(a, &mut m),
        }
        m
    }

    fn ending(&self) -> Ending {
        match (self.rule.item, self.rule.says) {
            (_, Says::Behaviour(Behaviour::Reject)) => Ending::Rejected,
            (Item::Opcode(_), Says::Behaviour(Behaviour::Invalid)) => Ending::Halts,
            (Item::Opcode(_), Says::Behaviour(Behaviour::RevertRefund)) => Ending::Reverts,
            _ => Ending::Completes,
        }
    }

    /// A failure the receipt of a transition tool reports without saying revert or halt.
    fn status_is(&self, want: Status, m: &mut Vec<String>) {
        let got = self.o.status;
        let same = match (got, want) {
            (Status::Halt(_), Status::Halt(_)) => true,
            (Status::Revert | Status::Halt(_), Status::Revert | Status::Halt(_))
                if self.o.scope == Scope::ReceiptState =>
            {
                true
            }
            (a, b) => a == b,
        };
        if !same {
            m.push(format!("status {got:?}, expected {want:?}"));
        }
    }

    fn slot(&self, slot: u64) -> U256 {
        self.o
            .post
            .get(&CONTRACT)
            .and_then(|a| a.storage.get(&U256::from(slot)).copied())
            .unwrap_or_default()
    }

    /// The words the site handed back, from the recorder's storage.
    fn recorded_words(&self) -> Vec<U256> {
        (0..PRECOMPILE_WORDS as u64)
            .map(|k| self.slot(SLOT_WORDS + k))
            .collect()
    }

    /// What the recorder saw of the entry into the site: success flag, return data size (or
    /// deployed code size), and the gas the entry took.
    fn entry(&self) -> (U256, U256, U256) {
        let used = self
            .slot(SLOT_GAS[0])
            .saturating_sub(self.slot(SLOT_GAS[1]));
        (self.slot(SLOT_FLAG), self.slot(SLOT_SIZE), used)
    }

    /// The entry into a site that runs to its end: succeeded (failed, for the reverted frame)
    /// with `words` words handed back.
    fn entry_completes(&self, words: usize, m: &mut Vec<String>) {
        self.status_is(Status::Success, m);
        let (flag, size, _) = self.entry();
        let want_flag = u64::from(self.probe.context != Context::RevertedFrame);
        differ(m, "the site's success flag", flag, U256::from(want_flag));
        differ(
            m,
            "the site's return data size",
            size,
            U256::from(words * 32),
        );
    }

    fn opcode_in_frame(&self, op: u8, m: &mut Vec<String>) {
        let (flag, size, used) = self.entry();
        match self.ending() {
            Ending::Completes => {
                self.entry_completes(OPCODE_WORDS, m);
                self.opcode_words(op, &self.recorded_words(), m);
            }
            Ending::Halts => {
                self.status_is(Status::Success, m);
                differ(m, "the site's success flag", flag, U256::ZERO);
                differ(m, "the site's return data size", size, U256::ZERO);
                // CREATE forwards all but 1/64 of some 800,000 gas; a CALL, FRAME_GAS.
                let all = if self.probe.context == Context::InitCode {
                    500_000
                } else {
                    FRAME_GAS
                };
                if used < U256::from(all) {
                    m.push(format!(
                        "the site's frame took {used} gas, expected all it was given (at least {all})"
                    ));
                }
            }
            Ending::Reverts => {
                self.status_is(Status::Success, m);
                differ(m, "the site's success flag", flag, U256::ZERO);
                differ(m, "the site's return data size", size, U256::ZERO);
                if used >= U256::from(KEPT) {
                    m.push(format!(
                        "the site's frame took {used} gas, expected it to keep what it did not use (under {KEPT})"
                    ));
                }
            }
            Ending::Rejected => {}
        }
    }

    fn opcode_as_target(&self, m: &mut Vec<String>) {
        let Item::Opcode(op) = self.rule.item else {
            return;
        };
        let tx_gas = self.tx_gas();
        match self.ending() {
            Ending::Completes => {
                self.status_is(Status::Success, m);
                if self.o.scope.is_full() {
                    let words: Vec<U256> =
                        self.o.output.chunks(32).map(U256::from_be_slice).collect();
                    if words.len() != OPCODE_WORDS {
                        m.push(format!("output {}, expected three words", self.o.output));
                    } else {
                        self.opcode_words(op, &words, m);
                    }
                }
            }
            Ending::Halts => {
                self.status_is(Status::Halt(evmdiff_core::HaltClass::Other), m);
                differ(m, "gas", self.o.gas_used, tx_gas);
            }
            Ending::Reverts => {
                self.status_is(Status::Revert, m);
                if self.o.scope.is_full() && !self.o.output.is_empty() {
                    m.push(format!("output {}, expected none", self.o.output));
                }
                if self.o.gas_used >= tx_gas / 2 {
                    m.push(format!(
                        "gas {}, expected the unused gas kept (under {})",
                        self.o.gas_used,
                        tx_gas / 2
                    ));
                }
            }
            Ending::Rejected => {}
        }
    }

    /// `[GAS before, value pushed, GAS after]` of an opcode site that completed.
    fn opcode_words(&self, op: u8, words: &[U256], m: &mut Vec<String>) {
        let taken = words[0].saturating_sub(words[2]) - U256::from(self.probe.measured);
        let rule_gas = self.profile.gas.opcodes.get(&op).copied();
        let (value, gas) = match self.rule.says {
            Says::Behaviour(Behaviour::Constant(v)) => (
                Some(v),
                rule_gas.or_else(|| constant_shape(evmdiff_core::opcode::Opcode(op)).map(|s| s.1)),
            ),
            Says::Behaviour(Behaviour::KeccakChainNumber) => {
                let env = self.probe.case.single().map(|(e, _)| e);
                let (chain, number) = env
                    .map(|e| (U256::from(e.chain_id), e.number))
                    .unwrap_or_default();
                (
                    Some(keccak_chain_number(chain, number, U256::ZERO)),
                    Some(rule_gas.unwrap_or(20)),
                )
            }
            Says::Price(gas) => (None, Some(gas)),
            _ => (None, None),
        };
        if let Some(v) = value {
            differ(m, "value pushed", words[1], v);
        }
        if let Some(g) = gas {
            differ(m, "gas of the opcode", taken, U256::from(g));
        }
    }

    fn precompile_in_frame(&self, address: Address, m: &mut Vec<String>) {
        self.entry_completes(PRECOMPILE_WORDS, m);
        let w = self.recorded_words();
        let value = self.probe.value;
        let access = self.access(&address);
        let transfer = if value { 9_000 + 25_000 } else { 0 };
        let stipend = if value { 2_300 } else { 0 };
        let (flag, size, cost, out) = match self.rule.says {
            Says::Behaviour(Behaviour::Halt) => (
                0,
                Some(0),
                access + transfer + PRECOMPILE_GAS,
                Some(U256::ZERO),
            ),
            Says::Behaviour(Behaviour::RevertRefund) => {
                (0, Some(0), access + transfer - stipend, Some(U256::ZERO))
            }
            Says::Behaviour(Behaviour::Absent) => {
                (1, Some(0), access + transfer - stipend, Some(U256::ZERO))
            }
            Says::Price(gas) => (1, None, access + transfer + gas - stipend, None),
            Says::Added(a) => match a.implementation {
                Implementation::P256VerifyRip7212 => (
                    1,
                    Some(32),
                    access + transfer + a.gas - stipend,
                    Some(U256::from_be_bytes(P256_VALID)),
                ),
            },
            _ => return,
        };
        differ(
            m,
            "the precompile call's success flag",
            w[0],
            U256::from(flag),
        );
        if let Some(size) = size {
            differ(
                m,
                "the precompile's return data size",
                w[1],
                U256::from(size),
            );
        }
        let taken = w[2]
            .saturating_sub(w[3])
            .saturating_sub(U256::from(self.probe.measured));
        differ(m, "gas of the precompile call", taken, U256::from(cost));
        if let Some(out) = out {
            differ(m, "the precompile's output", w[4], out);
        }
        if value {
            let kept = flag == 1 && self.probe.context != Context::RevertedFrame;
            let got = self
                .o
                .post
                .get(&address)
                .map(|a| a.balance)
                .unwrap_or_default();
            differ(
                m,
                "the precompile address's balance",
                got,
                U256::from(u64::from(kept)),
            );
        }
    }

    fn precompile_as_target(&self, m: &mut Vec<String>) {
        let tx_gas = self.tx_gas();
        let (status, gas, output) = match self.rule.says {
            Says::Behaviour(Behaviour::Halt) => (
                Status::Halt(evmdiff_core::HaltClass::PrecompileFailure),
                tx_gas,
                Some(Vec::new()),
            ),
            Says::Behaviour(Behaviour::RevertRefund) => {
                (Status::Revert, self.charged(0), Some(Vec::new()))
            }
            Says::Behaviour(Behaviour::Absent) => {
                (Status::Success, self.charged(0), Some(Vec::new()))
            }
            Says::Price(gas) => (Status::Success, self.charged(gas), None),
            Says::Added(a) => match a.implementation {
                Implementation::P256VerifyRip7212 => (
                    Status::Success,
                    self.charged(a.gas),
                    Some(P256_VALID.to_vec()),
                ),
            },
            _ => return,
        };
        self.status_is(status, m);
        differ(m, "gas", self.o.gas_used, gas);
        if let Some(out) = output
            && self.o.scope.is_full()
            && self.o.output.as_ref() != out.as_slice()
        {
            m.push(format!(
                "output {}, expected {}",
                self.o.output,
                alloy_primitives::Bytes::from(out)
            ));
        }
    }

    /// CALL's access charge for `address`: warm for a precompile the profile keeps or adds
    /// (EIP-2929), cold for an absent one; before Berlin a flat 700 (EIP-150), 40 before that.
    fn access(&self, address: &Address) -> u64 {
        let fork = self.profile.base_fork;
        if !fork.includes(Fork::Berlin) {
            return if fork.includes(Fork::Tangerine) {
                700
            } else {
                40
            };
        }
        let kept = self
            .profile
            .precompile(address)
            .is_some_and(|b| b != Behaviour::Absent)
            || self.profile.added.contains_key(address);
        if kept { 100 } else { 2_600 }
    }

    fn tx_gas(&self) -> u64 {
        self.probe
            .case
            .single()
            .map(|(_, t)| u64::try_from(t.gas_limit).unwrap_or(u64::MAX))
            .unwrap_or_default()
    }

    /// What a transaction to the precompile is charged when it executes `exec` gas: 21,000,
    /// the calldata's bytes (EIP-2028 from Istanbul) and `exec`, but from Prague at least the
    /// calldata floor of EIP-7623 (21,000 + 10 per token, a non-zero byte being 4 tokens).
    fn charged(&self, exec: u64) -> u64 {
        let fork = self.profile.base_fork;
        let nonzero = if fork.includes(Fork::Istanbul) {
            16
        } else {
            68
        };
        let input = &self.rule.input;
        let zeros = input.iter().filter(|b| **b == 0).count() as u64;
        let others = input.len() as u64 - zeros;
        let standard = 21_000 + zeros * 4 + others * nonzero + exec;
        if fork.includes(Fork::Prague) {
            standard.max(21_000 + 10 * (zeros + 4 * others))
        } else {
            standard
        }
    }
}

/// Gas under which a frame counts as having kept what it did not use.
const KEPT: u64 = 100_000;

fn differ<T: PartialEq + std::fmt::Display>(m: &mut Vec<String>, what: &str, got: T, want: T) {
    if got != want {
        m.push(format!("{what} {got}, expected {want}"));
    }
}
