//! A case's blocks on evm. evm has no state store of its own beyond a transaction: its
//! `OverlayedBackend` records one transaction's changes over a base backend. The adapter's
//! [`World`] is that base, and the state it reads ([`Run::world`]) is evm's store for the
//! whole case: each transaction runs against the world the previous one left, and its change
//! set is applied to the world before the next one. What evm keeps per transaction (transient
//! storage, warm sets, refund counter, self-destructs) lives in the overlay, which is new for
//! every transaction, as evm's own `transact` makes it.
//!
//! In a chain, the block rules of [`evmdiff_core::block_processing`] are applied with evm: a
//! system call is an evm transaction from `SYSTEM_ADDRESS` at gas price zero under a base fee
//! of zero (so no fee is charged or paid), given 30M gas on top of its intrinsic gas, whose
//! changes to `SYSTEM_ADDRESS` (the nonce evm increments) and to the beneficiary (the zero
//! reward evm pays) are dropped, as every client drops them; withdrawals and the pre-Merge
//! block reward are credited to the world.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, Bytes, Log, U256};
use evm::backend::{OverlayedBackend, OverlayedChangeSet};
use evm::interpreter::ExitError;
use evm::interpreter::etable::Chained;
use evm::standard::{
    Config, DispatchEtable, EtableResolver, GasometerEtable, Invoker, TransactArgs,
    TransactArgsCallCreate, TransactGasPrice,
};
use evmdiff_core::block_processing::{BlockExecutor, SYSTEM_ADDRESS, SYSTEM_CALL_GAS, SystemCall};
use evmdiff_core::case::{BlockEnv, Transaction};
use evmdiff_core::observe::StateRead;
use evmdiff_core::{At, BackendError, Case, Fork, Observer, Outcome, Profile, State, Status};

use super::convert::{address, eu256, h160, h256, u256_of};
use super::invoker::{End, Finished, TxInvoker};
use super::observe::{DepthInvoker, NotingPrecompiles, StepEtable, Watch};
use super::opcodes::{ProfileEtable, Refusal};
use super::precompiles::ProfilePrecompiles;
use super::status::{Origin, halt_class};
use super::world::{self, Block, World};
use super::{HEAP_DEPTH, validate};

/// One execution of a case on evm.
pub(super) struct Run<'a, 'o> {
    pub(super) case: &'a Case,
    pub(super) profile: &'a Profile,
    pub(super) config: &'static Config,
    pub(super) observer: Option<&'o mut dyn Observer>,
    /// evm's state between transactions: what every transaction so far left.
    pub(super) world: State,
    /// A chain's header hashes, for BLOCKHASH; `None` in a state test.
    pub(super) hashes: Option<BTreeMap<u64, B256>>,
    /// Every read evm made of its base backend, when the observer wants them.
    pub(super) reads: Option<Vec<StateRead>>,
    /// The block being executed.
    pub(super) block: usize,
}

/// What evm did with one transaction: its end, change set and refusal by a profile rule.
struct Ran {
    result: Result<Finished, ExitError>,
    changes: OverlayedChangeSet,
    refusal: Option<String>,
}

impl<'a, 'o> Run<'a, 'o> {
    pub(super) fn new(
        case: &'a Case,
        profile: &'a Profile,
        config: &'static Config,
        observer: Option<&'o mut dyn Observer>,
    ) -> Run<'a, 'o> {
        let reads = observer
            .as_ref()
            .is_some_and(|o| o.wants_reads())
            .then(Vec::new);
        Run {
            case,
            profile,
            config,
            observer,
            world: case.pre.clone(),
            hashes: case.is_chain().then(|| case.block_hashes()),
            reads,
            block: 0,
        }
    }

    /// Reports every read evm made over the case, if asked.
    pub(super) fn report_reads(&mut self) {
        if let (Some(observer), Some(reads)) = (self.observer.as_deref_mut(), self.reads.take()) {
            for read in reads {
                observer.read(read);
            }
        }
    }

    fn env(&self) -> &'a BlockEnv {
        &self.case.blocks[self.block].env
    }

    /// Runs `args` with evm on `world` under `block`, through the observing wrappers when
    /// `observed` (and an observer is there).
    fn run_evm(
        &mut self,
        world: &State,
        block: &Block,
        args: TransactArgs<'_>,
        observed: bool,
    ) -> Result<Ran, BackendError> {
        let env = self.env();
        let refusal = Refusal::default();
        let precompiles = ProfilePrecompiles::new(self.profile, &refusal);
        let etable = Chained(
            ProfileEtable::new(self.profile, &refusal, env.chain_id, env.number)?,
            Chained(GasometerEtable::new(), DispatchEtable::runtime()),
        );
        let mut backend = OverlayedBackend::new(
            World {
                block,
                accounts: world,
                hashes: self.hashes.as_ref(),
                reads: self.reads.is_some().then(Default::default),
            },
            &self.config.runtime,
        );
        let observer = if observed {
            self.observer.as_deref_mut()
        } else {
            None
        };
        let result = match observer {
            None => {
                let resolver = EtableResolver::new(&precompiles, &etable);
                let invoker = TxInvoker(Invoker::new(&resolver));
                evm::transact(args, Some(HEAP_DEPTH), &mut backend, &invoker)
            }
            Some(observer) => {
                let watch = Watch::new(observer);
                let etable = StepEtable {
                    inner: etable,
                    watch: &watch,
                };
                let precompiles = NotingPrecompiles {
                    inner: precompiles,
                    watch: &watch,
                };
                let resolver = EtableResolver::new(&precompiles, &etable);
                let invoker = DepthInvoker {
                    inner: TxInvoker(Invoker::new(&resolver)),
                    watch: &watch,
                };
                evm::transact(args, Some(HEAP_DEPTH), &mut backend, &invoker)
            }
        };
        let (base, changes) = backend.deconstruct();
        if let (Some(all), Some(reads)) = (self.reads.as_mut(), base.reads) {
            all.extend(reads.into_inner());
        }
        Ok(Ran {
            result,
            changes,
            refusal: refusal.take(),
        })
    }
}

impl BlockExecutor for Run<'_, '_> {
    fn state(&mut self) -> Result<State, BackendError> {
        Ok(self.world.clone())
    }

    // `env` is the case's own here: only revm seals a chain as it runs it.
    fn begin_block(&mut self, index: usize, _env: &BlockEnv) -> Result<(), BackendError> {
        self.block = index;
        Ok(())
    }

    fn has_code(&mut self, address: Address) -> Result<bool, BackendError> {
        Ok(self.world.get(&address).is_some_and(|a| !a.code.is_empty()))
    }

    fn system_call(&mut self, call: &SystemCall) -> Result<Result<(), String>, BackendError> {
        let env = self.env();
        let fork = self.profile.base_fork;
        let block = Block::new(env, fork, &[]).without_base_fee();
        // evm charges the intrinsic gas of a transaction; a system call has none, so it is
        // given on top of the system call's own gas.
        let intrinsic = 21_000
            + call
                .data
                .iter()
                .map(|b| if *b == 0 { 4 } else { 16 })
                .sum::<u64>();
        let args = TransactArgs {
            call_create: TransactArgsCallCreate::Call {
                address: h160(call.address),
                data: call.data.to_vec(),
            },
            caller: h160(SYSTEM_ADDRESS),
            value: eu256(U256::ZERO),
            gas_limit: eu256(U256::from(SYSTEM_CALL_GAS + intrinsic)),
            gas_price: TransactGasPrice::Legacy(eu256(U256::ZERO)),
            access_list: Vec::new(),
            config: self.config,
        };
        let world = std::mem::take(&mut self.world);
        let before = self.reads.as_ref().map_or(0, Vec::len);
        let ran = self.run_evm(&world, &block, args, false);
        self.world = world;
        let mut ran = ran?;
        // The caller and the beneficiary are loaded only because evm runs the call as a
        // transaction: a system call does not touch them (EIP-4788), nor do its reads.
        if let Some(reads) = self.reads.as_mut() {
            let dropped = [SYSTEM_ADDRESS, env.coinbase];
            let call = reads.split_off(before);
            reads.extend(
                call.into_iter()
                    .filter(|r| !matches!(r, StateRead::Account(a) if dropped.contains(a))),
            );
        }
        let verdict = match &ran.result {
            Ok(Finished {
                end: End::Success { .. },
                ..
            }) => Ok(()),
            Ok(Finished { end, .. }) => Err(format!("{end:?}")),
            Err(e) => Err(format!("{e:?}")),
        };
        if ran.result.is_ok() {
            for dropped in [SYSTEM_ADDRESS, env.coinbase] {
                forget(&mut ran.changes, h160(dropped));
            }
            world::apply(&ran.changes, &mut self.world);
        }
        Ok(verdict)
    }

    fn observer(&mut self) -> Option<&mut dyn Observer> {
        match &mut self.observer {
            Some(o) => Some(&mut **o),
            None => None,
        }
    }

    /// One transaction, validated by the adapter (evm checks almost nothing itself), run by
    /// evm on the world, and its changes applied to the world.
    fn transaction(&mut self, _at: At, tx: &Transaction) -> Result<Outcome, BackendError> {
        let fork = self.profile.base_fork;
        let env = self.env();
        let fees = match validate::validate(env, &self.world, tx, fork) {
            Ok(fees) => fees,
            Err(why) => return Ok(Outcome::rejected(&self.world, why)),
        };
        // The blob fee is taken before evm runs (evm does not charge it); a refused
        // transaction gives the sender back as it was.
        let sender_before = self.world.get(&tx.sender).cloned();
        if !fees.blob_fee.is_zero() {
            world::debit(&mut self.world, tx.sender, fees.blob_fee);
        }
        let block = Block::new(
            env,
            fork,
            tx.blob_versioned_hashes.as_deref().unwrap_or_default(),
        );
        let args = TransactArgs {
            call_create: match tx.to {
                Some(to) => TransactArgsCallCreate::Call {
                    address: h160(to),
                    data: tx.data.to_vec(),
                },
                None => TransactArgsCallCreate::Create {
                    init_code: tx.data.to_vec(),
                    salt: None,
                },
            },
            caller: h160(tx.sender),
            value: eu256(tx.value),
            gas_limit: eu256(tx.gas_limit),
            gas_price: match fees.priority {
                Some(p) => TransactGasPrice::FeeMarket {
                    max_priority: eu256(p),
                    max: eu256(fees.max_fee),
                },
                None => TransactGasPrice::Legacy(eu256(fees.max_fee)),
            },
            access_list: tx
                .access_list
                .iter()
                .flatten()
                .map(|item| {
                    (
                        h160(item.address),
                        item.storage_keys.iter().map(|k| h256(*k)).collect(),
                    )
                })
                .collect(),
            config: self.config,
        };
        let world = std::mem::take(&mut self.world);
        let ran = self.run_evm(&world, &block, args, true);
        self.world = world;
        let ran = ran?;
        if let Some(reads) = self.reads.as_mut() {
            // The sender was read before evm ran, by `validate` (nonce, balance, code).
            reads.push(StateRead::Account(tx.sender));
        }
        let refused = ran.refusal.is_some() || ran.result.is_err();
        if refused && let Some(sender) = sender_before {
            self.world.insert(tx.sender, sender);
        }
        if let Some(why) = ran.refusal {
            return Ok(Outcome::rejected(&self.world, why));
        }
        let finished = match ran.result {
            Ok(f) => f,
            // Everything evm checks before running was checked by `validate` first, so evm
            // refusing a transaction means the two disagree: a bug to report, not a verdict.
            Err(e) => {
                return Err(BackendError::Failed(format!(
                    "evm refused a transaction the adapter found valid: {e:?}"
                )));
            }
        };
        world::apply(&ran.changes, &mut self.world);
        let (status, output, detail) = match finished.end {
            End::Success { how, output } => (Status::Success, output, format!("{how:?}")),
            End::Revert { output } => (Status::Revert, output, "Reverted".to_string()),
            End::Halt {
                error: ExitError::Fatal(f),
                ..
            } => {
                return Err(BackendError::Failed(format!(
                    "evm stopped with a fatal error: {f:?}"
                )));
            }
            End::Halt { error, deploy } => {
                let origin = if deploy {
                    Origin::Deploy
                } else {
                    Origin::Frame
                };
                let detail = format!(
                    "{error:?}{}",
                    if deploy {
                        " (deploying the created code)"
                    } else {
                        ""
                    }
                );
                (
                    Status::Halt(halt_class(&error, origin, self.profile)),
                    Vec::new(),
                    detail,
                )
            }
        };
        let logs = if status == Status::Success {
            ran.changes
                .logs
                .iter()
                .map(|l| {
                    Log::new_unchecked(
                        address(l.address),
                        l.topics.iter().map(|t| u256_of(*t).into()).collect(),
                        l.data.clone().into(),
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(Outcome::new(
            status,
            finished.gas_used,
            finished.refund,
            Bytes::from(output),
            logs,
            self.world.clone(),
            detail,
        ))
    }

    /// A withdrawal or the miner's reward, credited to the world; an account left empty is
    /// removed from Spurious Dragon on (EIP-161).
    fn credit(&mut self, address: Address, amount: U256) -> Result<(), BackendError> {
        let account = self.world.entry(address).or_default();
        account.balance = account.balance.saturating_add(amount);
        if account.is_empty() && self.profile.base_fork.includes(Fork::SpuriousDragon) {
            self.world.remove(&address);
        }
        Ok(())
    }
}

/// Drops every change evm made to `who` from `changes`.
fn forget(changes: &mut OverlayedChangeSet, who: evm::uint::H160) {
    changes.balances.remove(&who);
    changes.codes.remove(&who);
    changes.nonces.remove(&who);
    changes.storage_resets.remove(&who);
    changes.storages.retain(|(a, _), _| *a != who);
    changes.touched.remove(&who);
    changes.deletes.remove(&who);
}
