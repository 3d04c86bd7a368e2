#!/usr/bin/env bash
# The structure-aware mutator against libFuzzer's byte mutations (issue 18, item 2): the same
# target binary (the one scripts/oss-fuzz-local.sh builds, the mutator compiled in) run twice
# at once for TIME seconds, one core each, from the same seeds with the same libFuzzer seed:
# once with EVMDIFF_MUTATOR=structure, once with EVMDIFF_MUTATOR=bytes (libFuzzer's own
# mutations only, the default). Then:
#
#  * edges and features reached, inputs kept, executions (libFuzzer's final statistics);
#  * planted bugs seen over each kept corpus (`evmdiff planted --inputs`);
#  * unique divergence signatures over each corpus (`evmdiff run --fuzz-target`);
#  * any crash (a new finding) either run stopped on.
#
#   scripts/mutator-vs-bytes.sh [SECONDS] [OUT] [SEED] [TARGET]
#   scripts/mutator-vs-bytes.sh 600 target/mutator-vs-bytes 1 differential
set -euo pipefail
cd "$(dirname "$0")/.."
TIME=${1:-600}
OUT=$(realpath -m "${2:-target/mutator-vs-bytes}")
SEED=${3:-1}
TARGET=${4:-differential}
BIN_DIR=$PWD/target/oss-fuzz-local/out
[ -x "$BIN_DIR/$TARGET" ] || scripts/oss-fuzz-local.sh 5 target/oss-fuzz-local >/dev/null
cargo build --release --bin evmdiff -q
EVMDIFF=$PWD/target/release/evmdiff
rm -rf "$OUT" && mkdir -p "$OUT"

arm() { # name, then environment assignments
  local name=$1; shift
  mkdir -p "$OUT/$name/corpus" "$OUT/$name/crashes"
  env "$@" "$BIN_DIR/$TARGET" -max_total_time="$TIME" -seed="$SEED" -print_final_stats=1 \
    -dict="$BIN_DIR/$TARGET.dict" -max_len=4096 -artifact_prefix="$OUT/$name/crashes/" \
    "$OUT/$name/corpus" "$PWD/corpus/seeds/$TARGET" >"$OUT/$name.log" 2>&1 || true
}
echo "== $TARGET, ${TIME} s each, both at once, libFuzzer seed $SEED"
arm structure EVMDIFF_MUTATOR=structure &
arm bytes EVMDIFF_MUTATOR=bytes
wait

stat() { grep -oE "^stat::$2: *[0-9]+" "$OUT/$1.log" | grep -oE '[0-9]+$' | tail -n 1; }
last() { grep -oE "$2: *[0-9]+" "$OUT/$1.log" | grep -oE '[0-9]+$' | tail -n 1; }
signatures() {
  "$EVMDIFF" run --fuzz-target "$TARGET" --format json "$OUT/$1/corpus" 2>/dev/null | python3 -c '
import json, sys
sigs = set()
for line in sys.stdin:
    if line.startswith("{"):
        sigs.update(json.loads(line).get("signatures", []))
print(len(sigs))'
}
planted() {
  "$EVMDIFF" planted --inputs "$OUT/$1/corpus" --format json -o "$OUT/planted-$1.json" >/dev/null 2>&1 || true
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
b = [x for x in d["bugs"] if x["bug"] and x["applies"]]
print("%d/%d" % (sum(1 for x in b if x["showing"] > 0), len(b)))' "$OUT/planted-$1.json"
}
row() { printf '| %s | %s | %s |\n' "$1" "$2" "$3"; }
echo
row "$TARGET, ${TIME} s, one core each" "structure-aware (EVMDIFF_MUTATOR=structure)" "libFuzzer's own (EVMDIFF_MUTATOR=bytes, the default)"
row "---" "---" "---"
row "executions" "$(stat structure number_of_executed_units)" "$(stat bytes number_of_executed_units)"
row "edges (cov)" "$(last structure cov)" "$(last bytes cov)"
row "features (ft)" "$(last structure ft)" "$(last bytes ft)"
row "inputs kept" "$(ls "$OUT/structure/corpus" | wc -l)" "$(ls "$OUT/bytes/corpus" | wc -l)"
row "planted bugs seen over the corpus" "$(planted structure)" "$(planted bytes)"
row "divergence signatures over the corpus" "$(signatures structure)" "$(signatures bytes)"
row "crashes (new findings)" "$(ls "$OUT/structure/crashes" | wc -l)" "$(ls "$OUT/bytes/crashes" | wc -l)"
