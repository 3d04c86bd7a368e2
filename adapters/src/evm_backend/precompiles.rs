//! Precompile rules of a profile, as a `PrecompileSet` wrapping evm-precompile's standard set.
//!
//! The wrapper also normalizes how a failing precompile is named, which only shows in the halt
//! class of a transaction sent straight to a precompile (a failing call consumes its gas
//! either way):
//! * evm-precompile reports invalid input to the bn254 precompiles (a point off the curve, a
//!   pairing input of the wrong length) as `OutOfGas`, after charging the price. Gas that was
//!   charged was sufficient, so such an error is an input failure; only a price the gas
//!   cannot cover stays `OutOfGas`.
//! * A modexp base or modulus length that does not fit 64 bits is `OutOfGas` in
//!   evm-precompile (and in the spec, which prices it) but an input failure in revm once the
//!   gas covers modexp's minimum price. The adapters share revm's naming, so that the two
//!   backends only differ where they behave differently.

use alloy_primitives::{Address, U256};
use evm::interpreter::runtime::{RuntimeBackend, TouchKind};
use evm::interpreter::{ExitError, ExitException, ExitResult};
use evm::standard::{PrecompileSet, State};
use evm::uint::H160;
use evm_precompile::StandardPrecompileSet;
use evmdiff_core::precompile::MODEXP;
use evmdiff_core::profile::LengthCap;
use evmdiff_core::{Behaviour, Profile};

use super::convert::h160;
use super::opcodes::Refusal;

/// Highest precompile address evm-precompile implements (0x0a, point evaluation).
const LAST: usize = 0x0a;

/// What evm reports for a precompile the profile makes fail like an L1 failure.
pub(super) const PROFILE_HALT: &str = "precompile halts under the profile";
/// What the wrapper reports for invalid input that evm-precompile called out of gas.
pub(super) const INVALID_INPUT: &str = "invalid precompile input";

/// The precompiles of one profile.
pub(super) struct ProfilePrecompiles<'a> {
    /// Behaviour per address 0x01..=0x0a (index = last byte); `None` where the base fork has
    /// no precompile.
    rules: [Option<Behaviour>; LAST + 1],
    modexp_cap: Option<LengthCap>,
    refusal: &'a Refusal,
}

impl<'a> ProfilePrecompiles<'a> {
    /// The precompile rules of `profile`, reporting refusals to `refusal`.
    pub(super) fn new(profile: &Profile, refusal: &'a Refusal) -> Self {
        let mut rules = [None; LAST + 1];
        for (n, rule) in rules.iter_mut().enumerate().skip(1) {
            *rule = profile.precompile(&Address::with_last_byte(n as u8));
        }
        ProfilePrecompiles {
            rules,
            modexp_cap: profile.limits.modexp,
            refusal,
        }
    }

    /// The rule for `a`, if it is a precompile of the base fork.
    fn rule(&self, a: H160) -> Option<Behaviour> {
        let n = a.0[19] as usize;
        if n > LAST || a.0[..19] != [0u8; 19] {
            return None;
        }
        self.rules[n]
    }

    /// The result of a call under a non-`Supported` behaviour.
    fn apply(&self, behaviour: Behaviour, what: &str) -> (ExitResult, Vec<u8>) {
        match behaviour {
            // Success 0, empty data; `Reverted` makes evm hand every unused unit of the
            // forwarded gas (stipend included) back to the caller.
            Behaviour::RevertRefund => (Err(ExitError::Reverted), Vec::new()),
            // Any exception: evm discards the callee's gas, as for an L1 precompile failure.
            Behaviour::Halt => (
                Err(ExitException::Other(PROFILE_HALT.into()).into()),
                Vec::new(),
            ),
            Behaviour::Reject => {
                self.refusal
                    .refuse(format!("profile rejects a call to {what}"));
                (Err(Refusal::unwind()), Vec::new())
            }
            // `Absent` and `Supported` never get here; a constant or invalid rule cannot be
            // given to a precompile (the profile parser refuses it).
            other => (
                Err(ExitException::Other(
                    format!("unexpected precompile behaviour {other}").into(),
                )
                .into()),
                Vec::new(),
            ),
        }
    }
}

/// modexp's three length words (32 bytes each, zero-padded), as numbers.
fn modexp_lengths(input: &[u8]) -> [U256; 3] {
    std::array::from_fn(|i| {
        let mut word = [0u8; 32];
        let start = (i * 32).min(input.len());
        let end = (i * 32 + 32).min(input.len());
        word[..end - start].copy_from_slice(&input[start..end]);
        U256::from_be_bytes(word)
    })
}

/// True when modexp's base or modulus length does not fit 64 bits.
fn modexp_length_overflows(input: &[u8]) -> bool {
    let [base, _, modulus] = modexp_lengths(input);
    base > U256::from(u64::MAX) || modulus > U256::from(u64::MAX)
}

/// modexp's minimum price: 200 from Berlin (EIP-2565), none before.
fn modexp_min_price(state: &State<'_>) -> u64 {
    if state.config.eip2565_lower_modexp {
        200
    } else {
        0
    }
}

/// True when one of modexp's three length words exceeds `max_len`.
fn over_cap(input: &[u8], max_len: u64) -> bool {
    modexp_lengths(input)
        .iter()
        .any(|len| *len > U256::from(max_len))
}

impl<'config, H: RuntimeBackend> PrecompileSet<State<'config>, H> for ProfilePrecompiles<'_> {
    /// Warms the base fork's precompiles (EIP-2929) except `absent` ones, which are ordinary
    /// cold accounts.
    fn on_transaction(&self, _state: &mut State<'config>, handler: &mut H) {
        for (n, rule) in self.rules.iter().enumerate() {
            if matches!(rule, Some(b) if *b != Behaviour::Absent) {
                handler.mark_hot(h160(Address::with_last_byte(n as u8)), TouchKind::Access);
            }
        }
    }

    fn execute(
        &self,
        a: H160,
        input: &[u8],
        state: &mut State<'config>,
        handler: &mut H,
    ) -> Option<(ExitResult, Vec<u8>)> {
        match self.rule(a)? {
            // Not a precompile: the resolver runs the account's (normally empty) code.
            Behaviour::Absent => None,
            Behaviour::Supported => {
                if let Some(cap) = self.modexp_cap
                    && h160(MODEXP) == a
                    && over_cap(input, cap.max_len)
                {
                    return Some(self.apply(
                        cap.behaviour,
                        &format!("modexp with a length over {}", cap.max_len),
                    ));
                }
                let before = state.gasometer.gas64();
                if h160(MODEXP) == a
                    && modexp_length_overflows(input)
                    && before >= modexp_min_price(state)
                {
                    return Some((
                        Err(ExitException::Other(INVALID_INPUT.into()).into()),
                        Vec::new(),
                    ));
                }
                let (result, out) =
                    <StandardPrecompileSet as PrecompileSet<State<'config>, H>>::execute(
                        &StandardPrecompileSet,
                        a,
                        input,
                        state,
                        handler,
                    )?;
                if matches!(result, Err(ExitError::Exception(ExitException::OutOfGas)))
                    && state.gasometer.gas64() < before
                {
                    return Some((Err(ExitException::Other(INVALID_INPUT.into()).into()), out));
                }
                Some((result, out))
            }
            b => Some(self.apply(b, &format!("precompile {:#x}", a.0[19]))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modexp_cap_reads_three_zero_padded_lengths() {
        let mut input = vec![0u8; 96];
        input[31] = 64; // base length 64
        assert!(!over_cap(&input, 64));
        assert!(over_cap(&input, 63));
        input[95] = 65; // modulus length 65
        assert!(over_cap(&input, 64));
        // A short input is zero-padded: 0x01 at byte 32 is the exponent length's top byte.
        assert!(over_cap(
            &[0u8; 33][..32]
                .iter()
                .copied()
                .chain([1])
                .collect::<Vec<_>>(),
            1 << 20
        ));
        assert!(!over_cap(&[], 0));
    }

    #[test]
    fn modexp_overflow_looks_at_base_and_modulus_only() {
        let mut input = vec![0u8; 96];
        input[32 + 23] = 1; // exponent length 2^64: priced out of gas, not invalid
        assert!(!modexp_length_overflows(&input));
        input[23] = 1; // base length 2^64
        assert!(modexp_length_overflows(&input));
        input[23] = 0;
        input[64 + 24..].fill(0xff); // modulus length 2^64 - 1 fits
        assert!(!modexp_length_overflows(&input));
    }
}
