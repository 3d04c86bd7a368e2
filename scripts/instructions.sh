#!/usr/bin/env bash
# Instructions, not seconds: `evmdiff bench` on generated cases under callgrind (Debian's
# valgrind), then the instructions per call of each backend's plain execution and of its
# execution observed by the step hash alone (bench's own loops), and per case of the oracle's
# whole run (every backend observed, divergences localized; generation aside). Instruction
# counts do not depend on the machine's load, so two binaries can be compared on a shared
# machine where wall-clock rates drift by a third between runs (docs/performance.md). About
# 12 minutes for 300 cases under Cancun, 10 of them c-kzg's trusted setup, which valgrind runs
# slowly; a Shanghai profile skips it.
#
#   scripts/instructions.sh [BINARY] [CASES] [PROFILE]
set -euo pipefail
BIN=${1:-target/release/evmdiff}
CASES=${2:-300}
PROFILE=${3:-mainnet-cancun}
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
[ -x "$BIN" ] || { echo "instructions.sh: $BIN: not an executable" >&2; exit 2; }
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
if ! valgrind --tool=callgrind --callgrind-out-file="$DIR/cg.out" "$BIN" bench --generated "$CASES" \
  --seed 7 --rounds 1 --profile "$PROFILE" --backends revm,evm,levm >"$DIR/bench.log" 2>"$DIR/valgrind.log"; then
  echo "instructions.sh: evmdiff bench failed under valgrind:" >&2
  grep -v "^==" "$DIR/valgrind.log" | tail -n 5 >&2
  exit 2
fi
callgrind_annotate --inclusive=yes --tree=calling --threshold=100 "$DIR/cg.out" >"$DIR/calling.txt" 2>/dev/null
echo "$BIN, $CASES cases under $PROFILE: instructions per call (callgrind)"
python3 "$(dirname "$0")/lib/callgrind_calls.py" "$DIR/calling.txt"
grep -E "PROGRAM TOTALS" "$DIR/calling.txt" | head -1 | awk '{print "whole run:", $1, "instructions"}'
