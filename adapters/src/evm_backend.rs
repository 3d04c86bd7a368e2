//! The rust-ethereum `evm` 1.1.1 backend (with `evm-precompile` 1.0.1), in process.
//!
//! evm runs Frontier..Cancun (minus Constantinople's EIP-1283 metering). It has no Osaka, no
//! EIP-7702, no BLS12-381 or P256 precompiles and no EIP-2935, and its Prague is only
//! EIP-7623, so Prague and later are reported as unsupported rather than half-run.
//!
//! How a case is driven:
//! * [`validate`] checks the transaction as the protocol does, because evm checks almost
//!   nothing itself; a refused transaction never reaches evm and becomes `Rejected`.
//! * [`world`] serves the pre-state and block through evm's backend traits, under an
//!   `OverlayedBackend` that records the changes; the change set is then applied to a copy of
//!   the pre-state (transient storage dropped, EIP-161 deletions and self-destructs applied).
//! * The Etable is `Chained(profile opcode rules, Chained(gasometer, standard dispatch))`
//!   ([`opcodes`]); precompiles go through a wrapper of evm-precompile's standard set that
//!   applies the profile's precompile rules ([`precompiles`]).
//! * [`invoker`] wraps the standard invoker to capture revert data, gas used and refund,
//!   which evm's own `transact` does not report for a revert or a halt. evm charges the fee
//!   up front, refunds the caller and pays the coinbase (priority fee from London, base fee
//!   burnt); the adapter adds only the EIP-4844 blob fee, which evm does not charge.
//! * [`status`] maps evm's exit reasons to the shared halt classes.
//! * [`observe`] wraps the Etable, the precompile set and the invoker for
//!   `execute_observed` only; `execute` runs without them.

mod convert;
mod invoker;
mod observe;
mod opcodes;
mod precompiles;
mod status;
mod validate;
mod world;

use std::cell::RefCell;

use alloy_primitives::{Bytes, Log};
use evm::backend::OverlayedBackend;
use evm::interpreter::ExitError;
use evm::interpreter::etable::Chained;
use evm::standard::{
    Config, DispatchEtable, EtableResolver, GasometerEtable, Invoker, TransactArgs,
    TransactArgsCallCreate, TransactGasPrice,
};
use evmdiff_core::case::{BlockEnv, Transaction};
use evmdiff_core::observe::StateRead;
use evmdiff_core::{
    At, Backend, BackendError, Capabilities, Case, ChainOutcome, Fork, Observer, Outcome, Profile,
    State, Status,
};

use convert::{address, eu256, h160, h256, u256_of};
use invoker::{End, TxInvoker};
use observe::{DepthInvoker, NotingPrecompiles, StepEtable, Watch};
use opcodes::{ProfileEtable, Refusal};
use precompiles::ProfilePrecompiles;
use status::{Origin, halt_class};
use world::{Block, World};

/// Frames run on the native stack before evm switches to its heap-based call stack. Deep
/// enough for ordinary contracts, shallow enough for a test thread's 2 MiB stack.
const HEAP_DEPTH: usize = 16;

static FRONTIER: Config = Config::frontier();
static HOMESTEAD: Config = Config::homestead();
static TANGERINE: Config = Config::tangerine_whistle();
static SPURIOUS_DRAGON: Config = Config::spurious_dragon();
static BYZANTIUM: Config = Config::byzantium();
static PETERSBURG: Config = Config::petersburg();
static ISTANBUL: Config = Config::istanbul();
static BERLIN: Config = Config::berlin();
static LONDON: Config = Config::london();
static SHANGHAI: Config = Config::shanghai();
static CANCUN: Config = Config::cancun();

/// evm's configuration for `fork`, or why evm cannot run it.
fn config(fork: Fork) -> Result<&'static Config, BackendError> {
    Ok(match fork {
        Fork::Frontier => &FRONTIER,
        Fork::Homestead => &HOMESTEAD,
        Fork::Tangerine => &TANGERINE,
        Fork::SpuriousDragon => &SPURIOUS_DRAGON,
        Fork::Byzantium => &BYZANTIUM,
        Fork::Constantinople => {
            return Err(BackendError::Unsupported(
                "evm 1.1.1 has no Constantinople: its SSTORE metering is EIP-2200's, not EIP-1283's".into(),
            ));
        }
        Fork::Petersburg => &PETERSBURG,
        Fork::Istanbul => &ISTANBUL,
        Fork::Berlin => &BERLIN,
        // The Merge changed only DIFFICULTY into PREVRANDAO inside the EVM; the block supplies
        // the randomness from Paris on (see `world::Block`).
        Fork::London | Fork::Paris => &LONDON,
        Fork::Shanghai => &SHANGHAI,
        Fork::Cancun => &CANCUN,
        Fork::Prague | Fork::Osaka => {
            return Err(BackendError::Unsupported(format!(
                "evm 1.1.1 has no {fork}: no EIP-7702, EIP-2537 (BLS12-381), EIP-2935{}",
                if fork == Fork::Osaka {
                    ", nor any Osaka EIP"
                } else {
                    "; its Prague is EIP-7623 alone"
                }
            )));
        }
    })
}

/// rust-ethereum `evm`, in process. Build it with `EvmBackend::default()`.
///
/// Every execution builds its own Etable, precompile set and overlay, so the backend holds
/// no state between cases; the private field keeps construction going through `Default`, so
/// that state (a cache, say) can be added later without changing callers.
#[derive(Debug, Default)]
pub struct EvmBackend {
    _private: (),
}

impl Backend for EvmBackend {
    fn name(&self) -> &'static str {
        "evm"
    }

    fn version(&self) -> &'static str {
        env!("EVMDIFF_VERSION_EVM")
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            forks: Fork::ALL
                .into_iter()
                .filter(|f| config(*f).is_ok())
                .collect(),
            steps: true,
            reads: true,
            in_process: true,
            rules: opcodes::cannot_apply,
            native: Vec::new(),
            chains: false,
        }
    }

    fn execute(&mut self, case: &Case, profile: &Profile) -> Result<ChainOutcome, BackendError> {
        run(case, profile, None)
    }

    fn execute_observed(
        &mut self,
        case: &Case,
        profile: &Profile,
        observer: &mut dyn Observer,
    ) -> Result<ChainOutcome, BackendError> {
        run(case, profile, Some(observer))
    }
}

/// Executes a state test (the only kind this adapter runs yet).
fn run(
    case: &Case,
    profile: &Profile,
    mut observer: Option<&mut dyn Observer>,
) -> Result<ChainOutcome, BackendError> {
    let Some((env, tx)) = case.single() else {
        return Err(BackendError::Unsupported(
            "the evm adapter runs single transactions only, not chains".into(),
        ));
    };
    if let Some(o) = observer.as_deref_mut() {
        o.transaction(At {
            block: 0,
            tx: Some(0),
        });
    }
    run_tx(env, &case.pre, tx, profile, observer).map(ChainOutcome::single)
}

/// Executes `tx` on `pre` under `env` and `profile`; with an observer, through the wrappers
/// of [`observe`].
fn run_tx(
    env: &BlockEnv,
    pre: &State,
    tx: &Transaction,
    profile: &Profile,
    mut observer: Option<&mut dyn Observer>,
) -> Result<Outcome, BackendError> {
    let fork = profile.base_fork;
    let config = config(fork)?;
    if let Some(why) = opcodes::cannot_apply(profile) {
        return Err(BackendError::Unsupported(why));
    }
    let fees = match validate::validate(env, pre, tx, fork) {
        Ok(fees) => fees,
        Err(why) => return Ok(Outcome::rejected(pre, why)),
    };

    let mut world = pre.clone();
    if !fees.blob_fee.is_zero() {
        world::debit(&mut world, tx.sender, fees.blob_fee);
    }
    let block = Block::new(
        env,
        fork,
        tx.blob_versioned_hashes.as_deref().unwrap_or_default(),
    );

    let refusal = Refusal::default();
    let etable = Chained(
        ProfileEtable::new(profile, &refusal, env.chain_id, env.number)?,
        Chained(GasometerEtable::new(), DispatchEtable::runtime()),
    );
    let precompiles = ProfilePrecompiles::new(profile, &refusal);

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
        config,
    };
    let mut backend = OverlayedBackend::new(
        World {
            block: &block,
            accounts: &world,
            reads: observer
                .as_ref()
                .is_some_and(|o| o.wants_reads())
                .then(RefCell::default),
        },
        &config.runtime,
    );
    let result = match observer.as_deref_mut() {
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
    if let (Some(observer), Some(reads)) = (observer, base.reads) {
        // The sender was read before evm ran, by `validate` (nonce, balance, code).
        observer.read(StateRead::Account(tx.sender));
        for read in reads.into_inner() {
            observer.read(read);
        }
    }

    if let Some(why) = refusal.take() {
        return Ok(Outcome::rejected(pre, why));
    }
    let finished = match result {
        Ok(f) => f,
        // Everything evm checks before running was checked by `validate` first, so evm
        // refusing a transaction means the two disagree: a bug to report, not a verdict.
        Err(e) => {
            return Err(BackendError::Failed(format!(
                "evm refused a transaction the adapter found valid: {e:?}"
            )));
        }
    };

    world::apply(&changes, &mut world);
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
                Status::Halt(halt_class(&error, origin, profile)),
                Vec::new(),
                detail,
            )
        }
    };
    let logs = if status == Status::Success {
        changes
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
        world,
        detail,
    ))
}
