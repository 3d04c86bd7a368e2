//! evm's exit reasons, normalized into evmdiff's [`HaltClass`]es (the contract shared with
//! every other adapter). Each of evm's quirks is handled here once, with the reason.

use evm::interpreter::{ExitError, ExitException, Opcode};
use evmdiff_core::HaltClass;
use evmdiff_core::opcode::Opcode as CoreOpcode;
use evmdiff_core::{Behaviour, Profile};

/// Opcodes evm's gasometer refuses as `InvalidOpcode(op)` when they execute in a static frame
/// (it has no "static violation" error): the state-changing ones, and CALL (which it refuses
/// only with a non-zero value).
const STATE_CHANGING: &[u8] = &[
    0x55, 0x5d, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xf0, 0xf1, 0xf5, 0xff,
];

/// Where the halting error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// The top frame's code (or a precompile that is the transaction's direct target).
    Frame,
    /// Deploying the code a CREATE transaction returned.
    Deploy,
}

/// The halt class of `error`, which ended the top frame of a transaction run under `profile`.
pub(super) fn halt_class(error: &ExitError, origin: Origin, profile: &Profile) -> HaltClass {
    let ExitError::Exception(e) = error else {
        return HaltClass::Other;
    };
    match e {
        ExitException::OutOfGas => HaltClass::OutOfGas,
        // evm reports a memory range past `usize` this way; the protocol prices such memory
        // out of gas (and evm's gasometer normally says so before the range is ever built).
        ExitException::InvalidRange => HaltClass::OutOfGas,
        // Deployed code starting with 0xEF (EIP-3541) is reported as executing opcode 0xEF.
        ExitException::InvalidOpcode(Opcode(0xef)) if origin == Origin::Deploy => {
            HaltClass::InvalidCodePrefix
        }
        ExitException::InvalidOpcode(Opcode(op)) => {
            let active = CoreOpcode(*op).exists_in(profile.base_fork) && *op != 0xfe;
            let profile_invalid = profile.opcode(*op) == Behaviour::Invalid;
            if active && !profile_invalid && STATE_CHANGING.contains(op) {
                // An opcode of the fork that evm still called invalid: the static-call check.
                HaltClass::StaticViolation
            } else {
                HaltClass::InvalidOpcode
            }
        }
        ExitException::DesignatedInvalid => HaltClass::InvalidOpcode,
        ExitException::StackUnderflow => HaltClass::StackUnderflow,
        ExitException::StackOverflow => HaltClass::StackOverflow,
        ExitException::InvalidJump => HaltClass::InvalidJump,
        // RETURNDATACOPY past the end of the return data.
        ExitException::OutOfOffset => HaltClass::ReturnDataOutOfBounds,
        ExitException::CallTooDeep => HaltClass::CallTooDeep,
        ExitException::CreateCollision => HaltClass::CreateCollision,
        // Deployed code over 24,576 bytes, or init code over 49,152 bytes.
        ExitException::CreateContractLimit => HaltClass::CodeSizeLimit,
        ExitException::MaxNonce => HaltClass::NonceOverflow,
        // Only precompiles report `Other`: evm-precompile's own failures, the wrapper's
        // invalid input and a profile's `halt` (`precompiles::{INVALID_INPUT, PROFILE_HALT}`).
        ExitException::Other(_) => HaltClass::PrecompileFailure,
        _ => HaltClass::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use evmdiff_core::Fork;

    #[test]
    fn quirks_are_normalized() {
        let cancun = Profile::mainnet(Fork::Cancun);
        let class = |e: ExitException, o| halt_class(&ExitError::Exception(e), o, &cancun);
        assert_eq!(
            class(ExitException::InvalidOpcode(Opcode(0xef)), Origin::Deploy),
            HaltClass::InvalidCodePrefix
        );
        assert_eq!(
            class(ExitException::InvalidOpcode(Opcode(0xef)), Origin::Frame),
            HaltClass::InvalidOpcode
        );
        assert_eq!(
            class(ExitException::InvalidOpcode(Opcode(0x55)), Origin::Frame),
            HaltClass::StaticViolation
        );
        assert_eq!(
            class(ExitException::InvalidOpcode(Opcode(0x0c)), Origin::Frame),
            HaltClass::InvalidOpcode
        );
        // TSTORE before Cancun is simply not an opcode.
        let shanghai = Profile::mainnet(Fork::Shanghai);
        let e = ExitError::Exception(ExitException::InvalidOpcode(Opcode(0x5d)));
        assert_eq!(
            halt_class(&e, Origin::Frame, &shanghai),
            HaltClass::InvalidOpcode
        );
        assert_eq!(
            class(ExitException::DesignatedInvalid, Origin::Frame),
            HaltClass::InvalidOpcode
        );
        assert_eq!(
            class(ExitException::OutOfOffset, Origin::Frame),
            HaltClass::ReturnDataOutOfBounds
        );
        assert_eq!(
            class(ExitException::CreateContractLimit, Origin::Deploy),
            HaltClass::CodeSizeLimit
        );
        assert_eq!(
            class(
                ExitException::Other(super::super::precompiles::INVALID_INPUT.into()),
                Origin::Frame
            ),
            HaltClass::PrecompileFailure
        );
        assert_eq!(
            halt_class(&ExitError::Reverted, Origin::Frame, &cancun),
            HaltClass::Other
        );
    }
}
