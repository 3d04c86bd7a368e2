#!/usr/bin/env python3
"""evmdiff's py-evm worker: py-evm (0.12.1b1) behind the JSON-lines worker protocol
(docs/backends.md, "External workers: the JSON-lines protocol").

    PYTHONUNBUFFERED=1 .external/pyevm/bin/python adapters/workers/pyevm_worker.py

One request per stdin line, exactly one response line per request on stdout, in order.
stdout carries protocol lines only: everything py-evm (or anything else) prints goes to stderr.

How a request runs
------------------
No chain and no block: for every request the worker builds the fork's `State` directly over a
fresh in-memory `AtomicDB`, with an `ExecutionContext` made from `env` (coinbase, number,
timestamp, gasLimit, difficulty, mixHash = currentRandom, baseFee, excessBlobGas, chain id 1),
writes the pre-state and persists it, signs the transaction with `secretKey` through the fork's
transaction builder (type 3 if `maxFeePerBlobGas`, 4 if `authorizationList`, 2 if
`maxFeePerGas`, 1 if an access list is given, else legacy), checks it against the block gas
limit as `VM.apply_transaction` does, and runs `state.apply_transaction`. There are no block
rewards and no system calls (beacon roots, history), as in a state test. py-evm's own
`set_system_contracts` never inserts anything (its condition is a double negative), so the
state root is that of the plain pre-state.

Validation errors, signature/encoding errors of the transaction, the block's gas limit and
blob gas limit (which py-evm checks in `VM.apply_transaction` and `validate_block_blobs`), the
EIP-3860 initcode limit (py-evm raises it out of the transaction) and profile `reject`s make a
`rejected` answer whose post-state is the pre-state. A ValidationError raised after py-evm's
transaction validation and message construction passed (during execution) is an internal
error (`failed`), not a rejection.

Known py-evm 0.12.1b1 deviations this worker reports as they are (found replaying
ethereum/tests and against the EELS worker): no EIP-7610 (a creation onto an address with
storage only is not a collision), no EIP-3607 (a sender with code is accepted), modexp returns
0 for 0^0 mod m with an empty base, blob transactions: no check that value is covered with
the max fees, none of max priority fee <= max fee, creation (`to` empty) accepted; Prague: a
gas limit below the EIP-7623 floor is accepted (and the floor charged beyond the limit).

Chains (docs/protocol.md, "The chain form"): `run_chain` runs each block through py-evm's own
VM (`block_preprocessing`, `VM.apply_transaction` step by step, `_assign_block_rewards`,
`apply_all_withdrawals`) on one database carried from block to block, BLOCKHASH answering
from the request's hashes. A transaction whose key is unknown (zero) is signed with a stand-in
key and wrapped in py-evm's `SpoofTransaction` with its real sender. Frontier to Cancun: py-evm's
Prague block processing reads deposits back from its chain database and refuses no block whose
request contract lacks code, so a Prague chain is `unsupported`. py-evm writes the EIP-4788
root only when the contract's code is exactly the canonical one (its `block_preprocessing`).

BLOCKHASH in a state test: the request carries no block hashes. As the revm, EELS and ethereumjs adapters do,
the worker answers with the ethereum/tests filler convention: keccak256 of the block number in
decimal for the 256 previous blocks, zero otherwise.

Gas: `gasUsed` is what the sender pays for (py-evm's executor: gas used minus the refund it
applied plus the EIP-7623 floor top-up); `refund` is gas used before the refund minus gasUsed
(never below 0).

The post dump lists every account of the pre-state plus every account py-evm read or wrote
during the transaction (its account database logs each account it loads), that exists after
it; storage slots are the pre-state's plus every slot written, zero slots omitted.

Profiles
--------
Applied inside py-evm: for each (fork, profile) the worker derives, once, a subclass of the
fork's Computation with its own `opcodes` and `_precompiles` dicts, and a State subclass using
it (py-evm's warm set reads `computation_class.get_precompiles()`, so an `absent` precompile is
cold). Nothing is changed in place, so nothing can leak from one request to the next.
`keccak-chain-number` is an opcode object charging 20; a gas rule for an opcode is a copy of
py-evm's opcode object with the profile's `gas_cost` (its whole cost, charged before its
logic), for a precompile a wrapper that runs py-evm's precompile with all the gas it wants and
charges the figure; an added P256VERIFY runs this worker's own P-256 check (py-evm has none).
"""

import os
import sys

# Nothing but protocol lines on stdout: keep a private copy of the real stdout for the
# protocol and send every other write (Python-level or fd 1) to stderr, before importing.
sys.stdout.flush()
_PROTOCOL_OUT = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr

import copy  # noqa: E402
import json
import time  # noqa: E402
import logging  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402

logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
warnings.simplefilter("ignore", DeprecationWarning)

from eth_hash.auto import keccak  # noqa: E402
from eth_keys import keys  # noqa: E402
from eth_utils import ValidationError  # noqa: E402
import rlp  # noqa: E402

from eth.constants import BLANK_ROOT_HASH, CREATE_CONTRACT_ADDRESS  # noqa: E402
from eth.db.atomic import AtomicDB  # noqa: E402
from eth import exceptions as ex  # noqa: E402
from eth.vm.execution_context import ExecutionContext  # noqa: E402
from eth.vm.logic.invalid import InvalidOpcode  # noqa: E402
from eth.vm.opcode import as_opcode  # noqa: E402
from eth.vm import forks as F  # noqa: E402

try:
    from importlib.metadata import version as _pkg_version

    VERSION = _pkg_version("py-evm")
except Exception:  # pragma: no cover - metadata missing
    VERSION = "unknown"

try:  # coincurve makes signing/recovery ~8x faster; eth-keys picks it up when importable
    import coincurve  # noqa: F401
except Exception:  # pragma: no cover
    print("pyevm worker: coincurve missing, ECDSA is slow", file=sys.stderr)

# ethereum/tests fork name -> py-evm VM class.
FORKS = {
    "Frontier": F.FrontierVM,
    "Homestead": F.HomesteadVM,
    "EIP150": F.TangerineWhistleVM,
    "TangerineWhistle": F.TangerineWhistleVM,
    "EIP158": F.SpuriousDragonVM,
    "SpuriousDragon": F.SpuriousDragonVM,
    "Byzantium": F.ByzantiumVM,
    "Constantinople": F.ConstantinopleVM,
    "ConstantinopleFix": F.PetersburgVM,
    "Petersburg": F.PetersburgVM,
    "Istanbul": F.IstanbulVM,
    "Berlin": F.BerlinVM,
    "London": F.LondonVM,
    "Paris": F.ParisVM,
    "Merge": F.ParisVM,
    "Shanghai": F.ShanghaiVM,
    "Cancun": F.CancunVM,
    "Prague": F.PragueVM,
}
UNSUPPORTED_FORKS = {
    "Osaka": "py-evm 0.12.1b1 has no Osaka (its last fork is Prague)",
}
# The block's blob gas limit, which py-evm checks in `validate_block_blobs` (block import):
# a transaction over it can be in no valid block.
from eth.vm.forks.cancun.constants import MAX_BLOB_GAS_PER_BLOCK as _CANCUN_MAX_BLOB_GAS  # noqa: E402
from eth.vm.forks.cancun.state import get_total_blob_gas as _total_blob_gas  # noqa: E402
from eth.vm.forks.prague.constants import MAX_BLOB_GAS_PER_BLOCK as _PRAGUE_MAX_BLOB_GAS  # noqa: E402

MAX_BLOB_GAS = {"Cancun": _CANCUN_MAX_BLOB_GAS, "Prague": _PRAGUE_MAX_BLOB_GAS}
# Forks from which the block has these header fields.
_LONDON_ON = {"London", "Paris", "Merge", "Shanghai", "Cancun", "Prague"}
_CANCUN_ON = {"Cancun", "Prague"}

# core/src/profile.rs `constant_shape`: opcode -> (inputs popped, static gas).
CONSTANT_SHAPE = {}
for _op in (0x30, 0x32, 0x33, 0x34, 0x36, 0x38, 0x3A, 0x3D, 0x41, 0x42, 0x43, 0x44, 0x45,
            0x46, 0x48, 0x4A):
    CONSTANT_SHAPE[_op] = (0, 2)
CONSTANT_SHAPE[0x47] = (0, 5)
CONSTANT_SHAPE[0x40] = (1, 20)
CONSTANT_SHAPE[0x49] = (1, 3)

MODEXP = b"\x00" * 19 + b"\x05"
UINT256 = 2**256


class ProfileReject(Exception):
    """A profile refused the transaction. Deliberately not a `VMError`, so that no frame of
    py-evm swallows it on its way out of `apply_transaction`."""


class ProfileHalt(ex.VMError):
    """A precompile halted by a profile rule (burns the forwarded gas, like any VMError)."""


class Unsupported(Exception):
    pass


class Rejected(Exception):
    """The transaction is invalid (could not be built, signed or validated)."""


# -- helpers ----------------------------------------------------------------------------------
def _int(v, default=0):
    if v is None or v == "":
        return default
    if isinstance(v, int):
        return v
    s = str(v).strip()
    if s.startswith("0x:bigint "):  # ethereum/tests syntax for a value over 256 bits
        s = s[len("0x:bigint "):].strip()
    if s.lower().startswith("0x"):
        return int(s, 16) if len(s) > 2 else 0
    return int(s)


def _bytes(v):
    if v is None:
        return b""
    s = str(v)
    if s.lower().startswith("0x"):
        s = s[2:]
    if s.startswith(":raw "):  # pragma: no cover - filler syntax, not in fixtures
        s = s[5:]
    if len(s) % 2:
        s = "0" + s
    return bytes.fromhex(s)


def _addr(v):
    b = _bytes(v)
    if len(b) > 20:
        raise ValueError(f"address too long: {v!r}")
    return b.rjust(20, b"\x00")


def _hex(n):
    return hex(int(n))


def _hexb(b):
    return "0x" + bytes(b).hex()


def _slot(n):
    """A storage key as a 32-byte word, as the EELS worker writes it."""
    return "0x" + int(n).to_bytes(32, "big").hex()


# -- profiles ---------------------------------------------------------------------------------
def _addr_key(s):
    return _addr(s)


# The protocol's profile keys this worker applies; any other key is a rule it cannot.
PROFILE_KEYS = {"name", "baseFork", "opcodes", "precompiles", "limits", "addedPrecompiles", "gas"}
# The added-precompile implementations this worker has.
IMPLEMENTATIONS = {"p256verify-rip7212"}


def parse_profile(profile):
    """`(key, rules)` for the request's profile, `rules` None for plain mainnet. Raises
    `Unsupported` for rules the adapter cannot apply (the same set as the revm adapter)."""
    if profile is None:
        return None, None
    # Gas rules and added precompiles (docs/profiles.md) are not implemented here: sit out.
    unknown_rules = set(profile) - PROFILE_KEYS
    if unknown_rules:
        raise Unsupported(f"profile rules {sorted(unknown_rules)} are not implemented by this worker")
    opcodes = {}
    for k, rule in (profile.get("opcodes") or {}).items():
        op = _int(k)
        if not 0 <= op <= 0xFF:
            raise Unsupported(f"opcode {k!r} is not a byte")
        kind = rule.get("behaviour") if isinstance(rule, dict) else rule
        value = None
        if kind == "constant":
            if op not in CONSTANT_SHAPE:
                raise Unsupported(f"opcode rule `constant` for 0x{op:02x}")
            value = _int(rule.get("value", 0)) % UINT256
        elif kind not in ("supported", "invalid", "revert-refund", "reject", "keccak-chain-number"):
            raise Unsupported(f"opcode rule `{kind}` for 0x{op:02x}")
        if kind != "supported":
            opcodes[op] = (kind, value)
    precompiles = {}
    for k, rule in (profile.get("precompiles") or {}).items():
        kind = rule.get("behaviour") if isinstance(rule, dict) else rule
        if kind not in ("supported", "revert-refund", "halt", "absent", "reject"):
            raise Unsupported(f"precompile rule `{kind}` for {k}")
        if kind != "supported":
            precompiles[_addr_key(k)] = kind
    modexp = None
    limits = profile.get("limits") or {}
    cap = limits.get("modexp")
    if cap is not None:
        kind = cap.get("behaviour")
        if kind not in ("revert-refund", "halt", "reject"):
            raise Unsupported(f"modexp cap behaviour `{kind}`")
        modexp = (_int(cap.get("maxLen", cap.get("max_len"))), kind)
    unknown = set(limits) - {"modexp"}
    if unknown:
        raise Unsupported(f"unknown profile limits {sorted(unknown)}")
    added = {}
    for k, p in (profile.get("addedPrecompiles") or {}).items():
        impl = p.get("implementation")
        if impl not in IMPLEMENTATIONS:
            raise Unsupported(f"added precompile `{impl}` at {k} is not implemented by this worker")
        added[_addr_key(k)] = (impl, _int(p.get("gas")))
    gas = profile.get("gas") or {}
    unknown = set(gas) - {"opcodes", "precompiles"}
    if unknown:
        raise Unsupported(f"unknown gas rules {sorted(unknown)}")
    op_gas = {_int(k): _int(g) for k, g in (gas.get("opcodes") or {}).items()}
    pc_gas = {_addr_key(k): _int(g) for k, g in (gas.get("precompiles") or {}).items()}
    if not opcodes and not precompiles and modexp is None and not added and not op_gas and not pc_gas:
        return None, None
    key = (
        tuple(sorted(opcodes.items())),
        tuple(sorted(precompiles.items())),
        modexp,
        tuple(sorted(added.items())),
        tuple(sorted(op_gas.items())),
        tuple(sorted(pc_gas.items())),
    )
    rules = {
        "opcodes": opcodes,
        "precompiles": precompiles,
        "modexp": modexp,
        "added": added,
        "op_gas": op_gas,
        "pc_gas": pc_gas,
    }
    return key, rules


def _op_name(base_opcodes, op):
    fn = base_opcodes.get(op)
    name = getattr(fn, "mnemonic", None)
    return name or f"0x{op:02x}"


def _make_constant(op, n_in, gas, value, mnemonic):
    # py-evm's opcode objects charge the static gas first, then run the logic (pops, push).
    def logic(computation):
        if n_in:
            computation.stack_pop_any(n_in)
        computation.stack_push_int(value)

    logic.__name__ = f"constant_0x{op:02x}"
    return as_opcode(logic, mnemonic, gas)


def keccak_chain_number(chain_id, current, requested):
    """core/src/profile/behaviour.rs `keccak_chain_number`: keccak256 of the chain id and the
    requested number, 8 bytes big-endian each (saturated), for 1..=256 blocks back, else 0."""
    if not 1 <= current - requested <= 256:
        return 0
    cap = (1 << 64) - 1
    data = min(chain_id, cap).to_bytes(8, "big") + min(requested, cap).to_bytes(8, "big")
    return int.from_bytes(keccak(data), "big")


def _make_keccak_chain_number(mnemonic):
    # Charged BLOCKHASH's 20 first by the opcode object, then pop and push, as py-evm's own.
    def logic(computation):
        requested = computation.stack_pop1_int()
        state = computation.state
        chain_id = state.execution_context.chain_id
        computation.stack_push_int(keccak_chain_number(chain_id, state.block_number, requested))

    logic.__name__ = "keccak_chain_number"
    return as_opcode(logic, mnemonic, 20)


class _RevertRefundOp:
    """The frame reverts with empty data and keeps its gas; the opcode costs nothing."""

    mnemonic = "REVERT-REFUND"
    gas_cost = 0

    def __call__(self, computation):
        computation.output = b""
        raise ex.Revert(b"")


class _RejectOp:
    gas_cost = 0

    def __init__(self, why):
        self.why = why
        self.mnemonic = "REJECT"

    def __call__(self, computation):
        raise ProfileReject(self.why)


def _precompile_revert(computation):
    computation.output = b""
    raise ex.Revert(b"")


def _precompile_halt(computation):
    raise ProfileHalt("halted by the profile")


def _precompile_reject(why):
    def fn(computation):
        raise ProfileReject(why)

    return fn


def _modexp_exceeds(data, max_len):
    for i in range(3):
        word = data[32 * i: 32 * i + 32].ljust(32, b"\x00")
        if int.from_bytes(word, "big") > max_len:
            return True
    return False


def _make_modexp_cap(inner, max_len, over):
    def modexp(computation):
        if _modexp_exceeds(bytes(computation.msg.data), max_len):
            return over(computation)
        return inner(computation)

    return modexp


# secp256r1 (NIST P-256) domain parameters (SEC 2, section 2.4.2).
_P256_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P256_A = _P256_P - 3
_P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_P256_G = (
    0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)


def _p256_add(a, b):
    """Affine point addition on P-256 (None is the point at infinity)."""
    if a is None:
        return b
    if b is None:
        return a
    p = _P256_P
    if a[0] == b[0]:
        if (a[1] + b[1]) % p == 0:
            return None
        slope = (3 * a[0] * a[0] + _P256_A) * pow(2 * a[1], -1, p) % p
    else:
        slope = (b[1] - a[1]) * pow(b[0] - a[0], -1, p) % p
    x = (slope * slope - a[0] - b[0]) % p
    return x, (slope * (a[0] - x) - a[1]) % p


def _p256_mul(k, point):
    out = None
    while k:
        if k & 1:
            out = _p256_add(out, point)
        point = _p256_add(point, point)
        k >>= 1
    return out


def p256_verify(data):
    """RIP-7212 / EIP-7951 signature check of `hash || r || s || x || y`: py-evm has no P-256,
    so the worker carries this plain ECDSA verification, with EIP-7951's input checks (r and s
    in (0, n), x and y below p, not (0, 0), on the curve) that the deployed RIP-7212
    implementations apply too."""
    if len(data) != 160:
        return False
    h, r, s, x, y = (int.from_bytes(data[i : i + 32], "big") for i in range(0, 160, 32))
    n, p = _P256_N, _P256_P
    if not (0 < r < n and 0 < s < n) or x >= p or y >= p or (x == 0 and y == 0):
        return False
    if (y * y - (x * x * x + _P256_A * x + _P256_B)) % p != 0:
        return False
    w = pow(s, -1, n)
    point = _p256_add(_p256_mul(h * w % n, _P256_G), _p256_mul(r * w % n, (x, y)))
    return point is not None and point[0] % n == r


def _make_repriced_precompile(inner, gas):
    def precompile(computation):
        meter = computation._gas_meter
        if meter.gas_remaining < gas:
            raise ex.OutOfGas(f"precompile needs {gas} gas (re-priced by the profile)")
        before = meter.gas_remaining
        meter.gas_remaining = 1 << 62
        try:
            inner(computation)
        finally:
            meter.gas_remaining = before
        meter.consume_gas(gas, "precompile (re-priced by the profile)")
        return computation

    return precompile


def _make_p256verify(gas):
    """An added RIP-7212 P256VERIFY charged `gas`: the word 1 for a valid signature, else
    nothing."""

    def p256verify(computation):
        computation.consume_gas(gas, reason="P256VERIFY (added by the profile)")
        if p256_verify(bytes(computation.msg.data)):
            computation.output = b"\x00" * 31 + b"\x01"
        return computation

    return p256verify


def _precompile_override(kind, why):
    if kind == "revert-refund":
        return _precompile_revert
    if kind == "halt":
        return _precompile_halt
    if kind == "reject":
        return _precompile_reject(why)
    raise AssertionError(kind)


def build_computation_class(base, rules):
    """A subclass of the fork's Computation with the profile's opcode and precompile rules."""
    base_opcodes = base.opcodes
    opcodes = dict(base_opcodes)
    for op, (kind, value) in rules["opcodes"].items():
        if kind == "constant":
            n_in, gas = CONSTANT_SHAPE[op]
            opcodes[op] = _make_constant(op, n_in, gas, value, _op_name(base_opcodes, op))
        elif kind == "keccak-chain-number":
            opcodes[op] = _make_keccak_chain_number(_op_name(base_opcodes, op))
        elif kind == "invalid":
            opcodes[op] = InvalidOpcode(op)
        elif kind == "revert-refund":
            opcodes[op] = _RevertRefundOp()
        elif kind == "reject":
            opcodes[op] = _RejectOp(f"profile rejects opcode {_op_name(base_opcodes, op)}")
        else:  # checked by parse_profile
            raise AssertionError(kind)
    base_pre = dict(base.get_precompiles())
    precompiles = dict(base_pre)
    for addr, kind in rules["precompiles"].items():
        if addr not in base_pre:
            continue  # not a precompile of the base fork: no rule applies
        if kind == "absent":
            del precompiles[addr]
        else:
            precompiles[addr] = _precompile_override(
                kind, f"profile rejects the call to precompile 0x{addr.hex()} (precompile rule)"
            )
    cap = rules["modexp"]
    # A rule for 0x05 takes precedence over the cap (as in the revm adapter).
    if cap is not None and MODEXP in base_pre and MODEXP not in rules["precompiles"]:
        max_len, kind = cap
        over = _precompile_override(
            kind, "profile rejects the call to precompile 0x05 (modexp length cap)"
        )
        precompiles[MODEXP] = _make_modexp_cap(base_pre[MODEXP], max_len, over)
    # Gas rules. py-evm's opcode objects charge their `gas_cost` before their logic, which is
    # the whole cost of the fixed-cost opcodes a rule may name: a copy with the profile's
    # figure. A precompile runs with all the gas it wants and is charged the figure.
    for op, gas in rules["op_gas"].items():
        if op not in opcodes or not hasattr(opcodes[op], "gas_cost"):
            raise Unsupported(f"gas rule for 0x{op:02x}: no py-evm opcode object to re-price")
        repriced = copy.copy(opcodes[op])
        repriced.gas_cost = gas
        opcodes[op] = repriced
    for addr, gas in rules["pc_gas"].items():
        if addr in precompiles:
            precompiles[addr] = _make_repriced_precompile(precompiles[addr], gas)
    # Added precompiles: in the precompile map, so also warm (py-evm's warm set reads it).
    for addr, (_impl, gas) in rules["added"].items():
        precompiles[addr] = _make_p256verify(gas)
    return type(
        "Profile" + base.__name__,
        (base,),
        {"opcodes": opcodes, "_precompiles": precompiles},
    )


# -- per-(fork, profile) classes -------------------------------------------------------------
def _make_state_class(vm_cls, computation_class):
    base_state = vm_cls.get_state_class()
    base_exec = base_state.transaction_executor_class

    class Executor(base_exec):
        def build_computation(self, message, transaction):
            # From here on (execution), a ValidationError is not about the transaction's
            # validity; before (validation, buying gas, building the message: py-evm checks
            # the intrinsic gas of typed transactions only there) it is.
            self.vm_state._evmdiff_validated = True
            return super().build_computation(message, transaction)

        @classmethod
        def calculate_gas_refund(cls, computation, gas_used):
            refund = super().calculate_gas_refund(computation, gas_used)
            computation._evmdiff_refund = refund
            return refund

    class State(base_state):
        _evmdiff_chain_hashes = None

        def __init__(self, *args, **kwargs):
            self._evmdiff_slots = set()
            self._evmdiff_wiped = set()
            self._evmdiff_validated = False
            super().__init__(*args, **kwargs)

        def set_storage(self, address, slot, value):
            self._evmdiff_slots.add((address, slot))
            return super().set_storage(address, slot, value)

        # Storage wiped whole (an account deleted, or its storage cleared): a chain's dump
        # reads such an account's slots again.
        def delete_storage(self, address):
            self._evmdiff_wiped.add(address)
            return super().delete_storage(address)

        def delete_account(self, address):
            self._evmdiff_wiped.add(address)
            return super().delete_account(address)

        def get_ancestor_hash(self, block_number):
            # The ethereum/tests convention: keccak256(decimal number) for the 256 previous
            # blocks (see the module docstring); in a chain, its own headers' hashes.
            current = self.block_number
            if block_number < 0 or block_number >= current or current - block_number > 256:
                return b""
            if self._evmdiff_chain_hashes is not None:
                return self._evmdiff_chain_hashes.get(block_number, b"")
            return keccak(str(block_number).encode())

    State.__name__ = "Evmdiff" + base_state.__name__
    State.computation_class = computation_class
    State.transaction_executor_class = Executor
    return State


_CLASSES = {}


def classes_for(fork, key, rules):
    ck = (fork, key)
    st = _CLASSES.get(ck)
    if st is None:
        vm_cls = FORKS[fork]
        base_comp = vm_cls.get_state_class().computation_class
        comp = base_comp if rules is None else build_computation_class(base_comp, rules)
        st = _make_state_class(vm_cls, comp)
        if len(_CLASSES) > 256:
            _CLASSES.clear()
        _CLASSES[ck] = st
    return st


# -- the request ------------------------------------------------------------------------------
def _indexes(test):
    post = test.get("post") or {}
    for entries in post.values():
        entry = entries
        while isinstance(entry, list) and entry:
            entry = entry[0]
        if isinstance(entry, dict):
            ix = entry.get("indexes") or {}
            return ix.get("data", 0), ix.get("gas", 0), ix.get("value", 0)
    return 0, 0, 0


def _access_list(entries):
    out = []
    for e in entries or []:
        out.append((_addr(e["address"]), tuple(_int(k) for k in e.get("storageKeys", []))))
    return tuple(out)


def build_transaction(vm_cls, fork, tx, test, chain_id):
    try:
        return _build_transaction(vm_cls, fork, tx, test, chain_id)
    except Rejected:
        raise
    except (ValidationError, rlp.exceptions.RLPException, ValueError, TypeError,
            OverflowError, KeyError) as e:
        raise Rejected(f"transaction cannot be built: {type(e).__name__}: {e}") from e


def _build_transaction(vm_cls, fork, tx, test, chain_id):
    d, g, v = _indexes(test)

    def pick(name, i):
        val = tx.get(name)
        if isinstance(val, list):
            return val[i] if i < len(val) else val[0]
        return val

    data = _bytes(pick("data", d))
    gas = _int(pick("gasLimit", g))
    value = _int(pick("value", v))
    nonce = _int(tx.get("nonce"))
    to_raw = tx.get("to")
    to = CREATE_CONTRACT_ADDRESS if to_raw in (None, "", "0x") else _addr(to_raw)
    als = tx.get("accessLists")
    access_list = None
    if als is not None:
        entry = als[d] if isinstance(als, list) and d < len(als) else None
        if isinstance(als, list) and als and isinstance(als[0], dict):
            entry = als  # a single access list, not a list of them
        if entry is not None:
            access_list = _access_list(entry)
    elif tx.get("accessList") is not None:
        access_list = _access_list(tx["accessList"])
    key = keys.PrivateKey(_bytes(tx["secretKey"]).rjust(32, b"\x00"))
    builder = vm_cls.get_transaction_builder()

    try:
        if tx.get("maxFeePerBlobGas") is not None:
            if not hasattr(builder, "new_unsigned_blob_transaction"):
                raise Rejected(f"blob transactions are not valid in {fork}")
            u = builder.new_unsigned_blob_transaction(
                chain_id=chain_id,
                nonce=nonce,
                max_priority_fee_per_gas=_int(tx.get("maxPriorityFeePerGas")),
                max_fee_per_gas=_int(tx.get("maxFeePerGas")),
                gas=gas,
                to=to,
                value=value,
                data=data,
                access_list=access_list or (),
                max_fee_per_blob_gas=_int(tx.get("maxFeePerBlobGas")),
                blob_versioned_hashes=tuple(
                    _bytes(h) for h in tx.get("blobVersionedHashes") or []
                ),
            )
        elif tx.get("authorizationList") is not None:
            if not hasattr(builder, "new_unsigned_set_code_transaction"):
                raise Rejected(f"set-code transactions are not valid in {fork}")
            auths = []
            for a in tx["authorizationList"]:
                y = a.get("yParity", a.get("v"))
                auths.append(
                    {
                        "chain_id": _int(a.get("chainId")),
                        "address": _addr(a.get("address")),
                        "nonce": _int(a.get("nonce")),
                        "y_parity": _int(y),
                        "r": _int(a.get("r")),
                        "s": _int(a.get("s")),
                    }
                )
            u = builder.new_unsigned_set_code_transaction(
                chain_id=chain_id,
                nonce=nonce,
                max_priority_fee_per_gas=_int(tx.get("maxPriorityFeePerGas")),
                max_fee_per_gas=_int(tx.get("maxFeePerGas")),
                gas=gas,
                to=to,
                value=value,
                data=data,
                access_list=access_list or (),
                authorization_list=auths,
            )
        elif tx.get("maxFeePerGas") is not None:
            if not hasattr(builder, "new_unsigned_dynamic_fee_transaction"):
                raise Rejected(f"EIP-1559 transactions are not valid in {fork}")
            u = builder.new_unsigned_dynamic_fee_transaction(
                chain_id=chain_id,
                nonce=nonce,
                max_priority_fee_per_gas=_int(tx.get("maxPriorityFeePerGas")),
                max_fee_per_gas=_int(tx.get("maxFeePerGas")),
                gas=gas,
                to=to,
                value=value,
                data=data,
                access_list=access_list or (),
            )
        elif access_list is not None:
            if not hasattr(builder, "new_unsigned_access_list_transaction"):
                raise Rejected(f"EIP-2930 transactions are not valid in {fork}")
            u = builder.new_unsigned_access_list_transaction(
                chain_id=chain_id,
                nonce=nonce,
                gas_price=_int(tx.get("gasPrice")),
                gas=gas,
                to=to,
                value=value,
                data=data,
                access_list=access_list,
            )
        else:
            u = builder.create_unsigned_transaction(
                nonce=nonce,
                gas_price=_int(tx.get("gasPrice")),
                gas=gas,
                to=to,
                value=value,
                data=data,
            )
        if hasattr(u, "_type_byte"):
            signed = u.as_signed_transaction(key, chain_id=chain_id)
        else:
            # Legacy: ethereum/tests sign without EIP-155 replay protection.
            signed = u.as_signed_transaction(key)
    except Rejected:
        raise
    except (ValidationError, rlp.exceptions.RLPException, ValueError, TypeError, OverflowError) as e:
        raise Rejected(f"transaction cannot be built: {type(e).__name__}: {e}") from e
    return signed, gas


def _set_pre(state, pre):
    for a, acc in pre.items():
        addr = _addr(a)
        state.set_balance(addr, _int(acc.get("balance")))
        state.set_nonce(addr, _int(acc.get("nonce")))
        code = _bytes(acc.get("code"))
        if code:
            state.set_code(addr, code)
        for k, val in (acc.get("storage") or {}).items():
            iv = _int(val)
            if iv:
                state.set_storage(addr, _int(k), iv)


def _dump_pre(pre):
    post = {}
    for a, acc in pre.items():
        storage = {}
        for k, val in (acc.get("storage") or {}).items():
            iv = _int(val)
            if iv:
                storage[_slot(_int(k))] = _hex(iv)
        post["0x" + _addr(a).hex()] = {
            "balance": _hex(_int(acc.get("balance"))),
            "nonce": _hex(_int(acc.get("nonce"))),
            "code": _hexb(_bytes(acc.get("code"))),
            "storage": storage,
        }
    return post


def dump_state(state, candidates, slots):
    post = {}
    by_addr = {}
    for addr, slot in slots:
        by_addr.setdefault(addr, set()).add(slot)
    for addr in sorted(candidates):
        if not state.account_exists(addr):
            continue
        storage = {}
        for slot in sorted(by_addr.get(addr, ())):
            v = state.get_storage(addr, slot)
            if v:
                storage[_slot(slot)] = _hex(v)
        post["0x" + addr.hex()] = {
            "balance": _hex(state.get_balance(addr)),
            "nonce": _hex(state.get_nonce(addr)),
            "code": _hexb(state.get_code(addr)),
            "storage": storage,
        }
    return post


HALT_NAMES = {
    ex.OutOfGas: "out-of-gas",
    ex.InvalidInstruction: "invalid-opcode",
    ex.InsufficientStack: "stack-underflow",
    ex.FullStack: "stack-overflow",
    ex.InvalidJumpDestination: "invalid-jump",
    ex.WriteProtection: "static-violation",
    ex.OutOfBoundsRead: "return-data-out-of-bounds",
    ex.ContractCreationCollision: "create-collision",
    ex.StackDepthLimit: "call-too-deep",
    ex.ReservedBytesInCode: "invalid-code-prefix",
    ProfileHalt: "precompile-failure",
}


def halt_class(error, to_precompile):
    t = type(error)
    name = HALT_NAMES.get(t)
    if name is None:
        for cls, n in HALT_NAMES.items():
            if isinstance(error, cls):
                name = n
                break
    if t is ex.OutOfGas and "EIP170" in str(error):
        return "code-size-limit"
    if to_precompile:
        # py-evm precompiles signal bad input with a plain VMError (and a few with
        # ValidationError-derived ones); running out of gas stays out-of-gas.
        return "out-of-gas" if name == "out-of-gas" else "precompile-failure"
    return name or "other"


def _rejected(pre_post, pre_root, detail):
    return {
        "status": "rejected",
        "gasUsed": "0x0",
        "refund": "0x0",
        "output": "0x",
        "logs": [],
        "post": pre_post,
        "stateRoot": _hexb(pre_root),
        "detail": detail,
    }


def run_request(req):
    fork = req.get("fork")
    if fork in UNSUPPORTED_FORKS:
        return {"unsupported": f"pyevm worker: {UNSUPPORTED_FORKS[fork]}"}
    if fork not in FORKS:
        return {"unsupported": f"pyevm worker: unknown fork {fork!r}"}
    test = req.get("test")
    if not isinstance(test, dict):
        if isinstance(req.get("chain"), dict):
            return run_chain(req)
        raise ValueError("request without `test` or `chain`")
    try:
        key, rules = parse_profile(req.get("profile"))
    except Unsupported as e:
        return {"unsupported": f"pyevm worker: {e}"}
    state_cls = classes_for(fork, key, rules)
    vm_cls = FORKS[fork]

    env = test.get("env") or {}
    pre = test.get("pre") or {}
    txj = test.get("transaction") or {}
    chain_id = 1
    cfg = test.get("config")
    if isinstance(cfg, dict) and cfg.get("chainid") is not None:
        chain_id = _int(cfg["chainid"])

    mix = env.get("currentRandom")
    ctx = ExecutionContext(
        coinbase=_addr(env.get("currentCoinbase")),
        timestamp=_int(env.get("currentTimestamp")),
        block_number=_int(env.get("currentNumber")),
        difficulty=_int(env.get("currentDifficulty")),
        mix_hash=_bytes(mix).rjust(32, b"\x00") if mix is not None else b"\x00" * 32,
        gas_limit=_int(env.get("currentGasLimit")),
        prev_hashes=(),
        chain_id=chain_id,
        base_fee_per_gas=_int(env.get("currentBaseFee"), 10) if fork in _LONDON_ON else None,
        excess_blob_gas=_int(env.get("currentExcessBlobGas"), 0) if fork in _CANCUN_ON else None,
    )

    state = state_cls(AtomicDB(), ctx, BLANK_ROOT_HASH)
    _set_pre(state, pre)
    state.persist()
    pre_root = state.state_root
    pre_post = _dump_pre(pre)
    state._evmdiff_slots = set()

    try:
        tx, _ = build_transaction(vm_cls, fork, txj, test, chain_id)
        # VM.apply_transaction's check against the header (the block's gas used is 0).
        if tx.gas > ctx.gas_limit:
            raise Rejected(
                f"transaction gas {tx.gas} exceeds the block gas limit {ctx.gas_limit}"
            )
        # The block's blob gas limit (py-evm's validate_block_blobs).
        if fork in MAX_BLOB_GAS and getattr(tx, "type_id", None) == 3:
            blob_gas = _total_blob_gas(tx)
            if blob_gas > MAX_BLOB_GAS[fork]:
                raise Rejected(
                    f"blob gas {blob_gas} exceeds the block's maximum {MAX_BLOB_GAS[fork]}"
                )
    except Rejected as e:
        return _rejected(pre_post, pre_root, str(e))
    except (ValidationError, rlp.exceptions.RLPException) as e:
        return _rejected(pre_post, pre_root, f"invalid transaction: {type(e).__name__}: {e}")

    state.lock_changes()
    try:
        comp = state.apply_transaction(tx)
    except ProfileReject as e:
        return _rejected(pre_post, pre_root, str(e))
    except (ValidationError, rlp.exceptions.RLPException) as e:
        if state._evmdiff_validated:
            raise
        return _rejected(pre_post, pre_root, f"invalid transaction: {type(e).__name__}: {e}")
    except ex.VMError as e:
        # Raised outside any frame: the EIP-3860 initcode limit of a creation transaction.
        return _rejected(pre_post, pre_root, f"invalid transaction: {type(e).__name__}: {e}")

    res = _answer(tx, comp)
    adb = state._account_db
    candidates = {_addr(a) for a in pre}
    candidates.update(adb._accessed_accounts)
    candidates.update(a for a, _ in state._evmdiff_slots)
    candidates.add(tx.sender)
    candidates.add(ctx.coinbase)
    if tx.to != CREATE_CONTRACT_ADDRESS:
        candidates.add(tx.to)
    slots = set(state._evmdiff_slots)
    for a, acc in pre.items():
        addr = _addr(a)
        for k in (acc.get("storage") or {}):
            slots.add((addr, _int(k)))

    root = state.make_state_root()
    post = dump_state(state, candidates, slots)

    res.update({"post": post, "stateRoot": _hexb(root)})
    return res


def _answer(tx, comp):
    """The protocol's answer for an executed transaction, without its post-state."""
    remaining = comp.get_gas_remaining()
    refund_applied = getattr(comp, "_evmdiff_refund", 0)
    floor = getattr(comp, "data_floor_gas", 0) or 0
    before_refund = tx.gas - remaining
    gas_used = before_refund - refund_applied + floor
    refund = max(0, before_refund - gas_used)

    msg = comp.msg
    is_create = msg.is_create
    res = {}
    if comp.is_success:
        status = "success"
    elif isinstance(comp.error, ex.Revert):
        status = "revert"
    else:
        status = "halt"
        to_precompile = (
            not is_create
            and msg.code_address in comp.precompiles
            and not getattr(msg, "is_delegation", False)
        )
        res["halt"] = halt_class(comp.error, to_precompile)
    output = b"" if status == "halt" else bytes(comp.output)

    logs = []
    if status == "success":
        for address, topics, data in comp.get_log_entries():
            logs.append(
                {
                    "address": _hexb(address),
                    "topics": ["0x" + int(t).to_bytes(32, "big").hex() for t in topics],
                    "data": _hexb(data),
                }
            )

    res.update(
        {
            "status": status,
            "gasUsed": _hex(gas_used),
            "refund": _hex(refund),
            "output": _hexb(output),
            "logs": logs,
            "detail": "ok" if comp.is_success else f"{type(comp.error).__name__}: {comp.error}",
        }
    )
    return res

# -- the chain form -----------------------------------------------------------------------------
from types import SimpleNamespace  # noqa: E402

from eth.db.chain import ChainDB  # noqa: E402
from eth.vm.chain_context import ChainContext  # noqa: E402
from eth.consensus.context import ConsensusContext  # noqa: E402
from eth.vm.spoof import SpoofTransaction  # noqa: E402

# py-evm's Prague block processing cannot run outside its chain database (the EIP-6110
# deposits are read back from the receipts it stored) and does not refuse a block whose
# EIP-7002 / EIP-7251 contract has no code: chains run from Frontier to Cancun.
CHAIN_FORKS = set(FORKS) - {"Prague"}
_STAND_IN_KEY = "0x" + "00" * 31 + "01"
_HEADER_FIELDS = (
    "base_fee_per_gas", "withdrawals_root", "blob_gas_used", "excess_blob_gas",
    "parent_beacon_block_root",
)


def _header(vm_cls, env, fork):
    """The block's header as py-evm's fork header class, from the chain request's `env`."""
    header_cls = dict(vm_cls.get_block_class()._meta.fields)["header"]
    kw = dict(
        difficulty=_int(env.get("currentDifficulty")),
        block_number=_int(env.get("currentNumber")),
        gas_limit=_int(env.get("currentGasLimit")),
        timestamp=_int(env.get("currentTimestamp")),
        coinbase=_addr(env.get("currentCoinbase")),
        parent_hash=_bytes(env.get("parentHash") or "0x" + "00" * 32).rjust(32, b"\x00"),
    )
    mix = env.get("currentRandom")
    if mix is not None:
        kw["mix_hash"] = _bytes(mix).rjust(32, b"\x00")
    optional = dict(
        base_fee_per_gas=_int(env.get("currentBaseFee"), 10) if fork in _LONDON_ON else None,
        excess_blob_gas=_int(env.get("currentExcessBlobGas"), 0) if fork in _CANCUN_ON else None,
        parent_beacon_block_root=_bytes(env.get("parentBeaconBlockRoot") or "0x" + "00" * 32)
        if fork in _CANCUN_ON
        else None,
    )
    fields = {name for name, _ in header_cls._meta.fields}
    kw.update({k: v for k, v in optional.items() if v is not None and k in fields})
    return header_cls(**kw)


def run_chain(req):
    """The chain form (docs/protocol.md): py-evm's own VM for each block, on one database
    carried from block to block — `block_preprocessing` (the EIP-4788 beacon root from
    Cancun), every transaction through `VM.apply_transaction` against the header its receipts
    have grown (an invalid one dropped: the state reverted to before it), the miner's reward
    (`_assign_block_rewards`, before the Merge) and `apply_all_withdrawals`. The VM is made
    with the worker's state (BLOCKHASH answering from the request's `blockHashes`) instead of
    one read back from a chain database, which the request has no headers in."""
    fork = req.get("fork")
    if fork in UNSUPPORTED_FORKS:
        return {"unsupported": f"pyevm worker: {UNSUPPORTED_FORKS[fork]}"}
    if fork not in CHAIN_FORKS:
        return {
            "unsupported": f"pyevm worker: no chains at {fork} (py-evm's Prague block "
            "processing needs its chain database and refuses no block)"
            if fork in FORKS
            else f"pyevm worker: unknown fork {fork!r}"
        }
    chain = req["chain"]
    try:
        key, rules = parse_profile(req.get("profile"))
    except Unsupported as e:
        return {"unsupported": f"pyevm worker: {e}"}
    state_cls = classes_for(fork, key, rules)
    base_vm = FORKS[fork]
    vm_cls = type("Evmdiff" + base_vm.__name__, (base_vm,), {"_state_class": state_cls})
    chain_id = _int(chain.get("chainId"), 1)
    hashes = {
        _int(n): _bytes(h).rjust(32, b"\x00") for n, h in (chain.get("blockHashes") or {}).items()
    }
    pre = chain.get("pre") or {}
    db = AtomicDB()
    root = BLANK_ROOT_HASH
    candidates = {_addr(a) for a in pre}
    slots = {(_addr(a), _int(k)) for a, acc in pre.items() for k in (acc.get("storage") or {})}
    first = True
    blocks = []
    cache = {}
    for block in chain.get("blocks") or []:
        env = block.get("env") or {}
        header = _header(vm_cls, env, fork).copy(state_root=root)
        vm = vm_cls(header, ChainDB(db), ChainContext(chain_id), ConsensusContext(db))
        state = vm_cls.build_state(db, header, ChainContext(chain_id), ())
        state._evmdiff_chain_hashes = hashes
        vm._state = state
        if first:
            _set_pre(state, pre)
            state.persist()
            first = False
        candidates.add(header.coinbase)
        vm.block_preprocessing(SimpleNamespace(header=header, number=header.block_number))
        _fold(state, candidates, slots, cache)
        txs = []
        for t in block.get("transactions") or []:
            txs.append(
                _chain_tx(vm, vm_cls, fork, t, header, chain_id, candidates, slots, cache)
            )
            header = txs[-1].pop("_header", header)
        if header.block_number > 0:
            vm._assign_block_rewards(SimpleNamespace(header=header, uncles=()))
        withdrawals = block.get("withdrawals")
        if withdrawals:
            from eth.vm.forks.shanghai.withdrawals import Withdrawal

            ws = [
                Withdrawal(_int(w["index"]), _int(w["validatorIndex"]), _addr(w["address"]),
                           _int(w["amount"]))
                for w in withdrawals
            ]
            candidates.update(w.address for w in ws)
            vm.apply_all_withdrawals(ws)
        _fold(state, candidates, slots, cache)
        state.persist()
        root = state.state_root
        blocks.append(
            {
                "txs": txs,
                "end": {
                    "post": _dump_chain_state(state, candidates, slots, cache),
                    "stateRoot": _hexb(root),
                    "gasUsed": _hex(header.gas_used),
                },
            }
        )
    return {"blocks": blocks}


def _dump_chain_state(state, candidates, slots, cache):
    """`dump_state` for a chain, where it runs after every transaction over slots that only
    grow: a slot's value is read from the trie again only when it was written, or its account
    wiped, since it was read (`cache`: address -> {slot: value}, emptied by `_fold`)."""
    by_addr = {}
    for addr, slot in slots:
        by_addr.setdefault(addr, set()).add(slot)
    post = {}
    for addr in sorted(candidates):
        if not state.account_exists(addr):
            continue
        values = cache.setdefault(addr, {})
        storage = {}
        for slot in sorted(by_addr.get(addr, ())):
            v = values.get(slot)
            if v is None:
                v = values[slot] = state.get_storage(addr, slot)
            if v:
                storage[_slot(slot)] = _hex(v)
        post["0x" + addr.hex()] = {
            "balance": _hex(state.get_balance(addr)),
            "nonce": _hex(state.get_nonce(addr)),
            "code": _hexb(state.get_code(addr)),
            "storage": storage,
        }
    return post


def _fold(state, candidates, slots, cache):
    """Adds what the state wrote and loaded since the last fold to the accounts and slots the
    post-state lists (py-evm's trie keys are hashed: only what is known can be listed), and
    forgets the dump's cached values of what was written."""
    for addr, slot in state._evmdiff_slots:
        cache.get(addr, {}).pop(slot, None)
    for addr in state._evmdiff_wiped:
        cache.pop(addr, None)
    slots.update(state._evmdiff_slots)
    candidates.update(a for a, _ in state._evmdiff_slots)
    candidates.update(state._account_db._accessed_accounts)
    state._evmdiff_slots = set()
    state._evmdiff_wiped = set()


def _chain_tx(vm, vm_cls, fork, t, header, chain_id, candidates, slots, cache):
    """One transaction of a chain through `VM.apply_transaction`; the answer carries the
    header its receipt grew as `_header` (taken off before it is sent)."""
    state = vm.state

    def dropped(detail):
        return {"status": "rejected", "gasUsed": "0x0", "refund": "0x0", "output": "0x",
                "logs": [], "post": _dump_chain_state(state, candidates, slots, cache),
                "detail": detail}

    stand_in = _int(t.get("secretKey")) == 0 and t.get("sender")
    raw = dict(t, secretKey=_STAND_IN_KEY) if stand_in else t
    test = {"transaction": raw}
    try:
        tx, _ = build_transaction(vm_cls, fork, raw, test, chain_id)
        if stand_in:
            tx = SpoofTransaction(tx, sender=_addr(t["sender"]))
        if fork in MAX_BLOB_GAS and getattr(tx, "type_id", None) == 3:
            blob_gas = _total_blob_gas(tx)
            used = getattr(header, "blob_gas_used", 0) or 0
            if used + blob_gas > MAX_BLOB_GAS[fork]:
                raise Rejected(
                    f"blob gas {blob_gas} over the {MAX_BLOB_GAS[fork] - used} left in the block"
                )
    except Rejected as e:
        return dropped(str(e))
    candidates.add(tx.sender)
    if tx.to != CREATE_CONTRACT_ADDRESS:
        candidates.add(tx.to)
    state._evmdiff_validated = False
    state._evmdiff_slots = set()
    # `VM.apply_transaction`, step by step: its `lock_changes` drops every snapshot, so the
    # one that undoes a refused transaction is taken after it.
    try:
        vm.validate_transaction_against_header(header, tx)
    except ValidationError as e:
        return dropped(f"invalid transaction: {e}")
    state.lock_changes()
    snapshot = state.snapshot()
    try:
        comp = state.apply_transaction(tx)
        receipt = vm.make_receipt(header, tx, comp, state)
        vm.validate_receipt(receipt)
    except (ProfileReject, ValidationError, rlp.exceptions.RLPException, ex.VMError) as e:
        if isinstance(e, (ValidationError, rlp.exceptions.RLPException)) and state._evmdiff_validated:
            raise
        state.revert(snapshot)
        return dropped(f"invalid transaction: {type(e).__name__}: {e}")
    header = vm.add_receipt_to_header(header, receipt)
    header = vm.increment_blob_gas_used(header, tx)
    _fold(state, candidates, slots, cache)
    answer = _answer(tx, comp)
    answer["post"] = _dump_chain_state(state, candidates, slots, cache)
    answer["stateRoot"] = _hexb(state.make_state_root())
    answer["_header"] = header
    return answer


def send(obj):
    _PROTOCOL_OUT.write(json.dumps(obj, separators=(",", ":")) + "\n")
    _PROTOCOL_OUT.flush()


def main():
    send({"ready": True, "protocol": 1, "backend": "pyevm", "version": VERSION, "chains": True})
    stdin = sys.stdin
    while True:
        line = stdin.readline()
        if not line:
            break
        if not line.strip():
            continue
        rid = None
        try:
            req = json.loads(line)
            rid = req.get("id") if isinstance(req, dict) else None
            if not isinstance(req, dict):
                raise ValueError("request is not a JSON object")
            started = time.perf_counter()
            answer = run_request(req)
            # The implementation's share of the round trip (docs/backends.md: elapsedUs).
            answer["elapsedUs"] = round((time.perf_counter() - started) * 1e6)
        except BaseException as e:  # noqa: B902 - a worker never dies on a request
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            answer = {"failed": traceback.format_exc()}
        try:
            send({"id": rid, **answer})
        except BrokenPipeError:
            break


if __name__ == "__main__":
    main()
