//! The `prover_views` target: what it runs is the `[evmdiff]` section of `corpus/prover_views.options`.

#![cfg_attr(fuzzing, no_main)]

evmdiff_fuzz::target!("prover_views");
