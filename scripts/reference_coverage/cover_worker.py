"""The execution spec's worker (adapters/workers/eels_worker.py) under coverage.py in branch
mode: the reference's branch map of the cases evmdiff sends it.

Measures the modules of one fork (EVMDIFF_COVERAGE_FORK, e.g. `cancun`). A campaign may
replace its worker (after a hang), so each process keeps its own data, `<DATA>.<pid>`, saved
every 50 requests, and the requests are counted across processes in `<DATA>.count` (one
worker at a time: the campaign runs with --jobs 1). When the count reaches a number listed in
EVMDIFF_COVERAGE_AT (`500,1000,2000`), the process keeps a copy, `<DATA>.at-500.<pid>`;
`<DATA>.processes` records where each process started, so branch_map.py can put together the
data of the first N requests from every process that served them.
"""

import os
import runpy
import shutil
import sys

import coverage

FORK = os.environ["EVMDIFF_COVERAGE_FORK"]
DATA = os.environ["EVMDIFF_COVERAGE_DATA"]
AT = {int(x) for x in os.environ.get("EVMDIFF_COVERAGE_AT", "").split(",") if x}
WORKER = os.path.join(os.path.dirname(__file__), "..", "..", "adapters", "workers", "eels_worker.py")
PID = os.getpid()
MINE = f"{DATA}.{PID}"

cov = coverage.Coverage(branch=True, data_file=MINE, source_pkgs=[f"ethereum.forks.{FORK}"])


def count():
    try:
        with open(f"{DATA}.count", encoding="utf-8") as f:
            return int(f.read().strip() or 0)
    except FileNotFoundError:
        return 0


def set_count(n):
    with open(f"{DATA}.count.tmp", "w", encoding="utf-8") as f:
        f.write(str(n))
    os.replace(f"{DATA}.count.tmp", f"{DATA}.count")


def save(copy_to=None):
    cov.stop()
    cov.save()
    if copy_to:
        shutil.copyfile(MINE, copy_to)
    cov.start()


class CountingStdin:
    """stdin as the worker reads it: reading request k + 1 means k requests are answered."""

    def __init__(self, inner):
        self.inner = inner
        self.first = True

    def readline(self):
        if self.first:
            self.first = False
        else:
            n = count() + 1
            set_count(n)
            if n in AT:
                save(f"{DATA}.at-{n}.{PID}")
            elif n % 50 == 0:
                save()
        return self.inner.readline()

    def __getattr__(self, name):
        return getattr(self.inner, name)


with open(f"{DATA}.processes", "a", encoding="utf-8") as f:
    f.write(f"{PID} {count()}\n")
sys.stdin = CountingStdin(sys.stdin)
cov.start()
runpy.run_path(WORKER, run_name="__main__")
