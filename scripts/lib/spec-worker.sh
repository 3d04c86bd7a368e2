# Sourced by the scripts that run the execution spec's worker with something around it
# (coverage, a planted bug): writes a backends file declaring that worker.
#
#   spec_worker FILE NAME DESCRIPTION SCRIPT TIMEOUT_SECS [KEY=VALUE ...]
#
# SCRIPT is the Python program that runs in the spec's environment ($PY) instead of
# adapters/workers/eels_worker.py; KEY=VALUE pairs join its environment.
spec_worker() {
  local file=$1 name=$2 description=$3 script=$4 timeout=$5
  shift 5
  local env='PYTHONUNBUFFERED = "1"' kv
  for kv in "$@"; do env+=", ${kv%%=*} = \"${kv#*=}\""; done
  cat >"$file" <<TOML
[[worker]]
name = "$name"
description = "$description"
version = "2.20.0"
command = ["$PY", "$PWD/$script"]
env = { $env }
steps = true
chains = true
timeout_secs = $timeout
forks = ["Frontier", "Homestead", "EIP150", "EIP158", "Byzantium", "ConstantinopleFix",
    "Istanbul", "Berlin", "London", "Paris", "Shanghai", "Cancun", "Prague", "Osaka"]
TOML
}
