#!/usr/bin/env bash
# How `evmdiff fuzz` scales on this machine: --jobs 1, --jobs 2 and --processes 2 on the same
# cases, interleaved rounds, each run's wall-clock rate from its stats.json; prints the
# medians and the ratios to --jobs 1 (docs/performance.md), over the whole run and over the
# run after its setup (the backends prepared: revm's KZG trusted setup, about 3 s, which the
# second worker waits for). Run it on an idle machine.
#
#   scripts/jobs-scaling.sh [RUNS] [ROUNDS] [BACKENDS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-15000}
ROUNDS=${2:-3}
BACKENDS=${3:-revm,evm,levm}
BIN=${EVMDIFF:-target/release/evmdiff}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
declare -A rates steady
for round in $(seq 1 "$ROUNDS"); do
  for mode in "--jobs 1" "--jobs 2" "--processes 2"; do
    out="$DIR/$round-${mode// /}"
    # shellcheck disable=SC2086
    "$BIN" fuzz -b "$BACKENDS" --runs "$RUNS" --seed 7 $mode --out "$out" --stats-json "$out.json" >/dev/null 2>&1
    read -r rate after setup < <(python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(round(s['cases']/s['seconds']), round(s['cases']/(s['seconds']-s.get('setup_seconds',0))), round(s.get('setup_seconds',0),2))" "$out.json")
    echo "round $round, $mode: $rate cases/s; $after after its setup of $setup s"
    rates[$mode]+="$rate "
    steady[$mode]+="$after "
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
one=$(echo "${rates[--jobs 1]}" | median)
one_after=$(echo "${steady[--jobs 1]}" | median)
for mode in "--jobs 1" "--jobs 2" "--processes 2"; do
  m=$(echo "${rates[$mode]}" | median)
  a=$(echo "${steady[$mode]}" | median)
  echo "$mode: median $m cases/s, $(python3 -c "print(f'{$m/$one:.2f}')")x --jobs 1; after setup $a cases/s, $(python3 -c "print(f'{$a/$one_after:.2f}')")x"
done
