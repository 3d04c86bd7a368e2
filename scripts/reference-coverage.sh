#!/usr/bin/env bash
# The execution spec's branch map of generated cases (issue 17, item 1): runs a campaign of
# revm against the execution spec's worker under coverage.py (branch mode) and reports, per
# module group of the profile's fork (instructions, precompiles, gas, interpreter, memory and
# stack, messages and transactions, state), the branches the cases took, as the number of
# cases grows, and lists the branches of the instruction and precompile modules never taken.
#
#   scripts/reference-coverage.sh [PROFILE] [SEED] [AT] [OUT]
#   scripts/reference-coverage.sh mainnet-cancun 1 500,1000,2000 target/reference-coverage
#
# AT: the case counts to report (the campaign runs the largest). Needs
# `scripts/setup-external.sh eels`; installs coverage.py into that environment if missing.
# One worker (--jobs 1), so the counts are cases in index order; a request the lockstep
# localization of a divergence sends counts too. Coverage slows the spec two to three times.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/spec-worker.sh
PROFILE=${1:-mainnet-cancun}
SEED=${2:-1}
AT=${3:-500,1000,2000}
OUT=$(realpath -m "${4:-target/reference-coverage}")
PY="$PWD/.external/eels/bin/python"
COVERAGE_VERSION=7.6.10

if [ ! -x "$PY" ]; then
  echo "reference-coverage: $PY missing; run scripts/setup-external.sh eels first" >&2
  exit 2
fi
"$PY" -c "import coverage" 2>/dev/null || "$PY" -m pip install -q "coverage==$COVERAGE_VERSION"
cargo build --release --bin evmdiff -q
EVMDIFF=target/release/evmdiff
FORK=$("$EVMDIFF" profiles show "$PROFILE" | awk '/^base fork/ { print tolower($3) }')
if [ -z "$FORK" ]; then
  echo "reference-coverage: no base fork for profile $PROFILE" >&2
  exit 2
fi
# One case more than the largest count: the worker keeps its copy for N cases when it reads
# request N + 1 (the campaign stops a worker by ending its process).
RUNS=$(($(tr ',' '\n' <<<"$AT" | sort -n | tail -n 1) + 1))

rm -rf "$OUT" && mkdir -p "$OUT"
spec_worker "$OUT/backends.toml" eels-cov "the execution spec under coverage.py (branch mode), $FORK" \
  scripts/reference_coverage/cover_worker.py 600 EVMDIFF_COVERAGE_FORK="$FORK" \
  EVMDIFF_COVERAGE_DATA="$OUT/coverage" EVMDIFF_COVERAGE_AT="$AT"

echo "== $RUNS cases of $PROFILE (seed $SEED) on revm and the spec under coverage ($FORK)"
start=$(date +%s)
"$EVMDIFF" --backends-file "$OUT/backends.toml" fuzz --backends revm,eels-cov \
  --profile "$PROFILE" --seed "$SEED" --runs "$RUNS" --jobs 1 --no-known \
  --out "$OUT/campaign" | tail -n 6
echo "   $(($(date +%s) - start)) s"

hangs=$(find "$OUT/campaign" -name "hang-*.json" | wc -l)
echo "   worker processes: $(wc -l <"$OUT/coverage.processes") (each hang replaces the worker; hang findings: $hangs)"
"$PY" scripts/reference_coverage/branch_map.py "$FORK" "$OUT" "$AT"
