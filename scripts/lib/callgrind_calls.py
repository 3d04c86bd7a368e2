"""Instructions per call of evmdiff's backends and oracle, read from a callgrind calling tree
(`callgrind_annotate --inclusive=yes --tree=calling`), for scripts/instructions.sh.

The tree is a list of blocks apart by blank lines: a caller ("N (P%)  *  file:function") and
its callees ("N (P%)  >   file:function (Kx)"), N the instructions spent in the callee on
behalf of that caller, K the calls.
"""

import re
import sys

CALLER = re.compile(r"^\s*[\d,]+ \([^)]*\)\s+\*\s+\S+?:(.*?)(?: \[.*\])?$")
CALLEE = re.compile(r"^\s*([\d,]+) \([^)]*\)\s+>\s+\S+?:(.*?) \(([\d,]+)x\)")


def calls(path):
    """(caller, callee, instructions, calls) for every edge of the tree."""
    edges = []
    for block in open(path).read().split("\n\n"):
        lines = block.strip("\n").split("\n")
        caller = CALLER.match(lines[0]) if lines else None
        if not caller:
            continue
        for line in lines[1:]:
            m = CALLEE.match(line)
            if m:
                number = lambda s: int(s.replace(",", ""))
                edges.append((caller.group(1), m.group(2), number(m.group(1)), number(m.group(3))))
    return edges


def per_call(edges, callee, caller=""):
    """Instructions per call of the functions matching `callee`, called by `caller`."""
    total = count = 0
    for who, name, instructions, n in edges:
        if re.search(callee, name) and re.search(caller, who):
            total, count = total + instructions, count + n
    return total / count if count else None


def main():
    edges = calls(sys.argv[1])
    # bench's own loops: each backend plain, and observed with the step hash alone (lockstep's
    # observed calls, which compare whole states, are left out).
    bench = r"evmdiff::commands::bench::"
    print(f"{'backend':<8} {'execute':>12} {'observed':>12} {'observed/plain':>15}")
    for backend in ["Revm", "Evm", "Levm"]:
        name = rf"<evmdiff_adapters::\w+::{backend}Backend as [\w:]+>::execute"
        plain = per_call(edges, name + "$", bench)
        observed = per_call(edges, name + "_observed$", bench)
        if plain and observed:
            print(f"{backend.lower():<8} {plain:>12,.0f} {observed:>12,.0f} {observed / plain:>15.2f}")
    plains = []
    for backend in ["Revm", "Evm", "Levm"]:
        name = rf"<evmdiff_adapters::\w+::{backend}Backend as [\w:]+>::execute$"
        plains.append(per_call(edges, name, bench))
    run = per_call(edges, r"evmdiff_oracle::oracle::Oracle::run_sealed$", r"fuzz_case")
    if run:
        print(f"the oracle's run of a case (every backend observed, localized): {run:,.0f}")
    made = per_call(edges, r"evmdiff_oracle::seal::campaign_case_run$", r"fuzz_case")
    if made:
        print(f"making a case (generated; a chain sealed, revm's run kept): {made:,.0f}")
    case = per_call(edges, r"evmdiff::commands::bench::fuzz_case$")
    if case and all(plains):
        bare = sum(plains)
        print(f"the pipeline's whole case (bench's fuzz_case): {case:,.0f}")
        print(f"the bare backends, combined: {bare:,.0f}; pipeline at {bare / case:.2f} of bare")
        floor = per_call(edges, r"evmdiff::commands::bench::outcomes_case$")
        if floor:
            print(f"outcomes only (no step observed, nothing localized: the floor): {floor:,.0f};"
                  f" at {bare / floor:.2f} of bare")


if __name__ == "__main__":
    main()
