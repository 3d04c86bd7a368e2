#!/usr/bin/env bash
# The two builds only OSS-Fuzz's and ClusterFuzzLite's builders make, made here (issue 18):
#
#  * address: the targets with AddressSanitizer (`cargo fuzz build -O -s address`), which needs
#    a nightly toolchain (the one rustup has, or installs), then each run briefly;
#  * coverage: `cargo fuzz coverage` (every input of the seed corpus run by a build with
#    -Cinstrument-coverage, the profiles merged by llvm-profdata), then `llvm-cov report` for
#    the whole binary and for each EVM's sources. The LLVM tools are rustup's `llvm-tools`,
#    which match the toolchain's LLVM exactly (Debian's LLVM is older than the toolchain's).
#
#   scripts/oss-fuzz-sanitizers.sh [address|coverage|both] [SECONDS-PER-TARGET]
set -euo pipefail
cd "$(dirname "$0")/.."
WHAT=${1:-both}
SECONDS_PER_TARGET=${2:-10}
unset CARGO_TARGET_DIR
HOST=$(rustc -vV | sed -n 's/^host: //p')
targets=$(cd fuzz/fuzz_targets && ls *.rs | sed 's/\.rs$//')
status=0

if [[ $WHAT == address || $WHAT == both ]]; then
  echo "== AddressSanitizer build (nightly)"
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
  (cd fuzz && cargo +nightly --version)
  # A target folder of its own: ASan objects would replace the -s none ones.
  cargo +nightly fuzz build -O -s address --target-dir fuzz/target-asan
  for t in $targets; do
    corpus=$(mktemp -d)
    cp corpus/seeds/"$t"/* "$corpus"/
    echo "-- $t with AddressSanitizer, ${SECONDS_PER_TARGET} s"
    "$PWD/fuzz/target-asan/$HOST/release/$t" -max_total_time="$SECONDS_PER_TARGET" -max_len=4096 \
      -print_final_stats=1 -artifact_prefix="$corpus/" "$corpus" 2>&1 \
      | grep -E "^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|ERROR|SUMMARY" || true
    if ls "$corpus"/crash-* >/dev/null 2>&1; then echo "$t: a crash input under AddressSanitizer"; status=1; fi
    rm -rf "$corpus"
  done
fi

if [[ $WHAT == coverage || $WHAT == both ]]; then
  echo "== coverage build (-Cinstrument-coverage, stable) and report"
  rustup component add llvm-tools >/dev/null 2>&1 || true
  TOOLS="$(rustc --print sysroot)/lib/rustlib/$HOST/bin"
  [ -x "$TOOLS/llvm-cov" ] || { echo "oss-fuzz-sanitizers: $TOOLS/llvm-cov missing (rustup component add llvm-tools)" >&2; exit 2; }
  echo "toolchain LLVM $(rustc -vV | sed -n 's/^LLVM version: //p'); $("$TOOLS/llvm-cov" --version | grep -i 'LLVM version' | xargs)"
  t=differential
  # -s none: without it cargo-fuzz adds AddressSanitizer, which needs nightly.
  cargo fuzz coverage -O -s none "$t" corpus/seeds/"$t" 2>&1 | grep -vE "^\s+Compiling|^Merging|^Running" | tail -n 3
  prof=fuzz/coverage/$t/coverage.profdata
  bin=target/$HOST/coverage/$HOST/release/$t
  [ -s "$prof" ] && [ -x "$bin" ] || { echo "oss-fuzz-sanitizers: no profile or binary after cargo fuzz coverage" >&2; exit 1; }
  echo "-- $t, $(ls corpus/seeds/$t | wc -l) seed inputs: the whole binary"
  "$TOOLS/llvm-cov" report "$bin" -instr-profile="$prof" | tail -n 1
  registry=$(dirname "$(ls -d "$HOME"/.cargo/registry/src/*/revm-interpreter-* | head -n 1)")
  for crate in revm-interpreter revm-handler revm-precompile ethrex-levm evm-interpreter evm-precompile; do
    src=$(ls -d "$registry/$crate"-*/src 2>/dev/null | tail -n 1) || true
    [ -n "$src" ] || continue
    echo "-- $crate ($(basename "$(dirname "$src")"))"
    "$TOOLS/llvm-cov" report "$bin" -instr-profile="$prof" "$src" | tail -n 1
  done
fi
exit $status
