//! levm's precompiles called directly (see [`crate::precompile_impl`]): `execute_precompile`,
//! the function levm's `VM::execute_precompile` calls in a transaction, with the crypto
//! provider levm's blocks run with (`NativeCrypto`) or with BLS12-381 on arkworks
//! ([`ArkworksCrypto`]), and no precompile cache.

use ethrex_common::NativeCrypto;
use ethrex_common::types::Fork as LevmFork;
use ethrex_crypto::Crypto;
use ethrex_levm::errors::VMError;
use ethrex_levm::precompiles::{execute_precompile, is_precompile};
use ethrex_levm::vm::VMType;
use evmdiff_core::precompile::Precompile;
use evmdiff_core::{BackendError, Fork};

use super::arkworks::ArkworksCrypto;
use super::env::{address, fork_of};
use crate::precompile_impl::{Called, PrecompileImpl};

/// levm's precompiles at one fork, with one crypto provider.
pub struct DirectLevm {
    fork: LevmFork,
    name: &'static str,
    crypto: &'static dyn Crypto,
}

impl DirectLevm {
    /// levm's precompiles at `fork` (Paris or later), as its blocks run them.
    pub fn new(fork: Fork) -> Result<DirectLevm, BackendError> {
        Self::with(fork, "levm", &NativeCrypto)
    }

    /// levm's precompiles at `fork` with BLS12-381 computed by arkworks instead of blst:
    /// `levm-arkworks`.
    pub fn arkworks(fork: Fork) -> Result<DirectLevm, BackendError> {
        Self::with(fork, "levm-arkworks", &ArkworksCrypto)
    }

    fn with(
        fork: Fork,
        name: &'static str,
        crypto: &'static dyn Crypto,
    ) -> Result<DirectLevm, BackendError> {
        let fork = fork_of(fork).ok_or_else(|| {
            BackendError::Unsupported(format!("levm has no fork {fork}: it starts at Paris"))
        })?;
        Ok(DirectLevm { fork, name, crypto })
    }
}

impl PrecompileImpl for DirectLevm {
    fn name(&self) -> &str {
        self.name
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
            self.crypto,
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
