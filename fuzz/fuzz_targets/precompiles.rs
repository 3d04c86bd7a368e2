//! The `precompiles` target: what it runs is the `[evmdiff]` section of
//! `corpus/precompiles.options` (one precompile call per input, made directly on each
//! implementation and compared).

#![cfg_attr(fuzzing, no_main)]

evmdiff_fuzz::target!("precompiles");
