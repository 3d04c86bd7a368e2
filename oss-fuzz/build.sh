#!/bin/bash -eu
# OSS-Fuzz's build: every cargo-fuzz target, optimized (-O), copied to
# $OUT with its dictionary, options and zipped seed corpus (scripts/oss-fuzz-build.sh). The
# base image's `cargo fuzz build` applies $SANITIZER and the coverage flags itself.
cd "$SRC/evmdiff"
scripts/oss-fuzz-build.sh
