#!/usr/bin/env bash
# Coverage-guided against generative on the same profile, backends and budget (issue 18,
# item 3): `evmdiff campaign` (libFuzzer on the differential target, one process) and
# `evmdiff fuzz --jobs 1` run at the same time for TIME, one core each, then:
#
#  * unique divergence signatures, known ones included: the generative campaign's summary;
#    for the guided one, every input of its corpus replayed (`evmdiff run --fuzz-target`);
#  * new findings (not on the shipped allowlist) of each;
#  * planted bugs: `evmdiff planted --inputs` over the guided corpus, and over the same
#    number of the generative campaign's first cases (`generate --raw`);
#  * cases executed by each.
#
#   scripts/guided-vs-generative.sh [TIME] [OUT] [SEED]
#   scripts/guided-vs-generative.sh 15m target/guided-vs-generative 11
#
# The target binary is the one scripts/oss-fuzz-local.sh builds (built here when absent).
# ANALYZE_ONLY=1 skips the two campaigns and measures what OUT already holds.
set -euo pipefail
cd "$(dirname "$0")/.."
TIME=${1:-15m}
OUT=$(realpath -m "${2:-target/guided-vs-generative}")
SEED=${3:-11}
BACKENDS=revm,evm,levm
BIN=$PWD/target/oss-fuzz-local/out/differential
[ -x "$BIN" ] || scripts/oss-fuzz-local.sh 5 target/oss-fuzz-local >/dev/null
cargo build --release --bin evmdiff -q
EVMDIFF=$PWD/target/release/evmdiff
if [ -z "${ANALYZE_ONLY:-}" ]; then
rm -rf "$OUT" && mkdir -p "$OUT"
echo "== both for $TIME, at once, one core each"
"$EVMDIFF" fuzz --backends "$BACKENDS" --jobs 1 --time "$TIME" --seed "$SEED" --out "$OUT/generative" \
  --stats-json "$OUT/generative.stats.json" >"$OUT/generative.txt" 2>&1 &
gen=$!
"$EVMDIFF" campaign --binary "$BIN" --backends "$BACKENDS" --jobs 1 --time "$TIME" --no-merge \
  --out "$OUT/guided" >"$OUT/guided.txt" 2>&1 || true
wait $gen || true
fi
gen_cases=$(grep -oE '^[0-9]+ cases' "$OUT/generative.txt" | grep -oE '[0-9]+' | tail -n 1)
gen_sigs=$(grep -oE '[0-9]+ unique signatures' "$OUT/generative.txt" | grep -oE '[0-9]+' | tail -n 1)
gen_new=$( (ls "$OUT"/generative/*.json 2>/dev/null || true) | grep -vcE 'campaign.json|stats.json' || true)
guided_execs=$(grep -oE '[0-9]+ execs' "$OUT/guided.txt" | grep -oE '[0-9]+' | head -n 1)
guided_corpus=$(ls "$OUT/guided/corpus" | wc -l)
guided_new=$( (ls "$OUT"/guided/findings/*.json 2>/dev/null || true) | wc -l)

echo "== the guided corpus replayed: its signatures, known ones included"
"$EVMDIFF" run --fuzz-target differential --backends "$BACKENDS" --format json "$OUT/guided/corpus" \
  2>/dev/null | python3 -c '
import json, sys
sigs = set()
for line in sys.stdin:
    line = line.strip()
    if line.startswith("{"):
        sigs.update(json.loads(line).get("signatures", []))
print(len(sigs))
for s in sorted(sigs):
    print("  " + s, file=sys.stderr)
' >"$OUT/guided.sigs" 2>"$OUT/guided.sigs.list" || true
guided_sigs=$(head -n 1 "$OUT/guided.sigs")

echo "== planted bugs over the guided corpus and over as many generative cases"
"$EVMDIFF" planted --inputs "$OUT/guided/corpus" --format json -o "$OUT/planted-guided.json" 2>/dev/null || true
rm -rf "$OUT/generative-first"
"$EVMDIFF" generate --seed "$SEED" --count "$guided_corpus" --raw --out "$OUT/generative-first" 2>/dev/null
"$EVMDIFF" planted --inputs "$OUT/generative-first" --format json -o "$OUT/planted-generative.json" 2>/dev/null || true
detected() {
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
b = [x for x in d["bugs"] if x["bug"] and x["applies"]]
missed = [x["bug"] for x in b if x["showing"] == 0]
print("%d/%d%s" % (len(b) - len(missed), len(b), " (missed: " + ", ".join(missed) + ")" if missed else ""))' "$1"
}

echo
echo "| $TIME, $BACKENDS, one core each | generative (evmdiff fuzz, seed $SEED) | coverage-guided (evmdiff campaign) |"
echo "|---|---|---|"
echo "| cases executed | $gen_cases | $guided_execs |"
echo "| unique divergence signatures (known included) | $gen_sigs | $guided_sigs (replaying its $guided_corpus-input corpus) |"
echo "| new findings (not on the shipped allowlist) | $gen_new | $guided_new |"
echo "| planted bugs seen in $guided_corpus cases | $(detected "$OUT/planted-generative.json") (its first $guided_corpus) | $(detected "$OUT/planted-guided.json") (its corpus) |"
