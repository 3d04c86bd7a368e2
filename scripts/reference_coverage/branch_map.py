"""The branch map of the execution spec for one fork, from coverage.py data files: per module
group (instructions, gas, precompiles, interpreter, message calls and transactions), the
branches the cases took, and the branches never taken in the instruction and precompile
modules, with their source line.

Usage: branch_map.py FORK OUT_DIR AT
OUT_DIR holds what cover_worker.py saved (`coverage.*`); AT lists the case counts of the
trend (`500,1000,2000`). The data of the first N requests is put together from every worker
process that served them. Writes OUT_DIR/branch-map.md and OUT_DIR/branch-map.json.
"""

import json
import os
import sys

import coverage

GROUPS = [
    ("instructions", "vm/instructions/"),
    ("precompiles", "vm/precompiled_contracts/"),
    ("gas", "vm/gas.py"),
    ("interpreter", "vm/interpreter.py"),
    ("memory and stack", ("vm/memory.py", "vm/stack.py", "vm/runtime.py")),
    ("messages and transactions", ("fork.py", "utils/message.py", "transactions.py", "vm/__init__.py")),
    ("state", "state.py"),
]


def group_of(rel):
    for name, pats in GROUPS:
        pats = (pats,) if isinstance(pats, str) else pats
        for p in pats:
            if rel.startswith(p) if p.endswith("/") else rel == p:
                return name
    return None


def analyse(fork, data_file, scratch):
    """Per group: branches and branches taken; and the untaken ones of the instruction and
    precompile modules. Read through coverage's JSON report (its public form); files of the
    fork the cases never imported are reported with all their branches untaken."""
    cov = coverage.Coverage(data_file=data_file, branch=True)
    cov.load()
    out = os.path.join(scratch, "report.json")
    cov.json_report(outfile=out, include=[f"*/ethereum/forks/{fork}/*"], ignore_errors=True)
    report = json.load(open(out, encoding="utf-8"))
    per_group = {}
    untaken = []
    marker = f"/ethereum/forks/{fork}/"
    for path, data in sorted(report["files"].items()):
        if marker not in path:
            continue
        rel = path.split(marker, 1)[1]
        group = group_of(rel)
        if group is None:
            continue
        summary = data["summary"]
        g = per_group.setdefault(group, {"branches": 0, "taken": 0, "files": 0})
        g["branches"] += summary["num_branches"]
        g["taken"] += summary["covered_branches"]
        g["files"] += 1
        if group in ("instructions", "precompiles"):
            lines = open(path, encoding="utf-8").read().splitlines()
            for src, dst in data.get("missing_branches", []):
                text = lines[src - 1].strip() if 0 < src <= len(lines) else ""
                where = f"line {dst}" if dst > 0 else "the function's exit"
                untaken.append({"file": rel, "line": src, "to": where, "source": text})
    return per_group, untaken


def data_after(out_dir, n):
    """A data file of the first `n` requests: every process that ended before request `n`
    (its last save) and the copy the process serving request `n` kept; None when no process
    reached `n`."""
    base = os.path.join(out_dir, "coverage")
    starts = []
    with open(f"{base}.processes", encoding="utf-8") as f:
        for line in f:
            pid, start = line.split()
            starts.append((int(start), pid))
    starts.sort()
    parts = []
    reached = False
    for i, (start, pid) in enumerate(starts):
        if start >= n:
            break
        ends = starts[i + 1][0] if i + 1 < len(starts) else None
        if ends is not None and ends <= n:
            parts.append(f"{base}.{pid}")
        elif os.path.exists(f"{base}.at-{n}.{pid}"):
            parts.append(f"{base}.at-{n}.{pid}")
            reached = True
    if not reached:
        return None
    combined = coverage.CoverageData(basename=os.path.join(out_dir, f"combined-{n}"))
    for p in parts:
        if os.path.exists(p):
            d = coverage.CoverageData(basename=p)
            d.read()
            combined.update(d)
    combined.write()
    return combined.data_filename()


def main():
    fork, out_dir, at = sys.argv[1], sys.argv[2], sys.argv[3]
    trend = []
    last = None
    for n in sorted(int(x) for x in at.split(",") if x):
        f = data_after(out_dir, n)
        if f is None:
            print(f"no worker reached {n} cases", file=sys.stderr)
            continue
        per_group, untaken = analyse(fork, f, out_dir)
        trend.append((n, per_group))
        last = (n, per_group, untaken)
    if last is None:
        sys.exit("branch_map: no coverage data")
    names = [g for g, _ in GROUPS]
    md = [f"# Branch map of the execution spec ({fork})", ""]
    md.append("Branches taken / branches, per module group, after N cases:")
    md.append("")
    md.append("| group | " + " | ".join(f"{label:,} cases" for label, _ in trend) + " |")
    md.append("|---|" + "---|" * len(trend))
    for g in names:
        cells = []
        for _, per in trend:
            x = per.get(g)
            cells.append(
                f"{x['taken']}/{x['branches']} ({100 * x['taken'] / max(x['branches'], 1):.1f}%)"
                if x
                else "not loaded"
            )
        md.append(f"| {g} | " + " | ".join(cells) + " |")
    label, per, untaken = last
    md += ["", f"Branches never taken in the instruction and precompile modules ({label:,} cases): {len(untaken)}", ""]
    for u in untaken:
        md.append(f"- `{u['file']}:{u['line']}` → {u['to']}: `{u['source']}`")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "branch-map.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(out_dir, "branch-map.json"), "w", encoding="utf-8") as f:
        json.dump({"fork": fork, "trend": trend, "untaken": untaken}, f, indent=1)
    print("\n".join(md[: 6 + len(names)]))
    print(f"\nuntaken in instructions and precompiles: {len(untaken)} (list in {out_dir}/branch-map.md)")


if __name__ == "__main__":
    main()
