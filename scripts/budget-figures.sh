#!/usr/bin/env bash
# The case budget's effect on a campaign against the execution spec (issue 17, item 3): two
# campaigns side by side, same seed, one with `--case-gas off`, one with the default (`auto`,
# 1,000,000 gas per transaction when an out-of-process EVM runs), against the spec with one
# planted bug (scripts/planted/mutants.py), so that there are divergences to count. Prints
# cases and divergent cases per minute of each.
#
#   scripts/budget-figures.sh [BUG] [TIME] [SEED] [OUT]
#   scripts/budget-figures.sh signextend-slice 5m 5 target/budget
#
# Needs `scripts/setup-external.sh eels`. One worker each (--jobs 1); both run at once, so
# they share the machine equally.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/spec-worker.sh
BUG=${1:-signextend-slice}
TIME=${2:-5m}
SEED=${3:-5}
OUT=$(realpath -m "${4:-target/budget}")
PY="$PWD/.external/eels/bin/python"
if [ ! -x "$PY" ]; then
  echo "budget-figures: $PY missing; run scripts/setup-external.sh eels first" >&2
  exit 2
fi
cargo build --release --bin evmdiff -q
EVMDIFF=target/release/evmdiff
rm -rf "$OUT" && mkdir -p "$OUT"
spec_worker "$OUT/backends.toml" eels-planted "the execution spec with planted bug $BUG" \
  scripts/planted/planted_worker.py 120 EVMDIFF_PLANTED="$BUG" EVMDIFF_PLANTED_FORK=cancun
for budget in off auto; do
  "$EVMDIFF" --backends-file "$OUT/backends.toml" fuzz --backends revm,eels-planted \
    --case-gas "$budget" --time "$TIME" --seed "$SEED" --jobs 1 --no-known \
    --out "$OUT/$budget" --stats-json "$OUT/$budget.json" >"$OUT/$budget.log" 2>&1 &
done
wait
echo "revm against the execution spec with $BUG planted, $TIME each, seed $SEED, side by side"
echo "| --case-gas | cases | cases/min | divergent cases | divergent cases/min | hangs |"
echo "|---|---|---|---|---|---|"
for budget in off auto; do
  python3 - "$OUT/$budget.json" "$budget" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
m = s["seconds"] / 60
print(f"| {sys.argv[2]} | {s['cases']} | {s['cases'] / m:.0f} | {s['divergent_cases']} | "
      f"{s['divergent_cases'] / m:.1f} | {s['hangs']} |")
PY
done
