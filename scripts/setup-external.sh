#!/usr/bin/env bash
# Installs the external backends' runtimes, at pinned versions, into the git-ignored folder
# .external/ (one venv or node_modules per backend). Idempotent: a runtime already installed
# at the pinned version is kept. Needs python3 (>= 3.11, with venv) and node (>= 20) + npm.
#
#   scripts/setup-external.sh            # all of them
#   scripts/setup-external.sh eels       # only some: eels, pyevm, ethereumjs, chromium
#
# chromium (Debian's package, for the report page's test) comes from apt-get, so it needs
# root; elsewhere the script says how to install it and goes on.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
EXT=$ROOT/.external
mkdir -p "$EXT"

EELS_VERSION=2.20.0
PYEVM_VERSION=0.12.1b1
COINCURVE_VERSION=21.0.0

targets=("$@")
selected() { [ ${#targets[@]} -eq 0 ] || [[ " ${targets[*]} " == *" $1 "* ]]; }

venv() { # venv DIR PACKAGES...
  local dir=$1; shift
  if [ ! -x "$dir/bin/python" ]; then
    python3 -m venv "$dir"
  fi
  "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
}

if selected eels; then
  echo "== eels: ethereum-execution==$EELS_VERSION into .external/eels"
  venv "$EXT/eels" "ethereum-execution==$EELS_VERSION"
  "$EXT/eels/bin/python" -c "import ethereum, importlib.metadata as m; print('   ethereum-execution', m.version('ethereum-execution'))"
fi

if selected pyevm; then
  echo "== pyevm: py-evm==$PYEVM_VERSION + coincurve==$COINCURVE_VERSION into .external/pyevm"
  venv "$EXT/pyevm" "py-evm==$PYEVM_VERSION" "coincurve==$COINCURVE_VERSION"
  "$EXT/pyevm/bin/python" -c "import eth, importlib.metadata as m; print('   py-evm', m.version('py-evm'))"
fi

if selected ethereumjs; then
  echo "== ethereumjs: @ethereumjs/vm 10.1.3 (adapters/workers/ethereumjs/package-lock.json) into .external/ethereumjs"
  mkdir -p "$EXT/ethereumjs"
  cp adapters/workers/ethereumjs/package.json "$EXT/ethereumjs/"
  [ -f adapters/workers/ethereumjs/package-lock.json ] && cp adapters/workers/ethereumjs/package-lock.json "$EXT/ethereumjs/"
  if [ -f "$EXT/ethereumjs/package-lock.json" ]; then
    (cd "$EXT/ethereumjs" && npm ci --silent --no-audit --no-fund)
  else
    (cd "$EXT/ethereumjs" && npm install --silent --no-audit --no-fund)
  fi
  # Node resolves imports from the worker script's own folder: link the modules next to it.
  ln -sfn "$EXT/ethereumjs/node_modules" adapters/workers/ethereumjs/node_modules
  node -e "console.log('   @ethereumjs/vm', require('$EXT/ethereumjs/node_modules/@ethereumjs/vm/package.json').version)"
fi
if selected chromium; then
  echo "== chromium (Debian's package): renders the report page in tests/report_page.rs"
  if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
    echo "   $( (chromium --version || chromium-browser --version) 2>/dev/null | head -n 1)"
  elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
    echo "   $(chromium --version | head -n 1)"
  else
    echo "   not installed: run 'sudo apt-get install chromium' (or set CHROMIUM to a Chromium binary)"
  fi
fi
echo "== external runtimes ready in .external/"
