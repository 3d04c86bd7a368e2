#!/usr/bin/env bash
# The cargo-fuzz targets' throughput against `evmdiff fuzz` per thread (issue 18, item 2),
# measured side by side on the same backends:
#
#  1. Same cases: N campaign inputs (`evmdiff generate --raw`, the very bytes `evmdiff fuzz`
#     draws) run by `evmdiff fuzz --jobs 1` and by the target (`-runs=0`: each input once),
#     rounds interleaved, medians of the wall-clock times.
#  2. Fuzzing: the target for SECONDS from its seed corpus (libFuzzer mutating), its
#     exec/s against the rate of `evmdiff fuzz --jobs 1` on the same backends.
#
#   scripts/target-throughput.sh [OUT-DIR-OF-THE-BUILD] [N] [ROUNDS] [SECONDS]
#
# OUT-DIR-OF-THE-BUILD is the $OUT that scripts/oss-fuzz-local.sh filled (default
# target/oss-fuzz-local/out; built here when absent).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${1:-target/oss-fuzz-local/out}")
N=${2:-3000}
ROUNDS=${3:-3}
SECONDS_FUZZ=${4:-60}
[ -x "$OUT/differential" ] || scripts/oss-fuzz-local.sh 5 "$(dirname "$OUT")" >/dev/null
cargo build --release --bin evmdiff -q
EVMDIFF=$PWD/target/release/evmdiff
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$EVMDIFF" generate --seed 7 --count "$N" --raw --out "$TMP/inputs" 2>/dev/null

# Wall-clock seconds of a command; a target that stops at a finding would time less than the
# whole set, so it fails the measurement instead.
secs() {
  local t
  t=$( { /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null || echo "FAILED"; } | tail -n 1)
  [ "$t" != FAILED ] || { echo "target-throughput: $* stopped early (a finding?)" >&2; exit 1; }
  echo "$t"
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# prover_views runs revm against itself: on its own backends (revm, evm, levm) some of seed
# 7's cases show view divergences, at which the target stops.
echo "== same $N cases (seed 7), $ROUNDS rounds interleaved, medians"
printf '| target | backends | evmdiff fuzz --jobs 1 (s) | target -runs=0 (s) | target / fuzz |\n|---|---|---|---|---|\n'
for row in differential:revm,revm differential:revm,evm,levm prover_views:revm,revm; do
  t=${row%%:*} b=${row#*:}
  if [ "$t" = prover_views ]; then extra=(--prover witness,rw-log); else extra=(); fi
  fz="" tg=""
  for _ in $(seq "$ROUNDS"); do
    fz+=" $(secs "$EVMDIFF" fuzz --backends "$b" "${extra[@]}" --runs "$N" --seed 7 --jobs 1 --out "$TMP/f")"
    rm -rf "$TMP/f"
    tg+=" $(cd "$TMP" && EVMDIFF_BACKENDS=$b secs "$OUT/$t" -runs=0 -max_len=4096 "$TMP/inputs")"
  done
  fm=$(echo "$fz" | median); tm=$(echo "$tg" | median)
  echo "| $t | $b | $fm (${fz# }) | $tm (${tg# }) | $(awk -v f="$fm" -v t="$tm" 'BEGIN {printf "%.2f", f / t}') |"
done

echo
echo "== fuzzing: each target ${SECONDS_FUZZ} s from its seed corpus, against evmdiff fuzz's rate"
printf '| target | backends | target exec/s | evmdiff fuzz cases/s | target / fuzz |\n|---|---|---|---|---|\n'
# The chain target has no evmdiff fuzz counterpart (a quarter of fuzz's cases are chains): its
# rate is given alone.
for row in differential:revm,revm differential:revm,evm,levm prover_views:revm,revm chain:revm,evm,levm; do
  t=${row%%:*} b=${row#*:}
  if [ "$t" = prover_views ]; then extra=(--prover witness,rw-log); else extra=(); fi
  [ "$t" = chain ] && rate=0 || rate=$("$EVMDIFF" fuzz --backends "$b" "${extra[@]}" --runs "$N" --seed 7 --jobs 1 --out "$TMP/f" 2>&1 \
    | grep -oE '^[0-9]+ cases, [0-9]+/s' | grep -oE '[0-9]+/s' | tr -d '/s')
  rm -rf "$TMP/f" "$TMP/c" && mkdir -p "$TMP/c"
  unzip -q -o "$OUT/${t}_seed_corpus.zip" -d "$TMP/c"
  execs=$(cd "$TMP" && EVMDIFF_BACKENDS=$b "$OUT/$t" "$TMP/c" -max_total_time="$SECONDS_FUZZ" \
    -max_len=4096 -dict="$OUT/differential.dict" -print_final_stats=1 2>&1 \
    | grep average_exec_per_sec | grep -oE '[0-9]+$' || true)
  if [ "$t" = chain ]; then
    echo "| $t | $b | $execs | — | — |"
  else
    echo "| $t | $b | $execs | $rate | $(awk -v f="$rate" -v t="$execs" 'BEGIN {printf "%.2f", t / f}') |"
  fi
done
