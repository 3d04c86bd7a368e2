"""The execution spec's worker with one planted bug (EVMDIFF_PLANTED, a name from
mutants.py) in the modules of EVMDIFF_PLANTED_FORK (e.g. `cancun`); without
EVMDIFF_PLANTED, the plain worker: the benchmark's control."""

import os
import runpy
import sys

sys.path.insert(0, os.path.dirname(__file__))
import mutants  # noqa: E402

WORKER = os.path.join(os.path.dirname(__file__), "..", "..", "adapters", "workers", "eels_worker.py")

name = os.environ.get("EVMDIFF_PLANTED")
if name:
    mutants.apply(name, os.environ.get("EVMDIFF_PLANTED_FORK", "cancun"))
runpy.run_path(WORKER, run_name="__main__")
