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
    chains = true   # it executes the chain form (execute_chain below)

A state test comes as `test` (execute); every other case, a chain of blocks, as `chain`
(execute_chain, docs/protocol.md "The chain form"): drop `chains = true` and `"chains": True`
in the hello to run state tests only. A chain's transaction whose `secretKey` is zero (a
BlockchainTest's, whose key is unknown) is refused here; ../pyevm_worker.py sends it as its
`sender`. The full py-evm worker (profiles, every fork, py-evm's
own block machinery) is ../pyevm_worker.py.
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
from eth.vm.forks.shanghai.withdrawals import Withdrawal
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

        def get_ancestor_hash(self, n):  # a chain's own hashes; in a state test keccak256
            if not 0 < self.block_number - n <= 256:  # of the decimal number, as revm and geth
                return b""
            return self.hashes.get(n, b"") if self.hashes is not None else keccak(str(n).encode())
    State.hashes = None
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

def context(env, hashes=None):
    """The block's environment, as py-evm's ExecutionContext."""
    return ExecutionContext(
        coinbase=addr(env["currentCoinbase"]), timestamp=num(env["currentTimestamp"]),
        block_number=num(env["currentNumber"]), gas_limit=num(env["currentGasLimit"]),
        difficulty=0, mix_hash=raw(env.get("currentRandom")).rjust(32, b"\0"), prev_hashes=(),
        chain_id=1, base_fee_per_gas=num(env.get("currentBaseFee")),
        excess_blob_gas=num(env.get("currentExcessBlobGas")))

def load(vm, env, pre):
    """A state over a fresh database holding `pre`, persisted; the accounts to list."""
    state = tracked(vm)(AtomicDB(), context(env), BLANK_ROOT_HASH)
    state.written = set()  # from here on: the post-state lists these slots
    for a, acc in pre.items():
        state.set_balance(addr(a), num(acc["balance"]))
        state.set_nonce(addr(a), num(acc["nonce"]))
        state.set_code(addr(a), raw(acc["code"]))
        for k, v in acc["storage"].items():
            state.set_storage(addr(a), num(k), num(v))
    state.persist()
    return state, {addr(a) for a in pre}

def run(vm, state, accounts, t, block_gas_left, blob_gas_left):
    """One transaction on `state`; the answer, without `id` and `stateRoot`."""
    try:  # invalid: unsigned, failing validation, over the block's gas or blob gas left
        tx = transaction(vm, t)  # (which py-evm checks on block import)
        if tx.gas > block_gas_left or get_total_blob_gas(tx) > blob_gas_left:
            raise ValidationError("over the block's gas or blob gas left")
        state.lock_changes()
        snapshot = state.snapshot()
        try:
            comp = state.apply_transaction(tx)
        except Exception:
            state.revert(snapshot)  # what an invalid transaction leaves: the state before it
            raise
    except (ValidationError, ValueError, ex.VMError) as e:  # VMError: initcode over EIP-3860
        return {"status": "rejected", "gasUsed": "0x0", "refund": "0x0", "output": "0x",
                "logs": [], "post": dump(state, accounts, state.written),
                "detail": f"{type(e).__name__}: {e}"}
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
        **({"halt": HALTS.get(type(comp.error), "other")} if status == "halt" else {}),
    }

def execute(fork, test):
    """Runs the state test on py-evm; returns the answer without `id`."""
    vm = FORKS[fork]
    state, accounts = load(vm, test["env"], test["pre"])
    answer = run(vm, state, accounts, test["transaction"], state.gas_limit, 786_432)
    if answer["status"] != "rejected":  # evmdiff checks `post` against the root
        answer["stateRoot"] = "0x" + state.make_state_root().hex()
    return answer

BEACON_ROOTS = addr("0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02")

def execute_chain(fork, chain):
    """Runs a chain on py-evm: one database carried from block to block, each block's
    transactions on the state the previous one left (an invalid one dropped), BLOCKHASH from
    the chain's `blockHashes`, the EIP-4788 beacon root written before the transactions (as
    py-evm's CancunVM writes it, when the contract has code), the withdrawals after them.
    Returns the answer without `id`: each transaction's result with the whole state after it,
    and each block's end."""
    vm, blocks, out = FORKS[fork], chain["blocks"], []
    if not blocks:
        return {"blocks": []}
    hashes = {num(n): raw(h) for n, h in chain["blockHashes"].items()}
    state, accounts = load(vm, blocks[0]["env"], chain["pre"])
    for block in blocks:
        env, written = block["env"], state.written
        state = tracked(vm)(state._db, context(env), state.state_root)  # the same database
        state.hashes, state.written = hashes, written
        accounts.add(state.coinbase)
        if fork == "Cancun" and state.get_code(BEACON_ROOTS):
            t, ring = num(env["currentTimestamp"]), 8191
            state.set_storage(BEACON_ROOTS, t % ring, t)
            state.set_storage(BEACON_ROOTS, t % ring + ring, num(env["parentBeaconBlockRoot"]))
        gas_used = blob_gas_used = 0
        txs = []
        for t in block["transactions"]:
            answer = run(vm, state, accounts, t, state.gas_limit - gas_used,
                         786_432 - blob_gas_used)
            if answer["status"] != "rejected":
                gas_used += num(answer["gasUsed"])
                blob_gas_used += len(t.get("blobVersionedHashes") or []) * 131_072
            txs.append(answer)
        withdrawals = [Withdrawal(num(w["index"]), num(w["validatorIndex"]), addr(w["address"]),
                                  num(w["amount"])) for w in block["withdrawals"] or []]
        for w in withdrawals:  # credited in gwei; an account left empty goes (EIP-161)
            state.apply_withdrawal(w)
        for a in {w.address for w in withdrawals}:
            if state.account_is_empty(a):
                state.delete_account(a)
        accounts |= {w.address for w in withdrawals}
        state.persist()
        out.append({"txs": txs, "end": {"post": dump(state, accounts, state.written),
                    "stateRoot": "0x" + state.state_root.hex(), "gasUsed": hex(gas_used)}})
    return {"blocks": out}

def main():
    send = lambda obj: print(json.dumps(obj), file=OUT, flush=True)  # noqa: E731
    send({"ready": True, "protocol": 1, "backend": "pyevm-template",
          "version": version("py-evm"), "steps": False, "chains": True})
    for line in filter(str.strip, sys.stdin):
        rid, started = None, time.perf_counter()
        try:  # a worker never dies on a request: an exception is a `failed` answer
            req = json.loads(line)
            rid = req["id"]
            profile = req.get("profile") is not None or req.get("nativeProfile")
            if profile or req["fork"] not in FORKS:
                answer = {"unsupported": f"mainnet rules of {', '.join(FORKS)} only"}
            else:
                answer = (execute_chain(req["fork"], req["chain"]) if "chain" in req
                          else execute(req["fork"], req["test"]))
                answer["elapsedUs"] = round((time.perf_counter() - started) * 1e6)
        except Exception:
            answer = {"failed": traceback.format_exc()}
        send({"id": rid, **answer})

if __name__ == "__main__":
    main()
