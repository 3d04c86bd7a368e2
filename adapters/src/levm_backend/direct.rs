//! levm's precompiles called directly (see [`crate::precompile_impl`]): `execute_precompile`,
//! the function levm's `VM::execute_precompile` calls in a transaction, with the crypto
//! provider levm's blocks run with (`NativeCrypto`) and no precompile cache.

use ethrex_common::NativeCrypto;
use ethrex_common::types::Fork as LevmFork;
use ethrex_levm::errors::VMError;
use ethrex_levm::precompiles::{execute_precompile, is_precompile};
use ethrex_levm::vm::VMType;
use evmdiff_core::precompile::Precompile;
use evmdiff_core::{BackendError, Fork};

use super::env::{address, fork_of};
use crate::precompile_impl::{Called, PrecompileImpl};

/// levm's precompiles at one fork.
pub struct DirectLevm {
    fork: LevmFork,
}

impl DirectLevm {
    /// levm's precompiles at `fork` (Paris or later).
    pub fn new(fork: Fork) -> Result<DirectLevm, BackendError> {
        let fork = fork_of(fork).ok_or_else(|| {
            BackendError::Unsupported(format!("levm has no fork {fork}: it starts at Paris"))
        })?;
        Ok(DirectLevm { fork })
    }
}

impl PrecompileImpl for DirectLevm {
    fn name(&self) -> &str {
        "levm"
    }

    fn has(&self, p: &Precompile) -> bool {
        is_precompile(&address(p.address), self.fork, VMType::L1)
    }

    fn call(&mut self, p: &Precompile, input: &[u8], gas_limit: u64) -> Called {
        let mut gas_remaining = gas_limit;
        let result = execute_precompile(
            address(p.address),
            input,
            &mut gas_remaining,
            self.fork,
            None,
            &NativeCrypto,
            None,
        );
        match result {
            // As `VM::handle_precompile_result`: gas used is what the call took from the limit.
            Ok(output) => match gas_limit.checked_sub(gas_remaining) {
                Some(gas_used) => Called::Success {
                    gas_used,
                    output: output.to_vec(),
                },
                None => Called::Error(format!("{gas_remaining} gas left of a {gas_limit} limit")),
            },
            // An internal error aborts levm's transaction; any other error fails the call.
            Err(VMError::Internal(e)) => Called::Error(format!("internal error: {e}")),
            Err(_) => Called::Failure,
        }
    }
}
