//! One direct precompile call from the generator's input, for the `precompiles` fuzz target:
//! which precompile, its input (the typed inputs of [`crate::precompile_input`]: points on and
//! off the curve, valid signatures and malformed ones, lengths at the price formula's
//! boundaries) and the gas it is given.
//!
//! The call is also a transaction ([`PrecompileCall::case`]): a finding of the direct
//! comparison is written as the state test that makes the same call, which every backend,
//! client and prover team replays.

use alloy_primitives::Bytes;
use arbitrary::{Result, Unstructured};
use evmdiff_core::case::{Case, Transaction};
use evmdiff_core::precompile::{Precompile, modexp_exceeds};
use evmdiff_core::{Behaviour, Fork, Profile};

use crate::generate::{SENDER, SENDER_KEY, funded_sender, state_test_env};

/// Gas most calls get: enough for any price the typed inputs lead to, so that what is
/// compared is the price charged, not whether it fits.
const GENEROUS: u64 = 10_000_000;
/// EIP-7825's cap on a transaction's gas (Osaka).
const MAX_TX_GAS: u64 = 16_777_216;

/// A precompile, an input and the gas the call gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrecompileCall {
    /// The precompile called.
    pub precompile: &'static Precompile,
    /// Its input.
    pub input: Vec<u8>,
    /// The gas it is given.
    pub gas_limit: u64,
}

/// The precompiles of `profile`'s base fork that it leaves as that fork has them: no rule,
/// no price of its own, no precompile of its own in their place. Their implementations are
/// compared as they are; the others differ from the fork by the profile's design, which the
/// backends apply around the precompile, not in it.
pub fn comparable(profile: &Profile) -> Vec<&'static Precompile> {
    Precompile::active_in(profile.base_fork)
        .filter(|p| profile.precompile(&p.address) == Some(Behaviour::Supported))
        .filter(|p| !profile.gas.precompiles.contains_key(&p.address))
        .filter(|p| profile.added_precompile(&p.address).is_none())
        .collect()
}

/// The call `u` stands for, to one of `among` (the profile's [`comparable`] precompiles, or
/// some of them). `None` when `among` is empty, or when the input is one the profile caps
/// (a modexp length over its limit), which the profile handles before the precompile.
pub fn precompile_call(
    u: &mut Unstructured<'_>,
    profile: &Profile,
    among: &[&'static Precompile],
) -> Result<Option<PrecompileCall>> {
    if among.is_empty() {
        return Ok(None);
    }
    let precompile = *u.choose(among)?;
    let cap = profile.limits.modexp;
    let input = crate::precompile_input::input(u, precompile.address, cap)?;
    if let Some(cap) = cap
        && precompile.address == evmdiff_core::precompile::MODEXP
        && modexp_exceeds(&input, cap.max_len)
    {
        return Ok(None);
    }
    // Mostly generous; sometimes around the cheap prices and the price formulas' steps, where
    // an implementation that checks the gas at the wrong moment, or prices one byte too few,
    // shows.
    let gas_limit = match u.int_in_range(0..=7)? {
        0 => u.int_in_range(0..=5_000)?,
        1 => u.int_in_range(0..=300_000)?,
        _ => GENEROUS,
    };
    Ok(Some(PrecompileCall {
        precompile,
        input,
        gas_limit,
    }))
}

impl PrecompileCall {
    /// The state test that makes this call: a transaction from the ethereum/tests sender to
    /// the precompile, with the input as its data and as much gas beyond its intrinsic cost
    /// as the call gets (capped at EIP-7825's limit from Osaka; from Prague the transaction
    /// pays at least EIP-7623's calldata floor, which hides a gas difference below it but
    /// not the output or the status).
    pub fn case(&self, profile: &Profile) -> Case {
        let fork = profile.base_fork;
        let tokens: u64 = self.input.iter().map(|b| if *b == 0 { 1 } else { 4 }).sum();
        let mut gas = 21_000 + 4 * tokens + self.gas_limit;
        if fork >= Fork::Prague {
            gas = gas.max(21_000 + 10 * tokens);
        }
        if fork >= Fork::Osaka {
            gas = gas.min(MAX_TX_GAS);
        }
        let tx = Transaction::legacy(
            SENDER,
            SENDER_KEY,
            Some(self.precompile.address),
            Bytes::from(self.input.clone()),
            gas,
            10,
        );
        Case::state_test(
            format!("precompile-{}", self.precompile.name),
            fork,
            state_test_env(fork),
            funded_sender(),
            tx,
        )
    }
}
