//! # evmdiff-generator
//!
//! Turns fuzzer bytes into meaningful EVM test cases within a profile, in the wasm-smith
//! style: a [`GeneratorConfig`] drawn from the bytes (swarm testing), an instruction table
//! gated by the profile's fork, a modelled stack so every instruction has operands, typed
//! operands from a dictionary of edge values, control flow that terminates by construction,
//! typed precompile inputs, and results made observable in storage and logs.
//!
//! ```
//! use arbitrary::Unstructured;
//! use evmdiff_core::Profile;
//!
//! let profile = Profile::load("eip7530-b").unwrap();
//! let bytes = [7u8; 512];
//! let generated = evmdiff_generator::generate(&mut Unstructured::new(&bytes), &profile).unwrap();
//! assert_eq!(generated.case.fork, profile.base_fork);
//! ```

pub mod campaign;
mod chain;
pub mod config;
pub mod generate;
pub mod operands;
pub mod precompile_call;
pub mod precompile_input;
pub mod program;
pub mod spans;
pub mod table;

pub use campaign::{campaign_case, campaign_case_within, input_bytes};
pub use config::{Class, GeneratorConfig};
pub use generate::{Generated, generate, generate_with, generate_within};
