#!/usr/bin/env bash
# OSS-Fuzz / ClusterFuzzLite build script: builds the cargo-fuzz targets and copies each, with
# its dictionary and zipped seed corpus, to $OUT. OSS-Fuzz runs it with its own nightly
# toolchain and AddressSanitizer; locally (stable) pass SANITIZER_FLAG="-s none".
set -euo pipefail
cd "$(dirname "$0")/.."
: "${OUT:?set OUT to the output folder}"
# Optimized, without debug assertions: the backends run as the clients and provers that ship
# them do (an overflow wraps, and the differential reports it only if it changes behaviour),
# at twice the rate (docs/performance.md).
cargo fuzz build -O ${SANITIZER_FLAG:-}
for f in fuzz/fuzz_targets/*.rs; do
  t=$(basename "${f%.*}")
  cp "fuzz/target/x86_64-unknown-linux-gnu/release/$t" "$OUT/"
  [ -f "corpus/$t.dict" ] && cp "corpus/$t.dict" "$OUT/$t.dict"
  [ -f "corpus/$t.options" ] && cp "corpus/$t.options" "$OUT/$t.options"
  if [ -d "corpus/seeds/$t" ]; then
    (cd "corpus/seeds/$t" && zip -qr "$OUT/${t}_seed_corpus.zip" .)
  fi
done
