//! The `revm` backend: [revm](https://github.com/bluealloy/revm) 43.0.3, in process.
//!
//! Each case runs on a fresh in-memory database holding its pre-state: a state test as one
//! transaction, a chain block by block, each transaction committed into that database by revm
//! before the next (see `chain.rs`). The state reported after each transaction is the one
//! before it with the journal's touched accounts applied (see `normalize.rs`). Profiles are applied through revm's extension points, never by
//! patching revm (see `profile.rs`).
//!
//! The EVM itself is built once per thread and reused: only the database, block, transaction
//! and, when the fork or the opcode rules change, the instruction table are replaced. On
//! ethereum/tests cases that is about 1.5× faster than building an EVM per case (a third of
//! the remaining time is the state root of the outcome). The EVM lives in a thread-local
//! because revm shares its memory buffer through an `Rc`, so it is not `Send`, while a
//! [`Backend`] must be.

mod chain;
mod direct;
mod env;
mod normalize;
mod observe;
mod planted;
mod profile;
mod raw;

pub use direct::DirectRevm;
pub use planted::{Module as PlantedModule, Planted};
pub use raw::RawRevm;

use std::cell::RefCell;
use std::collections::BTreeMap;

use evmdiff_core::{
    Backend, BackendError, Behaviour, Capabilities, Case, ChainOutcome, Fork, Observer, Profile,
};
use revm::context::{BlockEnv, CfgEnv, Context, Evm, Journal, TxEnv};
use revm::handler::instructions::EthInstructions;
use revm::handler::{EthFrame, MainContext};
use revm::interpreter::interpreter::EthInterpreter;
use revm::primitives::hardfork::SpecId;

use env::Db;
use evmdiff_core::seal::{SealError, process_sealing, seal_genesis};
use profile::{ProfileChain, ProfilePrecompiles};

/// revm's context as this adapter configures it: mainnet environment types, the in-memory
/// pre-state, and the profile data instructions read in the `chain` field.
type Ctx = Context<BlockEnv, TxEnv, CfgEnv, Db, Journal<Db>, ProfileChain>;

/// The EVM: mainnet instructions (possibly overridden) and the profile precompile provider.
type RevmEvm = Evm<
    Ctx,
    (),
    EthInstructions<EthInterpreter, Ctx>,
    ProfilePrecompiles,
    EthFrame<EthInterpreter>,
>;

/// The capacity of revm's shared memory buffer kept between executions.
const MEMORY_KEPT: usize = 1 << 20;

/// A reusable EVM and what its instruction table was built for.
struct Cached {
    evm: RevmEvm,
    spec: SpecId,
    opcodes: BTreeMap<u8, Behaviour>,
    /// The opcode gas rules the instruction table was built with.
    gas: BTreeMap<u8, u64>,
    /// The planted bug the instruction table was built with.
    planted: Option<Planted>,
    /// The planted bug revm's configuration (gas parameters, limits) holds.
    cfg_planted: Option<Planted>,
}

thread_local! {
    /// This thread's EVM, taken out for each execution and put back after it (a panic in
    /// between simply drops it, and the next execution builds a new one).
    static CACHE: RefCell<Option<Box<Cached>>> = const { RefCell::new(None) };
}

impl Cached {
    fn new(spec: SpecId, profile: &Profile) -> Box<Cached> {
        let ctx = Context::mainnet()
            .with_db(Db::default())
            .with_chain(ProfileChain::default())
            .modify_cfg_chained(|c| c.set_spec_and_mainnet_gas_params(spec));
        let evm = Evm::new(
            ctx,
            profile::instructions(spec, profile),
            ProfilePrecompiles::new(spec),
        );
        Box::new(Cached {
            evm,
            spec,
            opcodes: profile.opcodes.clone(),
            gas: profile.gas.opcodes.clone(),
            planted: None,
            cfg_planted: None,
        })
    }

    /// Makes the instruction table match `spec`, the opcode rules of `profile` and the
    /// planted bug, if any.
    fn retarget(&mut self, spec: SpecId, profile: &Profile, planted: Option<Planted>) {
        if self.spec != spec
            || self.opcodes != profile.opcodes
            || self.gas != profile.gas.opcodes
            || self.planted != planted
        {
            let mut table = profile::instructions(spec, profile);
            if let Some(bug) = planted {
                bug.install(&mut table, profile);
            }
            self.evm.instruction = table;
            self.spec = spec;
            self.opcodes.clone_from(&profile.opcodes);
            self.gas.clone_from(&profile.gas.opcodes);
            self.planted = planted;
        }
    }
}

/// revm, in process.
#[derive(Debug, Clone, Default)]
pub struct RevmBackend {
    /// Build a new EVM for every execution instead of reusing this thread's.
    fresh_evm: bool,
    /// A bug planted on purpose (never in a built-in backend).
    planted: Option<Planted>,
}

impl RevmBackend {
    /// revm with `bug` planted: a test double for measuring what evmdiff's cases can see
    /// (`evmdiff planted`), never a built-in backend.
    pub fn with_planted(bug: Planted) -> RevmBackend {
        RevmBackend {
            fresh_evm: false,
            planted: Some(bug),
        }
    }

    /// A backend that builds a new EVM for every execution. About twice as slow; it exists to
    /// check that reusing an EVM carries nothing from one execution into the next.
    pub fn with_fresh_evm() -> RevmBackend {
        RevmBackend {
            fresh_evm: true,
            planted: None,
        }
    }
}

/// `revm+<bug>` for each planted bug, made once: a backend's name is `&'static str`.
pub(crate) fn planted_name(bug: Planted) -> &'static str {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        Planted::ALL
            .iter()
            .map(|b| &*Box::leak(format!("{PLANTED_PREFIX}{}", b.name()).into_boxed_str()))
            .collect()
    });
    let i = Planted::ALL.iter().position(|b| *b == bug);
    i.map_or("revm", |i| names[i])
}

/// The prefix of a planted revm's backend name (`revm+signextend-slice`).
pub const PLANTED_PREFIX: &str = "revm+";

impl Backend for RevmBackend {
    /// `revm`, or `revm+<bug>` with a bug planted: a divergence between the two names the
    /// planted one, not revm against itself.
    fn name(&self) -> &'static str {
        self.planted.map_or("revm", planted_name)
    }

    fn version(&self) -> &'static str {
        env!("EVMDIFF_VERSION_REVM")
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            forks: Fork::ALL
                .into_iter()
                .filter(|f| env::spec_of(*f).is_some())
                .collect(),
            steps: true,
            reads: true,
            in_process: true,
            rules: |p| profile::check(p).err().map(|e| e.to_string()),
            native: Vec::new(),
            chains: true,
        }
    }

    fn execute(&mut self, case: &Case, profile: &Profile) -> Result<ChainOutcome, BackendError> {
        self.run(case, profile, None)
    }

    /// Loads c-kzg's trusted setup (revm builds it on the first point evaluation, with its
    /// precomputed tables) when the profile has the point evaluation precompile.
    fn prepare(&mut self, profile: &Profile) {
        let point_evaluation = evmdiff_core::precompile::Precompile::lookup("point_evaluation");
        let active = point_evaluation.is_some_and(|p| {
            !matches!(
                profile.precompile(&p.address),
                None | Some(Behaviour::Absent)
            )
        });
        if active {
            // Any input loads the setup; this one (the point at infinity) is simply false.
            let mut infinity = [0u8; 48];
            infinity[0] = 0xc0;
            let _ = revm::precompile::kzg_point_evaluation::verify_kzg_proof(
                &infinity, &[0; 32], &[0; 32], &infinity,
            );
        }
    }

    fn execute_observed(
        &mut self,
        case: &Case,
        profile: &Profile,
        observer: &mut dyn Observer,
    ) -> Result<ChainOutcome, BackendError> {
        self.run(case, profile, Some(observer))
    }

    fn is_sealer(&self) -> bool {
        self.planted.is_none()
    }
}

impl RevmBackend {
    /// Executes `case`; with an observer, through revm's inspector path (see `observe.rs`),
    /// else through the plain `transact`.
    fn run(
        &mut self,
        case: &Case,
        profile: &Profile,
        observer: Option<&mut dyn Observer>,
    ) -> Result<ChainOutcome, BackendError> {
        let mut run = self.start_run(case, profile, observer)?;
        let result = evmdiff_core::block_processing::process(case, profile.base_fork, &mut run);
        self.finish_run(run);
        result
    }

    /// Seals chain `case` in one execution ([`evmdiff_core::seal::process_sealing`]): its
    /// genesis, then each block's header as the block finishes, its hash given to revm's
    /// BLOCKHASH before the next block runs. What `evmdiff_oracle::seal` does with revm;
    /// running each prefix again, as any other reference must, costs B(B+1)/2 block
    /// executions for B blocks. A state test is left alone; on an error the case is too.
    pub fn seal(&mut self, case: &mut Case, profile: &Profile) -> Result<(), SealError> {
        self.seal_observed(case, profile, None).map(|_| ())
    }

    /// [`Self::seal`], reporting the execution's steps to `observer`, and its outcome: what
    /// [`Backend::execute_observed`] of the sealed chain gives (a test checks it), so that a
    /// campaign runs a generated chain on revm once. `None` for a state test.
    pub fn seal_observed(
        &mut self,
        case: &mut Case,
        profile: &Profile,
        observer: Option<&mut dyn Observer>,
    ) -> Result<Option<ChainOutcome>, SealError> {
        if !case.is_chain() {
            return Ok(None);
        }
        let mut sealed = case.clone();
        seal_genesis(&mut sealed);
        let mut run = self.start_run(&sealed, profile, observer)?;
        let result = process_sealing(&mut sealed, profile.base_fork, &mut run);
        self.finish_run(run);
        let outcome = result?;
        *case = sealed;
        Ok(Some(outcome))
    }

    /// A [`chain::Run`] of `case` on the thread's EVM: its pre-state, and the block hashes
    /// its headers have now. [`Self::finish_run`] gives the EVM back.
    fn start_run<'a, 'o>(
        &mut self,
        case: &Case,
        profile: &'a Profile,
        observer: Option<&'o mut dyn Observer>,
    ) -> Result<chain::Run<'a, 'o>, BackendError> {
        let fork = profile.base_fork;
        let spec = env::spec_of(fork).ok_or_else(|| {
            BackendError::Unsupported(format!(
                "revm 43 has no {fork} spec (original Constantinople with EIP-1283; revme skips it too)"
            ))
        })?;
        profile::check(profile)?;

        let reused = if self.fresh_evm {
            None
        } else {
            CACHE.with(|c| c.borrow_mut().take())
        };
        let mut cached = reused.unwrap_or_else(|| Cached::new(spec, profile));
        cached.retarget(spec, profile, self.planted);
        let evm = &mut cached.evm;
        let chain_id = case.env().map_or(1, |e| e.chain_id);
        env::configure(&mut evm.ctx.cfg, spec, chain_id);
        // A planted gas parameter or limit is set on every execution (and cleared once after):
        // only planted runs pay for it.
        let cfg_planted = self.planted.filter(|b| b.changes_cfg());
        if cfg_planted.is_some() || cached.cfg_planted.is_some() {
            Planted::configure(cfg_planted, &mut evm.ctx.cfg, spec);
            cached.cfg_planted = cfg_planted;
        }
        evm.precompiles.planted = self.planted;
        evm.ctx.journaled_state.database = env::database(&case.pre, &case.block_hashes());
        evm.precompiles.configure(profile);

        Ok(chain::Run {
            lent: Some(cached),
            profile,
            spec,
            chain_id,
            observer,
            post: case.pre.clone(),
            planted: self.planted,
            kept: None,
        })
    }

    /// Gives `run`'s EVM back to the thread, emptied.
    fn finish_run(&self, run: chain::Run<'_, '_>) {
        let Some(mut cached) = run.lent else {
            return;
        };
        let evm = &mut cached.evm;
        // Drop the state now rather than when the next case replaces it, and give back the
        // memory of a memory-hungry case (revm keeps its shared memory buffer's capacity; one
        // fixture grows it past 500 MB).
        evm.ctx.journaled_state.database = Db::default();
        {
            let mut memory = evm.ctx.local.shared_memory_buffer.borrow_mut();
            if memory.capacity() > MEMORY_KEPT {
                *memory = Vec::with_capacity(MEMORY_KEPT);
            }
        }
        if !self.fresh_evm {
            CACHE.with(|c| *c.borrow_mut() = Some(cached));
        }
    }
}
