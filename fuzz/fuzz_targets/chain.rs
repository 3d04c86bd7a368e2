//! The `chain` target: what it runs is the `[evmdiff]` section of `corpus/chain.options`.

#![cfg_attr(fuzzing, no_main)]

evmdiff_fuzz::target!("chain");
