#!/usr/bin/env python3
"""A minimal evmdiff worker (JSON-lines protocol version 1, docs/protocol.md) on py-evm.

To plug in your own EVM, copy this file and replace `execute()` with a call into your EVM;
keep `main()` (hello line, one answer line per request in order, exceptions answered as
`failed`). Declare it in a backends file, then run `evmdiff --backends-file FILE`:

    [[worker]]
    name = "my-evm"
    command = ["/usr/bin/python3", "python_worker.py"]  # relative paths: from FILE's folder
    env = { PYTHONUNBUFFERED = "1" }
    forks = ["Shanghai", "Cancun"]
    rules = false   # mainnet only: it sits out profiles with rules, said before the first case
The full py-evm worker (profiles, every fork) is ../pyevm_worker.py.
"""
import json, sys, time, traceback
OUT, sys.stdout = sys.stdout, sys.stderr  # stdout carries protocol lines only

from importlib.metadata import version
from eth import exceptions as ex
from eth.constants import BLANK_ROOT_HASH, CREATE_CONTRACT_ADDRESS
from eth.db.atomic import AtomicDB
from eth.vm import forks
from eth.vm.execution_context import ExecutionContext
from eth.vm.forks.cancun.state import get_total_blob_gas
from eth_hash.auto import keccak
from eth_keys import keys
from eth_utils import ValidationError

# More forks: from London on, execute()'s refund (EIP-3529) holds; Prague adds EIP-7623.
FORKS = {"Shanghai": forks.ShanghaiVM, "Cancun": forks.CancunVM}
HALTS = {ex.OutOfGas: "out-of-gas", ex.InvalidInstruction: "invalid-opcode",
         ex.InsufficientStack: "stack-underflow", ex.FullStack: "stack-overflow",
         ex.InvalidJumpDestination: "invalid-jump", ex.WriteProtection: "static-violation"}
# The test's encodings: numbers in hex ("0x" is 0), bytes in hex, addresses of 20 bytes.
num = lambda v: int(v[2:] or "0", 16) if str(v).startswith("0x") else int(v or 0)  # noqa: E731
raw = lambda v: bytes.fromhex((v or "0x")[2:])  # noqa: E731
addr = lambda v: raw(v).rjust(20, b"\0")  # noqa: E731

def tracked(vm):
    """The fork's State, noting the slots written (the trie's keys are hashed, not listable)."""
    class State(vm.get_state_class()):
        def set_storage(self, address, slot, value):
            self.written.add((address, slot))
            return super().set_storage(address, slot, value)

        def get_ancestor_hash(self, n):  # keccak256 of the decimal number, as revm and geth
            return keccak(str(n).encode()) if 0 < self.block_number - n <= 256 else b""
    return State

def transaction(vm, t):
    """The signed transaction, typed by its fields (data, gasLimit, value: one element)."""
    if "authorizationList" in t:
        raise ValidationError("a set-code transaction (type 4) needs Prague")
    b, one = vm.get_transaction_builder(), lambda k: (t.get(k) or ["0x"])[0]
    to = addr(t["to"]) if t.get("to") else CREATE_CONTRACT_ADDRESS
    kw = dict(nonce=num(t.get("nonce")), gas=num(one("gasLimit")), to=to,
              value=num(one("value")), data=raw(one("data")))
    al = t["accessLists"][0] if t.get("accessLists") else t.get("accessList")
    access = tuple((addr(e["address"]), tuple(map(num, e["storageKeys"]))) for e in al or [])
    fees = dict(chain_id=1, access_list=access, max_fee_per_gas=num(t.get("maxFeePerGas")),
                max_priority_fee_per_gas=num(t.get("maxPriorityFeePerGas")))
    key = keys.PrivateKey(raw(t["secretKey"]))
    if "maxFeePerBlobGas" in t:
        u = b.new_unsigned_blob_transaction(**kw, **fees, max_fee_per_blob_gas=num(
            t["maxFeePerBlobGas"]), blob_versioned_hashes=list(map(raw, t["blobVersionedHashes"])))
    elif "maxFeePerGas" in t:
        u = b.new_unsigned_dynamic_fee_transaction(**kw, **fees)
    elif al is not None:
        u = b.new_unsigned_access_list_transaction(
            **kw, chain_id=1, gas_price=num(t.get("gasPrice")), access_list=access)
    else:  # legacy: signed without EIP-155, as the tests are
        u = b.create_unsigned_transaction(**kw, gas_price=num(t.get("gasPrice")))
        return u.as_signed_transaction(key)
    return u.as_signed_transaction(key, chain_id=1)

def dump(state, accounts, slots):
    """The protocol's `post`: the listed accounts that exist, with their nonzero listed slots."""
    return {"0x" + a.hex(): {
        "balance": hex(state.get_balance(a)), "nonce": hex(state.get_nonce(a)),
        "code": "0x" + state.get_code(a).hex(),
        "storage": {hex(s): hex(v) for (b, s) in sorted(slots) if b == a
                    for v in [state.get_storage(a, s)] if v}}
        for a in sorted(accounts) if state.account_exists(a)}

def execute(fork, test):
    """Runs the case on py-evm; returns the answer without `id`."""
    vm, env = FORKS[fork], test["env"]
    state = tracked(vm)(AtomicDB(), ExecutionContext(
        coinbase=addr(env["currentCoinbase"]), timestamp=num(env["currentTimestamp"]),
        block_number=num(env["currentNumber"]), gas_limit=num(env["currentGasLimit"]),
        difficulty=0, mix_hash=raw(env.get("currentRandom")).rjust(32, b"\0"), prev_hashes=(),
        chain_id=1, base_fee_per_gas=num(env.get("currentBaseFee")),
        excess_blob_gas=num(env.get("currentExcessBlobGas"))), BLANK_ROOT_HASH)
    state.written = set()  # from here on: the post-state lists these slots
    for a, acc in test["pre"].items():
        state.set_balance(addr(a), num(acc["balance"]))
        state.set_nonce(addr(a), num(acc["nonce"]))
        state.set_code(addr(a), raw(acc["code"]))
        for k, v in acc["storage"].items():
            state.set_storage(addr(a), num(k), num(v))
    state.persist()
    accounts = {addr(a) for a in test["pre"]}
    pre = dump(state, accounts, state.written)  # what an invalid transaction leaves
    try:  # invalid: unsigned, failing validation, over the block's gas or blob gas limit
        tx = transaction(vm, test["transaction"])  # (which py-evm checks on block import)
        if tx.gas > state.gas_limit or get_total_blob_gas(tx) > 786_432:  # Cancun's max
            raise ValidationError("over the block's gas or blob gas limit")
        comp = state.apply_transaction(tx)
    except (ValidationError, ValueError, ex.VMError) as e:  # VMError: initcode over EIP-3860
        return {"status": "rejected", "gasUsed": "0x0", "refund": "0x0", "output": "0x",
                "logs": [], "post": pre, "detail": f"{type(e).__name__}: {e}"}
    used = tx.gas - comp.get_gas_remaining()
    refund = min(comp.get_gas_refund(), used // 5)  # as py-evm's executor applies it
    ok, reverted = comp.is_success, not comp.is_success and isinstance(comp.error, ex.Revert)
    status = "success" if ok else "revert" if reverted else "halt"
    accounts |= state._account_db._accessed_accounts | {a for a, _ in state.written}  # + loaded
    accounts |= {tx.sender, state.coinbase} | ({tx.to} if tx.to else set())
    return {
        "status": status, "gasUsed": hex(used - refund), "refund": hex(refund),
        "output": "0x" + (comp.output if ok or reverted else b"").hex(),
        "logs": [{"address": "0x" + a.hex(), "topics": ["0x%064x" % t for t in topics],
                  "data": "0x" + d.hex()} for a, topics, d in comp.get_log_entries()],
        "post": dump(state, accounts, state.written),
        "stateRoot": "0x" + state.make_state_root().hex(),  # evmdiff checks `post` against it
        **({"halt": HALTS.get(type(comp.error), "other")} if status == "halt" else {}),
    }

def main():
    send = lambda obj: print(json.dumps(obj), file=OUT, flush=True)  # noqa: E731
    send({"ready": True, "protocol": 1, "backend": "pyevm-template",
          "version": version("py-evm"), "steps": False})
    for line in filter(str.strip, sys.stdin):
        rid, started = None, time.perf_counter()
        try:  # a worker never dies on a request: an exception is a `failed` answer
            req = json.loads(line)
            rid = req["id"]
            profile = req.get("profile") is not None or req.get("nativeProfile")
            if profile or req["fork"] not in FORKS:
                answer = {"unsupported": f"mainnet rules of {', '.join(FORKS)} only"}
            else:
                answer = execute(req["fork"], req["test"])
                answer["elapsedUs"] = round((time.perf_counter() - started) * 1e6)
        except Exception:
            answer = {"failed": traceback.format_exc()}
        send({"id": rid, **answer})

if __name__ == "__main__":
    main()
