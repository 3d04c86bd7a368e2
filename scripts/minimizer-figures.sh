#!/usr/bin/env bash
# The minimizer's figures (docs/performance.md): real campaigns write findings, then
# `evmdiff minimize` shrinks every original finding (not the campaign's own minimized copy)
# and the instructions left and the seconds the command took (loading, minimizing, writing and
# replaying the result) are listed per finding, with their medians.
#
#   scripts/minimizer-figures.sh [OUT_DIR]     (campaigns skipped when OUT_DIR has them already:
#                                               EVMDIFF=other/evmdiff minimizes the same findings)
#
# The campaigns: revm against evm with the witness view (evm's triaged bugs, the witness
# over-reads of docs/findings.md #4) over six seeds, revm against levm with the witness view,
# and revm against py-evm (its classified deviations; needs scripts/setup-external.sh pyevm).
set -euo pipefail
cd "$(dirname "$0")/.."
E=${EVMDIFF:-target/release/evmdiff}
OUT=${1:-$(mktemp -d)}
mkdir -p "$OUT"
[ -x "$E" ] || cargo build --release --bin evmdiff

if [ ! -d "$OUT/evm-1" ]; then
for seed in 1 2 3 4 5 6; do
  "$E" fuzz -b revm,evm --prover witness --no-known --runs 3000 --seed "$seed" \
    --out "$OUT/evm-$seed" >/dev/null 2>&1
done
"$E" fuzz -b revm,levm --prover witness --no-known --runs 5000 --seed 42 --out "$OUT/levm" >/dev/null 2>&1
"$E" fuzz -b revm,pyevm --no-known --runs 1500 --seed 7 --out "$OUT/pyevm" >/dev/null 2>&1 || true
fi

# py-evm's classified deviations (docs/backends.md) are fixture vectors the generator has not
# reached: each file's first case, minimized against revm.
FIX=../shared/fixtures/ethereum-tests/GeneralStateTests
PYEVM_DEVIATIONS=(stSStoreTest/InitCollisionParis stRevertTest/RevertInCreateInInit_Paris
  stCreate2/RevertInCreateInInitCreate2Paris stEIP1559/tipTooHigh
  stEIP1559/transactionIntinsicBug_Paris Cancun/stEIP4844-blobtransactions/createBlobhashTx)

printf '%-60s %8s %8s %8s\n' finding before after seconds
rows=()
minimize() { # minimize LABEL FILE [ARGS...]
  local label=$1 f=$2; shift 2
  local start line secs before after
  start=$(date +%s.%N)
  line=$("$E" minimize "$f" "$@" -o "$OUT/min-${label//\//-}.json")
  line=${line%%$'\n'*}
  secs=$(echo "$(date +%s.%N) - $start" | bc | awk '{printf "%.2f", $1}')
  before=$(sed -E 's/.*: ([0-9]+) -> .*/\1/' <<<"$line")
  after=$(sed -E 's/.* -> ([0-9]+) instructions.*/\1/' <<<"$line")
  printf '%-60s %8s %8s %8s\n' "$label" "$before" "$after" "$secs"
  rows+=("$after $secs")
}
if [ -x .external/pyevm/bin/python ]; then
  for d in "${PYEVM_DEVIATIONS[@]}"; do
    minimize "pyevm-deviation/$(basename "$d")" "$FIX/$d.json" -b revm,pyevm
  done
fi
for f in "$OUT"/*/divergence-*.json; do
  minimize "$(basename "$(dirname "$f")")/$(basename "$f")" "$f"
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "findings: ${#rows[@]}"
echo "median instructions after: $(printf '%s\n' "${rows[@]}" | cut -d' ' -f1 | median)"
echo "median seconds: $(printf '%s\n' "${rows[@]}" | cut -d' ' -f2 | median)"
echo "max seconds: $(printf '%s\n' "${rows[@]}" | cut -d' ' -f2 | sort -n | tail -n 1)"
