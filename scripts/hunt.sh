#!/usr/bin/env bash
# The hunt (issue 17, item 4): timed campaigns over every built-in profile and several backend
# mixes, each into its own folder under OUT, with a one-line summary per campaign in
# OUT/summary.tsv (profile, backends, cases,
# divergent cases, new divergent cases, known, crashes, hangs, finding files).
#
#   scripts/hunt.sh OUT [PER-CAMPAIGN-TIME] [SEED] [PART]
#
# PART: `inproc` (revm, evm, levm on every profile), `workers` (the external EVMs against revm,
# sampled where slow), or `all` (default). Uses target/release/evmdiff unless EVMDIFF is set.
set -euo pipefail
OUT=${1:?usage: scripts/hunt.sh OUT [TIME] [SEED] [PART]}
PER=${2:-3m}
SEED=${3:-2026}
PART=${4:-all}
EVMDIFF=${EVMDIFF:-target/release/evmdiff}
JOBS=${JOBS:-1}
mkdir -p "$OUT"
PROFILES="mainnet-shanghai mainnet-cancun mainnet-prague mainnet-osaka eip7530-a eip7530-b scroll linea polygon-zkevm taiko"

campaign() { # NAME PROFILE BACKENDS [extra fuzz options...]
  local name=$1 profile=$2 backends=$3; shift 3
  local dir="$OUT/$name"
  "$EVMDIFF" fuzz --profile "$profile" --backends "$backends" --time "$PER" --seed "$SEED" \
    --jobs "$JOBS" --out "$dir" --stats-json "$dir.stats.json" "$@" >"$dir.log" 2>&1 || true
  python3 - "$dir.stats.json" "$profile" "$backends" "$OUT/summary.tsv" <<'PY'
import json, sys
path, profile, backends, summary = sys.argv[1:]
try:
    s = json.load(open(path))
except Exception as e:
    line = f"{profile}\t{backends}\tno stats ({e})"
else:
    line = "\t".join(str(x) for x in [profile, backends, s.get("cases"), s.get("divergent_cases"),
                                       s.get("new_divergent_cases"), s.get("allowed_cases"),
                                       s.get("crashes"), s.get("hangs"), s.get("findings_written")])
open(summary, "a").write(line + "\n")
print(line)
PY
}

if [[ $PART == all || $PART == inproc ]]; then
  for p in $PROFILES; do campaign "$p-inproc" "$p" revm,evm,levm; done
fi
if [[ $PART == all || $PART == workers ]]; then
  campaign cancun-ethereumjs mainnet-cancun revm,ethereumjs
  campaign prague-ethereumjs mainnet-prague revm,ethereumjs
  campaign scroll-ethereumjs scroll revm,ethereumjs
  campaign cancun-eels mainnet-cancun revm,eels
  campaign osaka-eels mainnet-osaka revm,eels
  campaign linea-eels linea revm,eels
  campaign cancun-pyevm mainnet-cancun revm,pyevm
  campaign eip7530-b-pyevm eip7530-b revm,pyevm
  campaign polygon-pyevm polygon-zkevm revm,pyevm,levm
fi
