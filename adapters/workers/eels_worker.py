#!/usr/bin/env python3
"""evmdiff's execution-spec worker: EELS (`ethereum-execution`) behind the JSON-lines worker
protocol (docs/backends.md, "External workers: the JSON-lines protocol").

    PYTHONUNBUFFERED=1 .external/eels/bin/python adapters/workers/eels_worker.py

One request per stdin line, exactly one response line per request on stdout, in order.
stdout carries protocol lines only: everything EELS (or anything else) prints goes to stderr.

How a request runs
------------------
The one-vector state test is turned into t8n input exactly as EELS's own `statetest` command
does (`ethereum_spec_tools.evm_tools.statetest.run_test_case`), and the in-process t8n
(`T8N`) parses env, alloc and transaction and signs the transaction with `secretKey`. Instead
of `T8N.run_state_test` the worker calls the fork's `process_transaction` itself, with two
hooks installed once per fork module:

* `fork.process_message_call` is wrapped to keep the `MessageCallOutput` (gas left, refund
  counter, error, logs) that `process_transaction` throws away;
* `vm.interpreter.process_message` is wrapped to keep the top frame's `Evm` (its output, and
  the init code's result before the code deposit, to tell a code-size-limit halt from an
  out-of-gas one: EELS raises `OutOfGasError` for both).

An `EthereumException` out of `process_transaction` (validation) or a profile `reject` is a
rejected transaction: the state is restored to the pre-state.

Chains (docs/protocol.md, "The chain form"): `run_chain` applies each block as EELS's t8n
applies one (`T8N._run_blockchain_test`'s loop, written out to read the state after every
transaction): the EIP-2935 and EIP-4788 system transactions, `process_transaction` for each
transaction on the state the previous one left (an `EthereumException` drops it, the state
restored), the miner's reward before the Merge, `process_withdrawals`, and from Prague
`process_general_purpose_requests`, whose `InvalidBlock` refuses the block. The spec's state
object is carried from block to block; BLOCKHASH reads the request's `blockHashes`. A
transaction whose key is unknown (zero) is signed with a stand-in key, and the fork's
`recover_sender` answers its real sender.

BLOCKHASH in a state test: the request carries no block hashes. The worker supplies the convention of the
ethereum/tests fillers that the revm and ethereumjs adapters use: keccak256 of the block number
in decimal for the 256 previous blocks, zero otherwise (EELS itself has only `previousHash`,
and crashes on a BLOCKHASH of a block it has no hash for).

Profiles
--------
Applied inside the spec, per request, and undone before the next one:

* opcode rules replace entries of the fork's `vm.instructions.op_implementation` dict (for an
  opcode the base fork does not define, the interpreter's `Ops` lookup is wrapped so the byte
  decodes to a pseudo-opcode with its own implementation);
* precompile rules edit the fork's `PRE_COMPILED_CONTRACTS` dict in place (it is the one dict
  the interpreter dispatches on and `prepare_message` pre-warms from, so `absent` also makes
  the address cold); the modexp cap wraps the 0x05 entry.

`constant` pops, charges and pushes in the spec's own order for such opcodes (BLOCKHASH pops
before charging). `revert-refund` raises the fork's `Revert` (so it is `unsupported` before
Byzantium, where the spec has no revert), `invalid` its `InvalidOpcode`, a precompile `halt`
an `ExceptionalHalt` subclass, `reject` an exception that is not an `EthereumException` and so
leaves the whole transaction. Rules the revm adapter refuses are `unsupported` here too.

`keccak-chain-number` (BLOCKHASH) pops, charges 20 and pushes keccak256 of the chain id and
the number (8 bytes big-endian each) in the spec's BLOCKHASH order. A gas rule for an opcode
charges the profile's figure, hands the opcode's standard fixed cost back and runs the spec's
own instruction (which charges it); for a precompile, it runs the spec's precompile with all
the gas it wants and charges the figure. An added P256VERIFY (`p256verify-rip7212`) is a new
(so pre-warmed) or replacing entry of `PRE_COMPILED_CONTRACTS` that runs the spec's EIP-7951
checks and `secp256r1_verify` at the profile's price.

Halt classes
------------
From the exception class of the top frame (`HALT_NAMES`), with two corrections: a creation
whose init code succeeded but returned more than `MAX_CODE_SIZE` bytes is `code-size-limit`
(EELS says `OutOfGasError`); a transaction sent to a precompile that fails is
`precompile-failure` unless the `OutOfGasError` was raised by `charge_gas` itself (EELS's
alt_bn128 signals invalid points with `OutOfGasError` too).

Speed: fork modules and their hooks are cached; no tracer is installed; `Hardfork.discover()`
is cached; `Unsigned.__eq__` answers plain ints without its runtime Protocol check (same
result, see `_speed_up_unsigned_eq`).
"""

import os
import sys

# Nothing but protocol lines on stdout: keep a private copy of the real stdout for the
# protocol and send every other write, Python-level (prints inside EELS, warnings) or
# C-level (fd 1), to stderr, before anything else is imported.
sys.stdout.flush()
_PROTOCOL_OUT = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr

import argparse  # noqa: E402
import copy  # noqa: E402
import io  # noqa: E402
import json
import time  # noqa: E402
import logging  # noqa: E402
import traceback  # noqa: E402

from ethereum_types.bytes import Bytes20  # noqa: E402
from ethereum_types.numeric import U256, Uint  # noqa: E402

from ethereum.crypto.hash import keccak256  # noqa: E402
from ethereum.exceptions import EthereumException, InvalidBlock  # noqa: E402
from ethereum_spec_tools.forks import Hardfork  # noqa: E402
from ethereum_spec_tools.evm_tools import create_parser  # noqa: E402
from ethereum_spec_tools.evm_tools.t8n import T8N, ForkCache  # noqa: E402

try:
    from importlib.metadata import version as _pkg_version

    VERSION = _pkg_version("ethereum-execution")
except Exception:  # pragma: no cover - metadata missing
    VERSION = "unknown"

logging.getLogger("T8N").setLevel(logging.ERROR)


def _speed_up_unsigned_eq():
    """`Unsigned.__eq__` tests `isinstance(other, SupportsInt)`, a runtime-checkable
    Protocol whose check dominates small transactions (comparisons with plain ints are
    everywhere in the spec). A plain `int` is answered directly, with the same result the
    original gives (int(other) == other); everything else goes to the original."""
    from ethereum_types.numeric import Unsigned

    orig_eq = Unsigned.__eq__

    def __eq__(self, other):
        t = type(other)
        if t is int:
            return self._number == other
        if isinstance(other, Unsigned):
            return self._number == other._number
        return orig_eq(self, other)

    __eq__.__wrapped__ = orig_eq
    Unsigned.__eq__ = __eq__  # the class keeps its own __hash__


_speed_up_unsigned_eq()

# `Hardfork.discover()` walks the `ethereum.forks` package; T8N and its loader call it on every
# construction. The result never changes within a process.
_DISCOVERED = Hardfork.discover()
_orig_discover = Hardfork.discover


def _cached_discover(*args, **kwargs):
    if args or kwargs:
        return _orig_discover(*args, **kwargs)
    return list(_DISCOVERED)


Hardfork.discover = staticmethod(_cached_discover)  # type: ignore[method-assign]

# ethereum/tests fork name -> (name for EELS's t8n `--state.fork`, fork module short name).
FORKS = {
    "Frontier": ("Frontier", "frontier"),
    "Homestead": ("Homestead", "homestead"),
    "EIP150": ("EIP150", "tangerine_whistle"),
    "TangerineWhistle": ("TangerineWhistle", "tangerine_whistle"),
    "EIP158": ("EIP158", "spurious_dragon"),
    "SpuriousDragon": ("SpuriousDragon", "spurious_dragon"),
    "Byzantium": ("Byzantium", "byzantium"),
    "ConstantinopleFix": ("ConstantinopleFix", "constantinople"),
    "Petersburg": ("ConstantinopleFix", "constantinople"),
    "Istanbul": ("Istanbul", "istanbul"),
    "Berlin": ("Berlin", "berlin"),
    "London": ("London", "london"),
    "Paris": ("Paris", "paris"),
    "Merge": ("Paris", "paris"),
    "Shanghai": ("Shanghai", "shanghai"),
    "Cancun": ("Cancun", "cancun"),
    "Prague": ("Prague", "prague"),
    "Osaka": ("Osaka", "osaka"),
}
UNSUPPORTED_FORKS = {
    "Constantinople": "the execution spec has no original Constantinople (EIP-1283); "
    "only ConstantinopleFix (Petersburg)",
}

# core/src/profile.rs `constant_shape`: opcode -> (inputs popped, static gas).
CONSTANT_SHAPE = {}
for _op in (0x30, 0x32, 0x33, 0x34, 0x36, 0x38, 0x3A, 0x3D, 0x41, 0x42, 0x43, 0x44, 0x45,
            0x46, 0x48, 0x4A):
    CONSTANT_SHAPE[_op] = (0, 2)
CONSTANT_SHAPE[0x47] = (0, 5)
CONSTANT_SHAPE[0x40] = (1, 20)
CONSTANT_SHAPE[0x49] = (1, 3)

MODEXP = bytes.fromhex("0000000000000000000000000000000000000005")

# The t8n options of EELS's `statetest` (parsed once; copied per request).
_T8N_OPTIONS = create_parser().parse_args(
    [
        "t8n",
        "--input.alloc", "stdin",
        "--input.env", "stdin",
        "--input.txs", "stdin",
        "--state.fork", "Frontier",
        "--state-test",
    ]
)
# The t8n options for a chain's block: the same, without `--state-test` (so t8n reads the
# block's `parentBeaconBlockRoot` and pays the miner's reward as a client does).
_T8N_CHAIN_OPTIONS = create_parser().parse_args(
    [
        "t8n",
        "--input.alloc", "stdin",
        "--input.env", "stdin",
        "--input.txs", "stdin",
        "--state.fork", "Frontier",
    ]
)
_FORK_CACHE = ForkCache()

# Senders of the chain's transactions whose key is unknown (a BlockchainTest's: evmdiff
# recovered their sender from the signature when it read the block), by the id of the spec's
# transaction object. t8n only takes signed transactions, so such a transaction is signed with
# a stand-in key and `recover_sender` answers the real sender for it.
_SENDERS = {}
_STAND_IN_KEY = "0x" + "00" * 31 + "01"


class ProfileReject(Exception):
    """A profile refused the transaction. Deliberately not an `EthereumException`, so that
    nothing inside the spec catches it on its way out of `process_transaction`."""


# What the hooks saw during the current request.
_CAPTURE = {}


class ForkContext:
    """One fork module: its hooks (installed once) and the pristine tables that profiles edit."""

    def __init__(self, hardfork):
        self.hardfork = hardfork
        self.fork_mod = hardfork.module("fork")
        self.interp = hardfork.module("vm.interpreter")
        self.instr = hardfork.module("vm.instructions")
        self.exc = hardfork.module("vm.exceptions")
        self.stack = hardfork.module("vm.stack")
        self.gas = hardfork.module("vm.gas")
        self.mapping = hardfork.module("vm.precompiled_contracts.mapping")
        self.precompiles = self.mapping.PRE_COMPILED_CONTRACTS
        assert self.interp.PRE_COMPILED_CONTRACTS is self.precompiles
        self.op_impl = self.instr.op_implementation
        assert self.interp.op_implementation is self.op_impl
        self.Ops = self.instr.Ops
        assert self.interp.Ops is self.Ops
        self.orig_precompiles = dict(self.precompiles)
        self.orig_op_impl = dict(self.op_impl)
        self.dirty = False

        class ProfileHalt(self.exc.ExceptionalHalt):
            """A precompile halted by a profile rule."""

        self.ProfileHalt = ProfileHalt

        orig_pmc = self.fork_mod.process_message_call

        def process_message_call(message, *args, **kwargs):
            out = orig_pmc(message, *args, **kwargs)
            _CAPTURE["out"] = out
            _CAPTURE["message"] = message
            return out

        self.fork_mod.process_message_call = process_message_call

        orig_pm = self.interp.process_message
        precompiles = self.precompiles

        def process_message(message, *args, **kwargs):
            evm = orig_pm(message, *args, **kwargs)
            if message.depth == 0:
                _CAPTURE["evm"] = evm
                _CAPTURE["inner"] = (evm.error, len(evm.output))
                _CAPTURE["to_precompile"] = (
                    message.code_address in precompiles
                    and not getattr(message, "disable_precompiles", False)
                )
            return evm

        self.interp.process_message = process_message

        orig_recover = self.fork_mod.recover_sender

        def recover_sender(*args, **kwargs):
            tx = args[-1] if args else kwargs.get("tx")
            known = _SENDERS.get(id(tx))
            if known is not None:
                return known
            return orig_recover(*args, **kwargs)

        self.fork_mod.recover_sender = recover_sender

    # -- profile application -------------------------------------------------------------
    def reset(self):
        if not self.dirty:
            return
        self.precompiles.clear()
        self.precompiles.update(self.orig_precompiles)
        self.op_impl.clear()
        self.op_impl.update(self.orig_op_impl)
        self.interp.Ops = self.Ops
        self.dirty = False

    def apply(self, rules):
        """Installs the parsed profile `rules` (see `parse_profile`)."""
        self.reset()
        if rules is None:
            return
        self.dirty = True
        exc = self.exc
        pop, push, charge_gas = self.stack.pop, self.stack.push, self.gas.charge_gas
        pseudo = {}

        for op, (kind, value) in rules["opcodes"].items():
            if kind == "supported":
                continue
            if kind == "constant":
                n_in, static_gas = CONSTANT_SHAPE[op]
                fn = _make_constant(pop, push, charge_gas, n_in, Uint(static_gas), U256(value))
            elif kind == "keccak-chain-number":
                fn = _make_keccak_chain_number(pop, push, charge_gas)
            elif kind == "invalid":
                fn = _make_invalid(exc.InvalidOpcode, op)
            elif kind == "revert-refund":
                fn = _make_revert(exc.Revert)
            elif kind == "reject":
                try:
                    op_name = self.Ops(op).name
                except ValueError:
                    op_name = f"0x{op:02x}"
                fn = _make_reject(f"profile rejects opcode {op_name}")
            else:  # checked by parse_profile
                raise AssertionError(kind)
            try:
                key = self.Ops(op)
            except ValueError:
                if kind == "invalid":
                    continue  # already an undefined opcode
                key = ("evmdiff-profile-op", op)
                pseudo[op] = key
            self.op_impl[key] = fn
        if pseudo:
            self.interp.Ops = _OpsProxy(self.Ops, pseudo)

        for addr, kind in rules["precompiles"].items():
            key = _find_key(self.orig_precompiles, addr)
            if key is None or kind == "supported":
                continue  # not a precompile of the base fork: no rule applies
            if kind == "absent":
                del self.precompiles[key]
            elif kind == "revert-refund":
                self.precompiles[key] = _make_revert(exc.Revert)
            elif kind == "halt":
                self.precompiles[key] = _make_halt(self.ProfileHalt)
            elif kind == "reject":
                self.precompiles[key] = _make_reject(
                    f"profile rejects the call to precompile 0x{addr.hex()} (precompile rule)"
                )
            else:
                raise AssertionError(kind)

        # Gas rules: the profile's figure first, then the spec's own instruction with its
        # standard fixed cost handed back for it to charge; a precompile runs with all the
        # gas it wants and is charged the figure.
        for op, gas in rules["op_gas"].items():
            key = self.Ops(op)
            self.op_impl[key] = _make_repriced_op(
                self.op_impl[key], charge_gas, Uint(gas), Uint(fixed_opcode_gas(op))
            )
        for addr, gas in rules["pc_gas"].items():
            key = _find_key(self.orig_precompiles, addr)
            if key is not None:
                self.precompiles[key] = _make_repriced_precompile(
                    self.precompiles[key], Uint(gas), charge_gas
                )

        # Added precompiles: a new key of the fork's precompile map is also warm (the spec's
        # `prepare_message` warms that map's keys); an existing one is replaced.
        for addr, (_impl, gas) in rules["added"].items():
            key = _find_key(self.orig_precompiles, addr)
            self.precompiles[key if key is not None else Bytes20(addr)] = _make_p256verify(
                charge_gas, Uint(gas)
            )

        cap = rules["modexp"]
        if cap is not None:
            key = _find_key(self.precompiles, MODEXP)
            # A rule for 0x05 takes precedence over the cap (as in the revm adapter).
            if key is not None and _find_key(rules["precompiles"], MODEXP) is None:
                max_len, kind = cap
                if kind == "revert-refund":
                    over = _make_revert(exc.Revert)
                elif kind == "halt":
                    over = _make_halt(self.ProfileHalt)
                else:
                    over = _make_reject(
                        "profile rejects the call to precompile 0x05 (modexp length cap)"
                    )
                self.precompiles[key] = _make_modexp_cap(self.precompiles[key], max_len, over)


class _OpsProxy:
    """Stands in for the fork's `Ops` enum in the interpreter: bytes with a profile rule that
    the base fork does not define decode to a pseudo-opcode instead of raising."""

    def __init__(self, real, pseudo):
        self._real = real
        self._pseudo = pseudo

    def __call__(self, byte):
        key = self._pseudo.get(byte)
        if key is not None:
            return key
        return self._real(byte)

    def __getattr__(self, name):
        return getattr(self._real, name)


def _find_key(d, addr):
    for k in d:
        if bytes(k) == addr:
            return k
    return None


def _make_p256verify(charge_gas, gas):
    """RIP-7212 P256VERIFY charged `gas`: the checks and verification of the spec's own EIP-7951
    precompile (forks/osaka/vm/precompiled_contracts/p256verify.py), which only differs in its
    price, with the fork-independent `ethereum.crypto.elliptic_curve` functions it uses."""
    from ethereum.crypto.elliptic_curve import (
        SECP256R1N,
        SECP256R1P,
        is_on_curve_secp256r1,
        secp256r1_verify,
    )
    from ethereum.crypto.hash import Hash32
    from ethereum.exceptions import InvalidSignatureError

    def p256verify(evm):
        data = bytes(evm.message.data)
        charge_gas(evm, gas)
        if len(data) != 160:
            return
        words = [U256.from_be_bytes(data[i : i + 32]) for i in range(32, 160, 32)]
        r, s, x, y = words
        zero = U256(0)
        if not (zero < r < SECP256R1N and zero < s < SECP256R1N):
            return
        if x >= SECP256R1P or y >= SECP256R1P or (x == zero and y == zero):
            return
        if not is_on_curve_secp256r1(x, y):
            return
        try:
            secp256r1_verify(r, s, x, y, Hash32(data[:32]))
        except InvalidSignatureError:
            return
        evm.output = b"\x00" * 31 + b"\x01"

    return p256verify


def _make_constant(pop, push, charge_gas, n_in, gas, value):
    # The order of the spec's own BLOCKHASH/BLOBHASH/...: pop the inputs, charge, push.
    def op(evm):
        for _ in range(n_in):
            pop(evm.stack)
        charge_gas(evm, gas)
        push(evm.stack, value)
        evm.pc += Uint(1)

    return op


def fixed_opcode_gas(op):
    """core/src/profile/gas.rs `fixed_opcode_gas`: the whole cost of the opcodes a gas rule may
    re-price, or None."""
    table = [
        ((0x01, 0x03), 3),
        ((0x02, 0x04, 0x05, 0x06, 0x07, 0x0B), 5),
        ((0x08, 0x09), 8),
        (tuple(range(0x10, 0x1E)), 3),
        ((0x1E,), 5),
        ((0x30, 0x32, 0x33, 0x34, 0x36, 0x38, 0x3A, 0x3D), 2),
        ((0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x48, 0x4A), 2),
        ((0x47,), 5),
        ((0x40,), 20),
        ((0x35, 0x49), 3),
        ((0x50, 0x58, 0x59, 0x5A, 0x5F), 2),
        ((0x56,), 8),
        ((0x57,), 10),
        ((0x5B,), 1),
        (tuple(range(0x60, 0xA0)), 3),
    ]
    for ops, gas in table:
        if op in ops:
            return gas
    return None


def _make_repriced_op(orig, charge_gas, gas, standard):
    def op(evm):
        charge_gas(evm, gas)
        evm.gas_left += standard
        orig(evm)

    return op


def _make_repriced_precompile(orig, gas, charge_gas):
    def precompile(evm):
        if evm.gas_left < gas:
            charge_gas(evm, gas)  # the spec's own out-of-gas, raised by `charge_gas`
        before = evm.gas_left
        evm.gas_left = Uint(1 << 62)
        try:
            orig(evm)
        except BaseException:
            evm.gas_left = before
            raise
        evm.gas_left = before - gas

    return precompile


def keccak_chain_number(chain_id, current, requested):
    """core/src/profile/behaviour.rs `keccak_chain_number`: keccak256 of the chain id and the
    requested number, 8 bytes big-endian each (saturated), for 1..=256 blocks back, else 0."""
    if not 1 <= current - requested <= 256:
        return 0
    cap = (1 << 64) - 1
    data = min(chain_id, cap).to_bytes(8, "big") + min(requested, cap).to_bytes(8, "big")
    return int.from_bytes(keccak256(data), "big")


def _make_keccak_chain_number(pop, push, charge_gas):
    # The order of the spec's own BLOCKHASH: pop, charge 20, push.
    def op(evm):
        requested = int(pop(evm.stack))
        charge_gas(evm, Uint(20))
        env = evm.message.block_env
        push(evm.stack, U256(keccak_chain_number(int(env.chain_id), int(env.number), requested)))
        evm.pc += Uint(1)

    return op


def _make_invalid(invalid_cls, byte):
    def op(evm):
        raise invalid_cls(byte)

    return op


def _make_revert(revert_cls):
    # The frame reverts: gas left is kept, output stays empty (it is only set by RETURN/REVERT,
    # which end the frame).
    def op(evm):
        evm.output = b""
        raise revert_cls

    return op


def _make_halt(halt_cls):
    def op(evm):
        raise halt_cls("halted by the profile")

    return op


def _make_reject(why):
    def op(evm):
        raise ProfileReject(why)

    return op


def _make_modexp_cap(inner, max_len, over):
    def modexp(evm):
        data = bytes(evm.message.data)
        for i in range(3):
            word = data[32 * i: 32 * i + 32].ljust(32, b"\x00")
            if int.from_bytes(word, "big") > max_len:
                return over(evm)
        return inner(evm)

    return modexp


_CONTEXTS = {}


def fork_context(module_name):
    ctx = _CONTEXTS.get(module_name)
    if ctx is None:
        hardfork = next(h for h in _DISCOVERED if h.short_name == module_name)
        ctx = ForkContext(hardfork)
        _CONTEXTS[module_name] = ctx
    return ctx


# -- profile parsing --------------------------------------------------------------------------
class Unsupported(Exception):
    pass


def _parse_int(v):
    if isinstance(v, int):
        return v
    s = str(v)
    return int(s, 16) if s.lower().startswith("0x") else int(s)


def _addr_bytes(s):
    h = str(s).lower()
    if h.startswith("0x"):
        h = h[2:]
    return bytes.fromhex(h.rjust(40, "0"))


# The protocol's profile keys this worker applies; any other key is a rule it cannot.
PROFILE_KEYS = {"name", "baseFork", "opcodes", "precompiles", "limits", "addedPrecompiles", "gas"}
# The added-precompile implementations this worker has.
IMPLEMENTATIONS = {"p256verify-rip7212"}


def parse_profile(profile):
    """The request's profile as `{"opcodes": {byte: (kind, value)}, "precompiles": {addr:
    kind}, "modexp": (max_len, kind) | None}`, or None for plain mainnet. Raises `Unsupported`
    for rules this adapter cannot apply (the same set as the revm adapter's `check`)."""
    if profile is None:
        return None
    # Gas rules and added precompiles (docs/profiles.md) are not implemented here: sit out.
    unknown_rules = set(profile) - PROFILE_KEYS
    if unknown_rules:
        raise Unsupported(f"profile rules {sorted(unknown_rules)} are not implemented by this worker")
    opcodes = {}
    for k, rule in (profile.get("opcodes") or {}).items():
        op = _parse_int(k)
        kind = rule.get("behaviour") if isinstance(rule, dict) else rule
        value = None
        if kind == "constant":
            if op not in CONSTANT_SHAPE:
                raise Unsupported(f"opcode rule `constant` for 0x{op:02x}")
            value = _parse_int(rule.get("value", 0))
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
            precompiles[_addr_bytes(k)] = kind
    modexp = None
    limits = profile.get("limits") or {}
    cap = limits.get("modexp")
    if cap is not None:
        kind = cap.get("behaviour")
        if kind not in ("revert-refund", "halt", "reject"):
            raise Unsupported(f"modexp cap behaviour `{kind}`")
        modexp = (_parse_int(cap.get("maxLen", cap.get("max_len"))), kind)
    unknown = set(limits) - {"modexp"}
    if unknown:
        raise Unsupported(f"unknown profile limits {sorted(unknown)}")
    added = {}
    for k, p in (profile.get("addedPrecompiles") or {}).items():
        impl = p.get("implementation")
        if impl not in IMPLEMENTATIONS:
            raise Unsupported(f"added precompile `{impl}` at {k} is not implemented by this worker")
        added[_addr_bytes(k)] = (impl, _parse_int(p.get("gas")))
    gas = profile.get("gas") or {}
    unknown = set(gas) - {"opcodes", "precompiles"}
    if unknown:
        raise Unsupported(f"unknown gas rules {sorted(unknown)}")
    op_gas = {}
    for k, g in (gas.get("opcodes") or {}).items():
        op = _parse_int(k)
        if fixed_opcode_gas(op) is None:
            raise Unsupported(f"gas rule for 0x{op:02x}, which has no fixed cost")
        op_gas[op] = _parse_int(g)
    pc_gas = {_addr_bytes(k): _parse_int(g) for k, g in (gas.get("precompiles") or {}).items()}
    if not opcodes and not precompiles and modexp is None and not added and not op_gas and not pc_gas:
        return None
    return {
        "opcodes": opcodes,
        "precompiles": precompiles,
        "modexp": modexp,
        "added": added,
        "op_gas": op_gas,
        "pc_gas": pc_gas,
    }


def _uses_revert(rules):
    return (
        any(kind == "revert-refund" for kind, _ in rules["opcodes"].values())
        or any(kind == "revert-refund" for kind in rules["precompiles"].values())
        or (rules["modexp"] is not None and rules["modexp"][1] == "revert-refund")
    )


# -- results ----------------------------------------------------------------------------------
HALT_NAMES = {
    "OutOfGasError": "out-of-gas",
    "InvalidOpcode": "invalid-opcode",
    "StackUnderflowError": "stack-underflow",
    "StackOverflowError": "stack-overflow",
    "InvalidJumpDestError": "invalid-jump",
    "WriteInStaticContext": "static-violation",
    "OutOfBoundsRead": "return-data-out-of-bounds",
    "InvalidParameter": "precompile-failure",
    "KZGProofError": "precompile-failure",
    "ProfileHalt": "precompile-failure",
    "InvalidContractPrefix": "invalid-code-prefix",
    "AddressCollision": "create-collision",
    "StackDepthLimitError": "call-too-deep",
}


def _raised_in(error, function_name):
    """True when the innermost frame of `error`'s traceback is `function_name`."""
    tb = error.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_name == function_name


def _hex(n):
    return hex(int(n))


def _hexb(b):
    return "0x" + bytes(b).hex()


def dump_state(state):
    post = {}
    storage_tries = state._storage_tries
    for address, account in state._main_trie._data.items():
        if account is None:
            continue
        storage = {}
        trie = storage_tries.get(address)
        if trie is not None:
            for k, v in trie._data.items():
                if v:
                    storage["0x" + bytes(k).hex()] = _hex(v)
        post["0x" + bytes(address).hex()] = {
            "balance": _hex(account.balance),
            "nonce": _hex(account.nonce),
            "code": _hexb(account.code),
            "storage": storage,
        }
    return post


class _BlockHashes:
    """The hashes of the (up to) 256 blocks before `number`, oldest first, as EELS's
    `block_hashes` list: keccak256 of the decimal block number, computed when BLOCKHASH asks."""

    def __init__(self, number):
        self.number = number
        self.count = min(256, number)

    def __len__(self):
        return self.count

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.count))]
        if i < 0:
            i += self.count
        if not 0 <= i < self.count:
            raise IndexError(i)
        return keccak256(str(self.number - self.count + i).encode())

    def __iter__(self):
        return (self[i] for i in range(self.count))


def _block_hashes(number):
    return _BlockHashes(number)


def build_t8n_input(test):
    """The t8n stdin document of EELS's `statetest` for the test's single vector."""
    env = dict(test["env"])
    env.pop("blockHashes", None)
    env["blockHashes"] = {}
    env["withdrawals"] = []
    post = test.get("post") or {}
    idx = {"data": 0, "gas": 0, "value": 0}
    for entries in post.values():
        entry = entries
        # Tolerate a doubly nested list ({"fork": [[{...}]]}) as well as the documented shape.
        while isinstance(entry, list) and entry:
            entry = entry[0]
        if isinstance(entry, dict):
            idx.update(entry.get("indexes") or {})
        break
    d, g, v = idx["data"], idx["gas"], idx["value"]
    tx = {}
    for k, value in test["transaction"].items():
        if k == "data":
            tx["input"] = value[d]
        elif k == "gasLimit":
            tx["gas"] = value[g]
        elif k == "value":
            tx["value"] = value[v]
        elif k == "accessLists":
            if value and d < len(value) and value[d] is not None:
                tx["accessList"] = value[d]
        else:
            tx[k] = copy.deepcopy(value)
    if tx.get("to") is None:
        tx["to"] = ""
    return {"env": env, "alloc": copy.deepcopy(test["pre"]), "txs": [tx]}


def _restore(t8n):
    """Back to the pre-state, with no snapshot left open."""
    t8n.restore_state()
    state = t8n.alloc.state
    for attr in ("_snapshots", "created_accounts"):
        v = getattr(state, attr, None)
        if v is not None:
            v.clear()


def rejected(t8n, state, detail, root=True):
    answer = {
        "status": "rejected",
        "gasUsed": "0x0",
        "refund": "0x0",
        "output": "0x",
        "logs": [],
        "post": dump_state(state),
        "detail": detail,
    }
    if root:
        answer["stateRoot"] = _hexb(t8n.fork.state_root(state))
    return answer


def _prepare(req):
    """The fork context and parsed profile of a request, or the `unsupported` answer."""
    fork_name = req.get("fork")
    if fork_name in UNSUPPORTED_FORKS:
        return None, {"unsupported": f"eels worker: {UNSUPPORTED_FORKS[fork_name]}"}
    if fork_name not in FORKS:
        return None, {"unsupported": f"eels worker: unknown fork {fork_name!r}"}
    try:
        rules = parse_profile(req.get("profile"))
    except Unsupported as e:
        return None, {"unsupported": f"eels worker: {e}"}
    state_fork, module_name = FORKS[fork_name]
    ctx = fork_context(module_name)
    if rules is not None and not hasattr(ctx.exc, "Revert") and _uses_revert(rules):
        return None, {
            "unsupported": f"eels worker: `revert-refund` needs REVERT semantics, which "
            f"{fork_name} does not have in the execution spec"
        }
    return (state_fork, ctx, rules), None


def run_request(req):
    test = req.get("test")
    if not isinstance(test, dict):
        if isinstance(req.get("chain"), dict):
            return run_chain(req)
        raise ValueError("request without `test` or `chain`")
    prepared, answer = _prepare(req)
    if answer is not None:
        return answer
    state_fork, ctx, rules = prepared

    options = argparse.Namespace(**vars(_T8N_OPTIONS))
    options.state_fork = state_fork
    doc = build_t8n_input(test)
    t8n = T8N(options, io.StringIO(), io.StringIO(json.dumps(doc)), _FORK_CACHE)
    t8n.env.block_hashes = _block_hashes(int(t8n.env.block_number))
    state = t8n.alloc.state

    if t8n.txs.rejected_txs or not t8n.txs.transactions:
        why = "; ".join(str(x) for x in t8n.txs.rejected_txs.values()) or "no transaction"
        return rejected(t8n, state, why)
    tx = t8n.txs.transactions[0]

    block_env = t8n.block_environment()
    block_output = t8n.fork.BlockOutput()
    ctx.apply(rules)
    try:
        return _transaction(ctx, t8n, block_env, block_output, tx, 0)
    finally:
        ctx.reset()


def _transaction(ctx, t8n, block_env, block_output, tx, index, root=True):
    """One transaction through the fork's `process_transaction` on the block's state, as the
    protocol's answer: refused (an `EthereumException`, a profile `reject`) leaves the state as
    it was before it. `root`: with the spec's state root (which it computes from scratch: a
    chain gives it at each block's end only)."""
    t8n.backup_state()
    gas_before = int(block_output.block_gas_used)
    _CAPTURE.clear()
    try:
        t8n.fork.process_transaction(
            block_env=block_env, block_output=block_output, tx=tx, index=Uint(index)
        )
    except EthereumException as e:
        _restore(t8n)
        return rejected(t8n, t8n.alloc.state, f"invalid transaction: {e!r}", root)
    except ProfileReject as e:
        # Raised from inside a frame: the state still has that frame's open snapshots.
        _restore(t8n)
        return rejected(t8n, t8n.alloc.state, str(e), root)

    out = _CAPTURE.get("out")
    if out is None:
        raise RuntimeError("process_transaction ran no message call")
    state = block_env.state
    gas_used = int(block_output.block_gas_used) - gas_before
    before_refund = int(tx.gas) - int(out.gas_left)
    refund = max(0, before_refund - gas_used)

    error = out.error
    evm = _CAPTURE.get("evm")
    message = _CAPTURE.get("message")
    revert_cls = getattr(ctx.exc, "Revert", None)  # none before Byzantium
    res = {}
    if error is None:
        status = "success"
    elif revert_cls is not None and isinstance(error, revert_cls):
        status = "revert"
    else:
        status = "halt"
        name = type(error).__name__
        halt = HALT_NAMES.get(name, "other")
        is_create = message is not None and bytes(message.target) == b""
        if name == "OutOfGasError" and is_create:
            inner = _CAPTURE.get("inner")
            # The init code succeeded and the deposit failed: over the code size limit, or
            # out of gas for the deposit (EELS says OutOfGasError for both).
            max_code = getattr(ctx.interp, "MAX_CODE_SIZE", None)  # none before EIP-170
            if (
                max_code is not None
                and inner is not None
                and inner[0] is None
                and inner[1] > max_code
            ):
                halt = "code-size-limit"
        elif _CAPTURE.get("to_precompile") and not is_create:
            # The transaction called a precompile that failed. EELS signals several invalid
            # inputs (alt_bn128, ...) with OutOfGasError too: it is out of gas only when
            # raised by `charge_gas` itself.
            if name == "OutOfGasError" and _raised_in(error, "charge_gas"):
                halt = "out-of-gas"
            else:
                halt = "precompile-failure"
        res["halt"] = halt

    if status == "halt" or evm is None:
        output = b""
    else:
        output = bytes(evm.output)

    logs = []
    if status == "success":
        for log in out.logs:
            logs.append(
                {
                    "address": _hexb(log.address),
                    "topics": [_hexb(t) for t in log.topics],
                    "data": _hexb(log.data),
                }
            )

    res.update(
        {
            "status": status,
            "gasUsed": _hex(gas_used),
            "refund": _hex(refund),
            "output": _hexb(output),
            "logs": logs,
            "post": dump_state(state),
            "detail": "ok" if error is None else repr(error),
        }
    )
    if root:
        res["stateRoot"] = _hexb(t8n.fork.state_root(state))
    return res


class _ChainHashes:
    """The hashes of the (up to) 256 blocks before `number`, oldest first, as EELS's
    `block_hashes` list, from the request's `blockHashes` (zero for a number it lacks)."""

    def __init__(self, number, known):
        self.start = max(0, number - 256)
        self.hashes = [known.get(n, b"\0" * 32) for n in range(self.start, number)]

    def __len__(self):
        return len(self.hashes)

    def __getitem__(self, i):
        return self.hashes[i]

    def __iter__(self):
        return iter(self.hashes)


def _chain_tx(t):
    """A chain request's transaction (the state test's `transaction` object) as t8n input,
    signed with a stand-in key when its own is unknown (zero)."""
    tx = {}
    for k, value in t.items():
        one = value[0] if isinstance(value, list) and value else value
        if k == "data":
            tx["input"] = one
        elif k == "gasLimit":
            tx["gas"] = one
        elif k == "value":
            tx["value"] = one
        elif k == "accessLists":
            if one is not None:
                tx["accessList"] = one
        else:
            tx[k] = copy.deepcopy(value)
    if tx.get("to") is None:
        tx["to"] = ""
    stand_in = int(tx.get("secretKey") or "0x0", 16) == 0
    if stand_in:
        tx["secretKey"] = _STAND_IN_KEY
    return tx, stand_in


def _address(s):
    return Bytes20(bytes.fromhex(s[2:] if s.startswith("0x") else s))


def run_chain(req):
    """The chain form (docs/protocol.md): each block applied as EELS's t8n applies a block
    (`T8N._run_blockchain_test`: the EIP-2935 and EIP-4788 system transactions, every
    transaction through `process_transaction` on the state the previous one left, an invalid
    one dropped, the miner's reward before the Merge, withdrawals, the Prague request system
    transactions), on one state carried by the spec from block to block. The loop is t8n's,
    written out so that the state after each transaction can be read."""
    prepared, answer = _prepare(req)
    if answer is not None:
        return answer
    state_fork, ctx, rules = prepared
    chain = req["chain"]
    known = {
        int(n, 16): bytes.fromhex(h[2:]) for n, h in (chain.get("blockHashes") or {}).items()
    }
    options = argparse.Namespace(**vars(_T8N_CHAIN_OPTIONS))
    options.state_fork = state_fork
    options.state_chainid = int(chain.get("chainId") or "0x1", 16)
    state = None
    blocks = []
    ctx.apply(rules)
    try:
        for block in chain.get("blocks") or []:
            env = dict(block["env"])
            env["blockHashes"] = {}
            env["withdrawals"] = block.get("withdrawals") or []
            env["ommers"] = []
            if env.get("parentBeaconBlockRoot") is None:
                env["parentBeaconBlockRoot"] = "0x" + "00" * 32
            raw = [_chain_tx(t) for t in block.get("transactions") or []]
            doc = {
                "env": env,
                "alloc": copy.deepcopy(chain.get("pre") or {}) if state is None else {},
                "txs": [tx for tx, _ in raw],
            }
            t8n = T8N(options, io.StringIO(), io.StringIO(json.dumps(doc)), _FORK_CACHE)
            if state is not None:
                t8n.alloc.state = state
            number = int(t8n.env.block_number)
            t8n.env.block_hashes = _ChainHashes(number, known)
            parsed = dict(zip(t8n.txs.successfully_parsed, t8n.txs.transactions))
            _SENDERS.clear()
            for i, (t, stand_in) in enumerate(raw):
                if stand_in and i in parsed and t.get("sender"):
                    _SENDERS[id(parsed[i])] = _address(t["sender"])
            block_env = t8n.block_environment()
            block_output = t8n.fork.BlockOutput()
            blocks.append(_chain_block(ctx, t8n, block_env, block_output, len(raw), parsed))
            state = block_env.state
            if blocks[-1].get("invalid") is not None:
                break
    finally:
        _SENDERS.clear()
        ctx.reset()
    return {"blocks": blocks}


def _chain_block(ctx, t8n, block_env, block_output, count, parsed):
    fork = t8n.fork
    txs = []
    try:
        if fork.has_compute_requests_hash:
            fork.process_unchecked_system_transaction(
                block_env=block_env,
                target_address=fork.HISTORY_STORAGE_ADDRESS,
                data=block_env.block_hashes[-1],  # the parent hash
            )
        if fork.has_beacon_roots_address:
            fork.process_unchecked_system_transaction(
                block_env=block_env,
                target_address=fork.BEACON_ROOTS_ADDRESS,
                data=block_env.parent_beacon_block_root,
            )
        for i in range(count):
            tx = parsed.get(i)
            if tx is None:
                why = t8n.txs.rejected_txs.get(i, "not parsed")
                txs.append(rejected(t8n, block_env.state, f"invalid transaction: {why}", False))
                continue
            txs.append(_transaction(ctx, t8n, block_env, block_output, tx, len(txs), False))
        if not fork.proof_of_stake:
            t8n.pay_block_rewards(fork.BLOCK_REWARD, block_env)
        if fork.has_withdrawal:
            fork.process_withdrawals(block_env, block_output, t8n.env.withdrawals)
        if fork.has_compute_requests_hash:
            fork.process_general_purpose_requests(block_env, block_output)
    except InvalidBlock as e:
        return {"txs": txs, "invalid": f"{type(e).__name__}: {e}"}
    state = block_env.state
    return {
        "txs": txs,
        "end": {
            "post": dump_state(state),
            "stateRoot": _hexb(fork.state_root(state)),
            "gasUsed": _hex(block_output.block_gas_used),
        },
    }


class StepTracer:
    """The steps of one request, in the protocol's conventions (docs/protocol.md, "Steps"):
    EIP-3155 fields, `refund` the transaction-wide counter *before* the instruction (the
    spec's own EIP-3155 tracer prints it after the gas charge), no line for the implicit STOP
    at the end of the code nor for precompile calls, `gasCost` the first charge of the
    instruction (for a CALL, the gas made available to the callee included)."""

    def __init__(self):
        self.lines = []
        # The last line's instruction is still executing (its cost and error can land).
        self.open = False
        self.charged = False

    def __call__(self, evm, event):
        name = type(event).__name__
        if name == "OpStart":
            self._line(evm, int(event.op.value))
            self.open, self.charged = True, False
        elif name == "GasAndRefund":
            if self.open and not self.charged and self.lines:
                self.lines[-1]["gasCost"] = hex(event.gas_cost)
                self.charged = True
        elif name == "OpEnd":
            self.open = False
        elif name == "OpException":
            last = self.lines[-1] if self.lines else None
            if type(event.error).__name__ == "Revert":
                # REVERT ends its frame through an exception, but it is not a failure: its
                # cost stands.
                pass
            elif self.open and last is not None and last["depth"] == int(evm.message.depth) + 1:
                last["error"] = type(event.error).__name__
                last.pop("gasCost", None)
            elif hasattr(event.error, "code"):
                # An undefined opcode fails while decoding, before any OpStart.
                self._line(evm, int(event.error.code))
                self.lines[-1]["error"] = type(event.error).__name__
            self.open = False

    def _line(self, evm, op):
        refund = evm.refund_counter
        parent = evm.message.parent_evm
        while parent is not None:
            refund += parent.refund_counter
            parent = parent.message.parent_evm
        line = {
            "pc": int(evm.pc),
            "op": op,
            "gas": hex(evm.gas_left),
            # An instruction that charges nothing (STOP) sees no GasAndRefund event.
            "gasCost": "0x0",
            "memSize": len(evm.memory),
            "stack": [hex(x) for x in evm.stack],
            "depth": int(evm.message.depth) + 1,
            "refund": int(refund),
            "memory": "0x" + bytes(evm.memory).hex(),
        }
        return_data = getattr(evm, "return_data", None)
        if return_data is not None:
            line["returnData"] = "0x" + bytes(return_data).hex()
        self.lines.append(line)


def run_traced(req):
    """`run_request` with the step tracer installed when the request asks for steps; the
    steps are sent before the answer."""
    if not req.get("steps"):
        return run_request(req), []
    import ethereum.trace as trace

    tracer = StepTracer()
    previous = trace.set_evm_trace(tracer)
    try:
        answer = run_request(req)
    finally:
        trace.set_evm_trace(previous)
    return answer, tracer.lines


# The version of evmdiff's worker protocol this worker speaks (docs/protocol.md).
PROTOCOL = 1


def send(obj):
    _PROTOCOL_OUT.write(json.dumps(obj, separators=(",", ":")) + "\n")
    _PROTOCOL_OUT.flush()


def main():
    send(
        {
            "ready": True,
            "protocol": PROTOCOL,
            "backend": "eels",
            "version": VERSION,
            "steps": True,
            "chains": True,
        }
    )
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
            answer, steps = run_traced(req)
            for step in steps:
                send(step)
            # The implementation's share of the round trip (docs/backends.md: elapsedUs).
            answer["elapsedUs"] = round((time.perf_counter() - started) * 1e6)
        except BaseException as e:  # noqa: B902 - a worker never dies on a request
            if isinstance(e, KeyboardInterrupt):
                raise
            answer = {"failed": traceback.format_exc()}
            # A profile must never leak into the next request.
            for ctx in _CONTEXTS.values():
                try:
                    ctx.reset()
                except Exception:
                    pass
        try:
            send({"id": rid, **answer})
        except BrokenPipeError:
            break


if __name__ == "__main__":
    main()
