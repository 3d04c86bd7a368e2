#!/usr/bin/env bash
# Compares evmdiff's EIP-3155 traces of revm with the Python execution spec's on generated
# cases (the figures in docs/backends.md, "EIP-3155 traces against the execution spec").
#
#   scripts/eels-trace-check.sh [SEED] [COUNT]
#
# Needs ethereum-spec-evm (ethereum-execution 2.20.0): EELS=/path/to/ethereum-spec-evm, or it
# is installed into a temporary venv. Each generated case gets a `post` with revm's state root
# (the execution spec's statetest refuses a test without one); EELS then checks it, and
# `evmdiff trace-diff` compares the two traces step by step, every field.
set -euo pipefail
cd "$(dirname "$0")/.."
SEED=${1:-8}
COUNT=${2:-30}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if [ -z "${EELS:-}" ]; then
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q ethereum-execution==2.20.0
  EELS="$WORK/venv/bin/ethereum-spec-evm"
fi
cargo build -q --release --bin evmdiff
E=$PWD/target/release/evmdiff
$E generate --seed "$SEED" --count "$COUNT" --out "$WORK/cases" >/dev/null
python3 - "$E" "$WORK"/cases/*.json <<'PY'
import json, subprocess, sys
evmdiff, files = sys.argv[1], sys.argv[2:]
for f in files:
    out = subprocess.run([evmdiff, "run", f, "-b", "revm", "--format", "json"],
                         capture_output=True, text=True).stdout
    r = json.loads(out.splitlines()[0])
    o = r["executions"][0]["outcome"]
    d = json.load(open(f))
    name = next(iter(d))
    d[name]["post"] = {r["fork"]: [{"hash": o["state_root"], "logs": o["logs_hash"],
                                    "indexes": {"data": 0, "gas": 0, "value": 0}}]}
    json.dump(d, open(f, "w"), indent=1)
PY
$E run "$WORK"/cases/*.json -b revm --trace "$WORK/traces" >/dev/null 2>&1 || true
agree=0 part=0 failed=0
for f in "$WORK"/cases/*.json; do
  s=$(basename "${f%.json}")
  if ! timeout 300 "$EELS" statetest --json "$f" 2>"$WORK/traces/$s.eels" >/dev/null; then
    failed=$((failed + 1))
    echo "$s: ethereum-spec-evm failed: $(grep -v '^ ' "$WORK/traces/$s.eels" | tail -1)"
    continue
  fi
  if out=$($E trace-diff "$WORK/traces/${s}_"*.revm.jsonl "$WORK/traces/$s.eels"); then
    agree=$((agree + 1))
  else
    part=$((part + 1))
    echo "$s: $(echo "$out" | grep -E 'part at|differ' | tr '\n' ' ')"
  fi
done
echo "seed $SEED: $agree agree on every step, $part part, $failed not run by ethereum-spec-evm"
