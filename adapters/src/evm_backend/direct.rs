//! evm-precompile's precompiles called directly (see [`crate::precompile_impl`]): the
//! `StandardPrecompileSet` evm runs in a transaction, given a frame's gasometer of its own.
//!
//! evm 1.1.1 stops at Cancun, but its precompiles are Cancun's, 0x01 to 0x0a, and Prague
//! changed none of them, nor did Osaka except modexp (EIP-7823's bounds, EIP-7883's price).
//! So under Prague it compares all ten, under Osaka all but modexp: the libraries they set
//! against revm's and levm's (k256, substrate-bn, arkworks' KZG) are worth it there too.

use std::collections::BTreeMap;
use std::rc::Rc;

use evm::backend::{InMemoryBackend, InMemoryEnvironment, OverlayedBackend};
use evm::interpreter::ExitError;
use evm::interpreter::runtime::{Context, RuntimeState, TransactionContext};
use evm::standard::{Config, GasometerState, PrecompileSet, State};
use evm::uint::{H160, U256};
use evm_precompile::StandardPrecompileSet;
use evmdiff_core::precompile::{MODEXP, Precompile};
use evmdiff_core::{BackendError, Fork};

use super::convert::h160;
use crate::precompile_impl::{Called, PrecompileImpl};

/// The highest address evm-precompile has a precompile at (0x0a, point evaluation).
const LAST: u8 = 0x0a;

/// evm-precompile's set under one fork's configuration.
pub struct DirectEvm {
    config: &'static Config,
    fork: Fork,
}

impl DirectEvm {
    /// evm-precompile's precompiles at `fork` (Cancun's configuration from Prague on).
    pub fn new(fork: Fork) -> Result<DirectEvm, BackendError> {
        let config = if fork >= Fork::Prague {
            &super::CANCUN
        } else {
            super::config(fork)?
        };
        Ok(DirectEvm { config, fork })
    }

    /// An empty world: the standard set reads nothing from it.
    fn world(&self) -> OverlayedBackend<'static, InMemoryBackend> {
        let environment = InMemoryEnvironment {
            block_hashes: BTreeMap::new(),
            block_number: U256::zero(),
            block_coinbase: H160::zero(),
            block_timestamp: U256::zero(),
            block_difficulty: U256::zero(),
            block_randomness: None,
            block_gas_limit: U256::zero(),
            block_base_fee_per_gas: U256::zero(),
            blob_base_fee_per_gas: U256::zero(),
            blob_versioned_hashes: Vec::new(),
            chain_id: U256::one(),
        };
        let backend = InMemoryBackend {
            environment,
            state: BTreeMap::new(),
        };
        OverlayedBackend::new(backend, &self.config.runtime)
    }
}

impl PrecompileImpl for DirectEvm {
    fn name(&self) -> &str {
        "evm"
    }

    fn has(&self, p: &Precompile) -> bool {
        let n = p.address.as_slice();
        let standard = n[..19] == [0u8; 19] && (1..=LAST).contains(&n[19]);
        // evm-precompile's modexp is Berlin's, which Osaka changed.
        standard
            && self.fork.includes(p.introduced)
            && !(self.fork >= Fork::Osaka && p.address == MODEXP)
    }

    fn call(&mut self, p: &Precompile, input: &[u8], gas_limit: u64) -> Called {
        let address = h160(p.address);
        let mut state = State {
            runtime: RuntimeState {
                context: Context {
                    address,
                    caller: H160::zero(),
                    apparent_value: U256::zero(),
                },
                transaction_context: Rc::new(TransactionContext {
                    gas_price: U256::zero(),
                    origin: H160::zero(),
                }),
                retbuf: Vec::new(),
            },
            gasometer: GasometerState::new(gas_limit, false),
            config: self.config,
        };
        let mut world = self.world();
        let Some((result, output)) =
            StandardPrecompileSet.execute(address, input, &mut state, &mut world)
        else {
            return Called::Error(format!("evm-precompile has no precompile at {}", p.address));
        };
        match result {
            Ok(_) => Called::Success {
                gas_used: gas_limit - state.gasometer.gas64(),
                output,
            },
            Err(ExitError::Exception(_)) => Called::Failure,
            Err(ExitError::Reverted) => Called::Error("reverted".into()),
            Err(ExitError::Fatal(e)) => Called::Error(format!("fatal: {e:?}")),
        }
    }
}
