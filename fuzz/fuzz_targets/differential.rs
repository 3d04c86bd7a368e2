//! The `differential` target: what it runs is the `[evmdiff]` section of `corpus/differential.options`.

#![cfg_attr(fuzzing, no_main)]

evmdiff_fuzz::target!("differential");
