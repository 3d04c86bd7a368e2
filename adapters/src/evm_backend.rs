//! The rust-ethereum `evm` 1.1.1 backend (with `evm-precompile` 1.0.1), in process.
//!
//! evm runs Frontier..Cancun (minus Constantinople's EIP-1283 metering). It has no Osaka, no
//! EIP-7702, no BLS12-381 or P256 precompiles and no EIP-2935, and its Prague is only
//! EIP-7623, so Prague and later are reported as unsupported rather than half-run.
//!
//! How a case is driven:
//! * [`validate`] checks the transaction as the protocol does, because evm checks almost
//!   nothing itself; a refused transaction never reaches evm and becomes `Rejected`.
//! * [`world`] serves the state and block through evm's backend traits, under an
//!   `OverlayedBackend` that records the changes; the change set is then applied to the state
//!   (transient storage dropped, EIP-161 deletions and self-destructs applied), which the next
//!   transaction of the case runs on ([`chain`], which also applies a chain's block rules with
//!   evm: system calls as evm transactions from `SYSTEM_ADDRESS`, withdrawals, rewards).
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

mod chain;
mod convert;
mod direct;
mod invoker;
mod observe;
mod opcodes;
mod precompiles;
mod status;
mod validate;
mod world;

pub use direct::DirectEvm;
use evm::standard::Config;
use evmdiff_core::block_processing;
use evmdiff_core::{
    Backend, BackendError, Capabilities, Case, ChainOutcome, Fork, Observer, Profile,
};

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
            chains: true,
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

/// Executes `case`, a state test or a chain, with the world carried from one transaction to
/// the next (see [`chain`]).
fn run(
    case: &Case,
    profile: &Profile,
    observer: Option<&mut dyn Observer>,
) -> Result<ChainOutcome, BackendError> {
    let fork = profile.base_fork;
    let config = config(fork)?;
    if let Some(why) = opcodes::cannot_apply(profile) {
        return Err(BackendError::Unsupported(why));
    }
    let mut run = chain::Run::new(case, profile, config, observer);
    let outcome = block_processing::process(case, fork, &mut run)?;
    run.report_reads();
    Ok(outcome)
}
