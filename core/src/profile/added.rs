//! Precompiles a profile adds at an address (`[added_precompiles]`): a named implementation
//! with its gas, such as RIP-7212's P256VERIFY at 0x100 for 3,450 gas, which several rollups
//! ship and which is not Osaka's EIP-7951 P256VERIFY (6,900 gas).

use std::fmt;

/// A precompile implementation a profile can place at an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Implementation {
    /// RIP-7212 P256VERIFY: input `hash || r || s || x || y` (5 × 32 bytes); a valid
    /// secp256r1 signature returns the 32-byte word 1, anything else (another length
    /// included) returns nothing and still costs the gas; gas below the price is an
    /// exceptional failure consuming the forwarded gas. Only the gas differs from EIP-7951 as
    /// evmdiff runs it: EIP-7951 also tightened RIP-7212's original input checks (the point
    /// at infinity, `r' ≡ r mod n`), which the deployed RIP-7212 implementations (revm's
    /// `secp256r1::verify_impl`, the p256 crate) already apply, so no such edge case is
    /// modelled apart.
    P256VerifyRip7212,
}

impl Implementation {
    /// The name used in profile files.
    pub fn keyword(self) -> &'static str {
        match self {
            Implementation::P256VerifyRip7212 => "p256verify-rip7212",
        }
    }

    /// Every implementation, for lookups and error messages.
    pub const ALL: [Implementation; 1] = [Implementation::P256VerifyRip7212];

    /// The implementation called `name`.
    pub fn from_keyword(name: &str) -> Option<Implementation> {
        Self::ALL.into_iter().find(|i| i.keyword() == name)
    }
}

impl fmt::Display for Implementation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// One added precompile: what runs and what it costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddedPrecompile {
    /// What runs.
    pub implementation: Implementation,
    /// Its whole gas cost per call.
    pub gas: u64,
}

/// The word a successful signature check returns (32 bytes, value 1).
pub const P256_VALID: [u8; 32] = {
    let mut w = [0u8; 32];
    w[31] = 1;
    w
};
