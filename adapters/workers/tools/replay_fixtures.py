#!/usr/bin/env python3
"""Replays ethereum/tests GeneralStateTests through any evmdiff JSON-lines worker (EELS,
py-evm, ethereumjs: docs/backends.md, "External workers: the JSON-lines protocol").

    replay_fixtures.py [OPTIONS] WORKER_CMD... -- PATH...

    .external/eels/bin/python adapters/workers/tools/replay_fixtures.py --jobs 2 \
        .external/eels/bin/python adapters/workers/eels_worker.py -- \
        /work/shared/fixtures/ethereum-tests/GeneralStateTests/stExample

Every (fork, post index) of every fixture becomes one one-vector request (data, gas and value
picked by `indexes`, with the matching `accessLists` entry); the answer's `stateRoot` is
compared with `post[fork][i].hash` and keccak(rlp(logs)) with `post[fork][i].logs`. Every
response is checked against the protocol's shape, and (when the `ethereum` package is
importable, as in the EELS venv) the root recomputed from its `post` dump against its
`stateRoot`. Prints pass/fail counts per directory.

OPTIONS (before the worker command):
  --jobs N        worker processes in parallel (default 2)
  --fork F[,F..]  only these forks
  --timeout S     seconds per request before the worker is killed and restarted (default 120)
  --out FILE      write every non-pass as one JSON line
  --limit N       stop after N requests
  --no-rootcheck  do not recompute the root from the post dump
  --quiet         do not print each failure (unsupported vectors are only counted)
PATH is a fixture file or a folder (searched recursively for *.json).
"""

import json
import os
import queue
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import OrderedDict, defaultdict

# ---------------------------------------------------------------------------------------------
# keccak / rlp / state root (optional dependencies)
try:
    from Crypto.Hash import keccak as _ck  # pycryptodome

    def keccak(b):
        return _ck.new(digest_bits=256, data=b).digest()
except Exception:  # pragma: no cover
    try:
        from ethereum.crypto.hash import keccak256 as _k

        def keccak(b):
            return bytes(_k(b))
    except Exception:
        keccak = None


def rlp(item):
    if isinstance(item, (bytes, bytearray)):
        b = bytes(item)
        if len(b) == 1 and b[0] < 0x80:
            return b
        return _rlp_len(len(b), 0x80) + b
    payload = b"".join(rlp(x) for x in item)
    return _rlp_len(len(payload), 0xC0) + payload


def _rlp_len(n, offset):
    if n < 56:
        return bytes([offset + n])
    nb = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(nb)]) + nb


def unhex(s):
    h = str(s)
    if h.startswith(("0x", "0X")):
        h = h[2:]
    if len(h) % 2:
        h = "0" + h
    return bytes.fromhex(h)


def logs_hash(logs):
    items = [[unhex(l["address"]), [unhex(t) for t in l["topics"]], unhex(l["data"])] for l in logs]
    return "0x" + keccak(rlp(items)).hex()


_root_from_post = None
try:
    from ethereum_types.numeric import U256, Uint
    from ethereum.forks.prague import state as _st
    from ethereum.forks.prague.fork_types import Account as _Account

    def _root_from_post(post):
        s = _st.State()
        for addr, acc in post.items():
            a = unhex(addr).rjust(20, b"\0")
            from ethereum_types.bytes import Bytes20, Bytes32

            a = Bytes20(a)
            _st.set_account(
                s,
                a,
                _Account(
                    nonce=Uint(int(acc["nonce"], 16)),
                    balance=U256(int(acc["balance"], 16)),
                    code=unhex(acc["code"]),
                ),
            )
            for k, v in acc.get("storage", {}).items():
                _st.set_storage(s, a, Bytes32(unhex(k).rjust(32, b"\0")), U256(int(v, 16)))
        return "0x" + bytes(_st.state_root(s)).hex()
except Exception:  # pragma: no cover
    _root_from_post = None

# ---------------------------------------------------------------------------------------------
# protocol shape
HALTS = {
    "out-of-gas", "invalid-opcode", "stack-underflow", "stack-overflow", "invalid-jump",
    "static-violation", "return-data-out-of-bounds", "precompile-failure", "create-collision",
    "code-size-limit", "invalid-code-prefix", "call-too-deep", "nonce-overflow", "other",
}
MIN_HEX = re.compile(r"^0x(0|[1-9a-f][0-9a-f]*)$")
BYTES_HEX = re.compile(r"^0x([0-9a-f]{2})*$")
ADDR = re.compile(r"^0x[0-9a-f]{40}$")
WORD = re.compile(r"^0x[0-9a-f]{64}$")


def shape_errors(resp, rid):
    """Protocol violations of one response, as a list of strings."""
    errs = []
    if not isinstance(resp, dict):
        return ["response is not an object"]
    if resp.get("id") != rid:
        errs.append(f"id {resp.get('id')!r} != {rid!r}")
    kinds = [k for k in ("status", "unsupported", "failed") if k in resp]
    if len(kinds) != 1:
        return errs + [f"needs exactly one of status/unsupported/failed, has {kinds}"]
    if kinds[0] != "status":
        if not isinstance(resp[kinds[0]], str):
            errs.append(f"{kinds[0]} is not a string")
        return errs
    st = resp["status"]
    if st not in ("success", "revert", "halt", "rejected"):
        errs.append(f"bad status {st!r}")
    if st == "halt":
        if resp.get("halt") not in HALTS:
            errs.append(f"bad halt class {resp.get('halt')!r}")
    elif "halt" in resp:
        errs.append("halt class on a non-halt status")
    for k in ("gasUsed", "refund"):
        if not isinstance(resp.get(k), str) or not MIN_HEX.match(resp[k]):
            errs.append(f"{k} not minimal hex: {resp.get(k)!r}")
    if st == "rejected" and (resp.get("gasUsed") != "0x0" or resp.get("refund") != "0x0"):
        errs.append("rejected with gasUsed/refund not 0x0")
    if not isinstance(resp.get("output"), str) or not BYTES_HEX.match(resp["output"]):
        errs.append(f"output not bytes hex: {str(resp.get('output'))[:40]!r}")
    if st == "halt" and resp.get("output") not in ("0x", None):
        errs.append("output on a halt")
    logs = resp.get("logs")
    if not isinstance(logs, list):
        errs.append("logs not a list")
    else:
        if st != "success" and logs:
            errs.append("logs on a non-success status")
        for l in logs:
            if not (isinstance(l, dict) and isinstance(l.get("address"), str)
                    and ADDR.match(l["address"]) and isinstance(l.get("topics"), list)
                    and all(isinstance(t, str) and WORD.match(t) for t in l["topics"])
                    and isinstance(l.get("data"), str) and BYTES_HEX.match(l["data"])):
                errs.append(f"bad log {str(l)[:80]}")
                break
    post = resp.get("post")
    if not isinstance(post, dict):
        errs.append("post not an object")
    else:
        for a, acc in post.items():
            if not ADDR.match(a):
                errs.append(f"bad post address {a!r}")
                break
            if not isinstance(acc, dict):
                errs.append(f"post[{a}] not an object")
                break
            bad = [k for k in ("balance", "nonce") if not (isinstance(acc.get(k), str) and MIN_HEX.match(acc[k]))]
            if bad:
                errs.append(f"post[{a}] {bad} not minimal hex")
                break
            if not (isinstance(acc.get("code"), str) and BYTES_HEX.match(acc["code"])):
                errs.append(f"post[{a}].code not bytes hex")
                break
            stor = acc.get("storage", {})
            if not isinstance(stor, dict):
                errs.append(f"post[{a}].storage not an object")
                break
            for k, v in stor.items():
                if not (isinstance(k, str) and k.startswith("0x") and isinstance(v, str) and MIN_HEX.match(v)):
                    errs.append(f"post[{a}].storage entry {k!r}: {v!r}")
                    break
                if v == "0x0":
                    errs.append(f"post[{a}].storage has a zero slot {k}")
                    break
    if not (isinstance(resp.get("stateRoot"), str) and WORD.match(resp["stateRoot"])):
        errs.append(f"stateRoot not a 32-byte hex: {resp.get('stateRoot')!r}")
    if "detail" in resp and not isinstance(resp["detail"], str):
        errs.append("detail not a string")
    return errs


# ---------------------------------------------------------------------------------------------
# fixtures -> requests
def fixture_files(p):
    if os.path.isfile(p):
        return [p] if p.endswith(".json") else []
    out = []
    for root, dirs, files in os.walk(p):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(".json"):
                out.append(os.path.join(root, f))
    return out


def vectors(path, forks):
    """(key, fork, index, one-vector test body, expected hash, expected logs) of a file."""
    with open(path) as f:
        doc = json.load(f)
    for key, t in doc.items():
        if not isinstance(t, dict) or "post" not in t or "transaction" not in t:
            continue
        tx = t["transaction"]
        for fork, entries in t["post"].items():
            if forks and fork not in forks:
                continue
            for i, e in enumerate(entries):
                ix = e.get("indexes", {})
                d, g, v = ix.get("data", 0), ix.get("gas", 0), ix.get("value", 0)
                one = OrderedDict()
                for k, val in tx.items():
                    if k == "data":
                        one[k] = [val[d]]
                    elif k == "gasLimit":
                        one[k] = [val[g]]
                    elif k == "value":
                        one[k] = [val[v]]
                    elif k == "accessLists":
                        if d < len(val) and val[d] is not None:
                            one[k] = [val[d]]
                    else:
                        one[k] = val
                if "to" not in one or one["to"] is None:
                    one["to"] = ""
                post_entry = {"indexes": {"data": 0, "gas": 0, "value": 0}}
                for k in ("hash", "logs"):
                    if k in e:
                        post_entry[k] = e[k]
                body = {
                    "env": t["env"],
                    "pre": t["pre"],
                    "transaction": one,
                    "post": {fork: [post_entry]},
                }
                if "config" in t:
                    body["config"] = t["config"]
                yield key, fork, i, body, e.get("hash"), e.get("logs"), e.get("expectException")


# ---------------------------------------------------------------------------------------------
# workers
class Worker:
    def __init__(self, cmd):
        self.cmd = cmd
        self.proc = None
        self.lines = None
        self.stderr_tail = []
        self.start()

    def start(self):
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, bufsize=1, env=env,
        )
        self.lines = queue.Queue()
        proc, q = self.proc, self.lines

        def rd():
            for line in proc.stdout:
                q.put(line)
            q.put(None)

        def er():
            for line in proc.stderr:
                self.stderr_tail.append(line)
                del self.stderr_tail[:-20]

        threading.Thread(target=rd, daemon=True).start()
        threading.Thread(target=er, daemon=True).start()
        hello = q.get(timeout=120)
        if hello is None:
            raise RuntimeError("worker died before hello: " + "".join(self.stderr_tail))
        h = json.loads(hello)
        if h.get("ready") is not True or not isinstance(h.get("backend"), str) or not isinstance(h.get("version"), str):
            raise RuntimeError(f"bad hello line {hello!r}")
        self.hello = h

    def request(self, req, timeout):
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            self.start()
            return None, "timeout"
        if line is None:
            tail = "".join(self.stderr_tail[-5:])
            self.kill()
            self.start()
            return None, "worker died: " + tail
        return line, None

    def kill(self):
        try:
            self.proc.kill()
            self.proc.wait(timeout=5)
        except Exception:
            pass

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except Exception:
            self.kill()


def main(argv):
    jobs, forks, timeout, out, limit, rootcheck, quiet = 2, None, 120.0, None, None, True, False
    i = 0
    while i < len(argv) and argv[i].startswith("--") and argv[i] != "--":
        a = argv[i]
        if a == "--jobs":
            jobs = int(argv[i + 1]); i += 2
        elif a == "--fork":
            forks = set(argv[i + 1].split(",")); i += 2
        elif a == "--timeout":
            timeout = float(argv[i + 1]); i += 2
        elif a == "--out":
            out = argv[i + 1]; i += 2
        elif a == "--limit":
            limit = int(argv[i + 1]); i += 2
        elif a == "--no-rootcheck":
            rootcheck = False; i += 1
        elif a == "--quiet":
            quiet = True; i += 1
        else:
            sys.exit(f"unknown option {a}\n{__doc__}")
    rest = argv[i:]
    if "--" not in rest:
        sys.exit(__doc__)
    sep = rest.index("--")
    cmd, paths = rest[:sep], rest[sep + 1:]
    if not cmd or not paths:
        sys.exit(__doc__)
    if keccak is None:
        print("note: no keccak available, logs hashes not checked", file=sys.stderr)
    if _root_from_post is None and rootcheck:
        print("note: `ethereum` not importable, post dump not checked against stateRoot", file=sys.stderr)
        rootcheck = False

    files = [f for p in paths for f in fixture_files(p)]
    common = os.path.commonpath([os.path.dirname(os.path.abspath(f)) for f in files]) if files else ""
    if os.path.basename(common) != "GeneralStateTests" and os.path.dirname(common):
        common = os.path.dirname(common)

    def job_iter():
        n = 0
        for f in files:
            rel_dir = os.path.relpath(os.path.dirname(os.path.abspath(f)), common)
            try:
                for vec in vectors(f, forks):
                    yield f, rel_dir, vec
                    n += 1
                    if limit is not None and n >= limit:
                        return
            except Exception as e:
                yield f, rel_dir, ("<unreadable>", "-", 0, None, None, None, repr(e))

    lock = threading.Lock()
    it = job_iter()
    counts = defaultdict(lambda: defaultdict(int))
    latencies = []
    outf = open(out, "w") if out else None
    next_id = [0]
    t0 = time.time()

    def record(rel_dir, verdict, info):
        counts[rel_dir][verdict] += 1
        if verdict != "pass":
            if outf:
                outf.write(json.dumps(info) + "\n")
                outf.flush()
            if not quiet and verdict != "unsupported":
                print(f"{verdict}: {info.get('file')} {info.get('key')} {info.get('fork')}[{info.get('index')}] "
                      f"{info.get('why', '')}"[:400], file=sys.stderr, flush=True)

    def run_worker():
        w = Worker(cmd)
        while True:
            with lock:
                try:
                    f, rel_dir, vec = next(it)
                except StopIteration:
                    break
                next_id[0] += 1
                rid = next_id[0]
            key, fork, index, body, want_hash, want_logs, expect_exc = vec
            info = {"file": f, "key": key, "fork": fork, "index": index}
            if body is None:
                with lock:
                    record(rel_dir, "error", dict(info, why=f"unreadable fixture: {expect_exc}"))
                continue
            req = {"id": rid, "fork": fork, "test": body, "profile": None}
            t = time.perf_counter()
            line, err = w.request(req, timeout)
            dt = time.perf_counter() - t
            if err is not None:
                with lock:
                    record(rel_dir, "error", dict(info, why=err))
                continue
            try:
                resp = json.loads(line)
            except Exception:
                with lock:
                    record(rel_dir, "shape", dict(info, why=f"not JSON: {line[:200]!r}"))
                continue
            errs = shape_errors(resp, rid)
            verdict, why = "pass", ""
            if errs:
                verdict, why = "shape", "; ".join(errs)
            elif "unsupported" in resp:
                verdict, why = "unsupported", resp["unsupported"][:200]
            elif "failed" in resp:
                verdict, why = "failed", resp["failed"][-1500:]
            else:
                bad = []
                if want_hash is not None and resp["stateRoot"] != want_hash.lower():
                    bad.append(f"stateRoot {resp['stateRoot']} != {want_hash}")
                if want_logs is not None and keccak is not None:
                    lh = logs_hash(resp["logs"])
                    if lh != want_logs.lower():
                        bad.append(f"logs {lh} != {want_logs}")
                if expect_exc and resp["status"] != "rejected":
                    bad.append(f"expected exception {expect_exc}, got {resp['status']}")
                if rootcheck:
                    try:
                        r = _root_from_post(resp["post"])
                        if r != resp["stateRoot"]:
                            bad.append(f"post dump root {r} != stateRoot {resp['stateRoot']}")
                    except Exception as e:
                        bad.append(f"post dump unusable: {e!r}")
                if bad:
                    verdict = "fail"
                    why = "; ".join(bad) + f" [status {resp['status']}{'/' + resp['halt'] if 'halt' in resp else ''}, gasUsed {resp['gasUsed']}, {resp.get('detail', '')[:120]}]"
            with lock:
                latencies.append(dt)
                record(rel_dir, verdict, dict(info, why=why, status=resp.get("status")))
        w.close()

    stop = threading.Event()

    def guarded():
        try:
            run_worker()
        except Exception as e:  # a worker that cannot even start
            print(f"worker thread: {e!r}", file=sys.stderr)

    threads = [threading.Thread(target=guarded, daemon=True) for _ in range(max(1, jobs))]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.5)
    except KeyboardInterrupt:
        # Ctrl-C / SIGINT: report what ran so far.
        stop.set()
        print("interrupted: partial counts", file=sys.stderr)
    if outf:
        outf.close()

    verdicts = ["pass", "fail", "shape", "failed", "unsupported", "error"]
    total = defaultdict(int)
    print(f"{'directory':<55} " + " ".join(f"{v:>11}" for v in verdicts))
    for d in sorted(counts):
        print(f"{d:<55} " + " ".join(f"{counts[d][v]:>11}" for v in verdicts))
        for v in verdicts:
            total[v] += counts[d][v]
    print(f"{'TOTAL':<55} " + " ".join(f"{total[v]:>11}" for v in verdicts))
    n = sum(total.values())
    ran = n - total["unsupported"]
    if n:
        print(f"pass rate {total['pass']}/{ran} of the supported vectors "
              f"({100.0 * total['pass'] / max(1, ran):.2f}%), {total['unsupported']} unsupported; "
              f"{time.time() - t0:.1f} s wall, median round trip "
              f"{statistics.median(latencies) * 1000 if latencies else 0:.1f} ms")
    return 0 if total["pass"] == ran else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
