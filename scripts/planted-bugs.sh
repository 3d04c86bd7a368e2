#!/usr/bin/env bash
# The planted-bug benchmark (issue 17, item 2): each bug of scripts/planted/mutants.py is
# planted alone into the execution spec, which then runs a campaign against revm; the table
# says after how many cases the first divergence showed (the cases are the same for every
# bug: same profile, seed and order). The control, the spec without a planted bug, must show
# none.
#
#   scripts/planted-bugs.sh [PROFILE] [SEED] [CASES] [OUT] [BUG ...]
#   scripts/planted-bugs.sh mainnet-cancun 1 300 target/planted
#
# Needs `scripts/setup-external.sh eels`. One worker (--jobs 1), so "after N cases" counts
# cases in index order; a bug's campaign stops at its first finding. A case the spec has not
# finished in EVMDIFF_PLANTED_HANG (default 10s) is abandoned as a hang. The campaigns run with
# fuzz's default case budget (`--case-gas auto`: 1,000,000 gas per transaction against the
# spec's worker).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/spec-worker.sh
PROFILE=${1:-mainnet-cancun}
SEED=${2:-1}
CASES=${3:-300}
OUT=$(realpath -m "${4:-target/planted}")
shift $(($# < 4 ? $# : 4))
PY="$PWD/.external/eels/bin/python"
HANG=${EVMDIFF_PLANTED_HANG:-10s}
if [ ! -x "$PY" ]; then
  echo "planted-bugs: $PY missing; run scripts/setup-external.sh eels first" >&2
  exit 2
fi
cargo build --release --bin evmdiff -q
EVMDIFF=target/release/evmdiff
FORK=$("$EVMDIFF" profiles show "$PROFILE" | awk '/^base fork/ { print tolower($3) }')
if [ $# -gt 0 ]; then
  BUGS=("$@")
else
  mapfile -t BUGS < <("$PY" -c "import sys; sys.path.insert(0, 'scripts/planted'); import mutants; print('\n'.join(m[0] for m in mutants.MUTANTS))")
fi
rm -rf "$OUT" && mkdir -p "$OUT"

# Runs the campaign with bug $1 (empty: the control); prints the number (1-based) of the first
# case that showed it, a divergence or the planted backend failing on a case (a crash), or "-".
campaign() {
  local bug=$1 dir="$OUT/${1:-control}"
  mkdir -p "$dir"
  spec_worker "$dir/backends.toml" eels-planted "the execution spec with planted bug ${bug:-none}" \
    scripts/planted/planted_worker.py 120 EVMDIFF_PLANTED="$bug" EVMDIFF_PLANTED_FORK="$FORK"
  "$EVMDIFF" --backends-file "$dir/backends.toml" fuzz --backends revm,eels-planted \
    --profile "$PROFILE" --seed "$SEED" --runs "$CASES" --jobs 1 --no-known \
    --hang-budget "$HANG" --out "$dir/campaign" >"$dir/fuzz.log" 2>&1 &
  local pid=$!
  # One worker runs the cases in index order: the first finding file is the first case that
  # shows the bug, and the rest of the campaign would add nothing to the table.
  while kill -0 "$pid" 2>/dev/null; do
    if compgen -G "$dir/campaign/divergence-*.json" >/dev/null ||
      compgen -G "$dir/campaign/crash-*.json" >/dev/null; then
      kill -INT "$pid" 2>/dev/null || true
      break
    fi
    sleep 1
  done
  wait "$pid" 2>/dev/null || true
  "$PY" - "$dir/campaign" <<'PY'
import glob, json, sys
first = None
for f in glob.glob(sys.argv[1] + "/divergence-*.json") + glob.glob(sys.argv[1] + "/crash-*.json"):
    test = next(iter(json.load(open(f)).values()))
    i = test.get("_info", {}).get("evmdiff", {}).get("index")
    if i is not None and (first is None or i < first):
        first = i
print("-" if first is None else first + 1)
PY
}

echo "planted bugs in the execution spec ($FORK), $CASES cases of $PROFILE, seed $SEED"
control=$(campaign "")
echo "control (no bug): first divergence ${control}"
echo
echo "| bug | category | what | first case that shows it |"
echo "|---|---|---|---|"
detected=0
for bug in "${BUGS[@]}"; do
  first=$(campaign "$bug")
  [ "$first" != "-" ] && detected=$((detected + 1))
  meta=$("$PY" -c "import sys; sys.path.insert(0, 'scripts/planted'); import mutants; m = mutants.by_name('$bug'); print(m[4] + ' | ' + m[5])")
  echo "| $bug | $meta | ${first/-/not within $CASES} |"
done
echo
echo "detected: $detected of ${#BUGS[@]} within $CASES cases"
