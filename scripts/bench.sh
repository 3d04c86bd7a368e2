#!/usr/bin/env bash
# Reproduces the figures in docs/performance.md (release build, medians of interleaved rounds).
set -euo pipefail
cd "$(dirname "$0")/.."
FIXTURES=${FIXTURES:-../shared/fixtures/ethereum-tests/GeneralStateTests}
cargo build --release --bin evmdiff
E=target/release/evmdiff
for d in "$FIXTURES" "$FIXTURES/Cancun" "$FIXTURES/VMTests"; do
  echo "== bench $d"
  $E bench "$d" --fork Cancun --rounds 5
done
echo "== replay, both backends"
time $E replay "$FIXTURES" >/dev/null || true
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for j in 1 2; do
  for b in revm,evm revm evm; do
    echo "== fuzz --jobs $j --backends $b"
    $E fuzz --runs 20000 --seed 7 --jobs "$j" --backends "$b" --out "$OUT/$j-$b" | head -1
  done
done
