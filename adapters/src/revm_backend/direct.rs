//! revm's precompiles called directly (see [`crate::precompile_impl`]): the `Precompiles` set
//! of the fork, the same functions revm's precompile provider calls in a transaction, with a
//! planted bug's input rewrite applied where the provider applies it.

use evmdiff_core::precompile::Precompile;
use evmdiff_core::{BackendError, Fork};
use revm::precompile::{PrecompileSpecId, PrecompileStatus, Precompiles};

use super::env::spec_of;
use super::{Planted, planted_name};
use crate::precompile_impl::{Called, PrecompileImpl};

/// revm-precompile's set for one fork, perhaps with a bug planted.
pub struct DirectRevm {
    set: &'static Precompiles,
    planted: Option<Planted>,
}

impl DirectRevm {
    /// revm's precompiles at `fork`, with `planted` planted.
    pub fn new(fork: Fork, planted: Option<Planted>) -> Result<DirectRevm, BackendError> {
        let spec = spec_of(fork).ok_or_else(|| {
            BackendError::Unsupported(format!("revm has no fork {fork} (see revm_backend::env)"))
        })?;
        Ok(DirectRevm {
            set: Precompiles::new(PrecompileSpecId::from_spec_id(spec)),
            planted,
        })
    }
}

impl PrecompileImpl for DirectRevm {
    fn name(&self) -> &str {
        self.planted.map_or("revm", planted_name)
    }

    fn has(&self, p: &Precompile) -> bool {
        self.set.contains(&p.address)
    }

    fn call(&mut self, p: &Precompile, input: &[u8], gas_limit: u64) -> Called {
        let Some(precompile) = self.set.get(&p.address) else {
            return Called::Error(format!("revm has no precompile at {}", p.address));
        };
        let rewritten = self
            .planted
            .and_then(|bug| bug.precompile_input(&p.address, input));
        let input = rewritten.as_deref().unwrap_or(input);
        match precompile.execute(input, gas_limit, 0) {
            Ok(out) => match out.status {
                PrecompileStatus::Success => Called::Success {
                    gas_used: out.gas_used,
                    output: out.bytes.to_vec(),
                },
                PrecompileStatus::Halt(_) => Called::Failure,
                // No Ethereum precompile reverts; one that did would hand its gas back.
                PrecompileStatus::Revert => Called::Error(format!(
                    "reverted after {} gas with output 0x{}",
                    out.gas_used,
                    alloy_primitives::hex::encode(&out.bytes)
                )),
            },
            Err(e) => Called::Error(e.to_string()),
        }
    }
}
