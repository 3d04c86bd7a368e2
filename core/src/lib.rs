//! # evmdiff-core
//!
//! The backend-independent half of evmdiff: what a profile is ([`profile`]), what a case is and
//! how it is read from and written to the ethereum/tests state-test format ([`case`],
//! [`statetest`]), what a backend returns ([`outcome`], [`state`]), the [`backend::Backend`]
//! trait every EVM implements, how an execution is watched step by step ([`observe`]), and how
//! two outcomes are compared ([`compare`], field by typed [`field`]) and where two executions part ([`lockstep`],
//! over the owned steps of [`trace`]).

pub mod backend;
pub mod block_processing;
pub mod block_witness;
pub mod blockchaintest;
pub mod case;
pub mod compare;
pub mod eip3155;
pub mod expect;
pub mod field;
pub mod fork;
pub mod hashed;
pub mod keys;
pub mod lazy_root;
pub mod localize;
pub mod lockstep;
pub mod network;
pub mod observe;
pub mod opcode;
pub mod outcome;
pub mod precompile;
pub mod profile;
pub mod receipts;
pub mod replay;
pub mod rw_log;
pub mod seal;
pub mod signing;
pub mod state;
pub mod state_proof;
pub mod statetest;
pub mod step_hash;
pub mod step_trail;
pub mod trace;
pub mod witness;

pub use backend::{Backend, BackendError, Capabilities};
pub use case::{At, Block, Case};
pub use field::Field;
pub use fork::Fork;
pub use observe::{Observer, Step, StepState};
pub use outcome::{BlockEnd, BlockOutcome, ChainOutcome, HaltClass, Outcome, Scope, Status};
pub use profile::{Behaviour, Profile};
pub use state::{Account, State};
