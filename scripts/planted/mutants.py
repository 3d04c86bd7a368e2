"""Planted bugs for the execution spec: single, realistic consensus bugs, each one textual
change to one module of a fork (the kind of slip a real implementation ships: an off-by-one
at a limit, a sign, a forgotten charge or refund, a wrong constant, a check skipped).

`apply(name, fork)` re-executes the changed module's source in place, so that every later
lookup of the changed function (through the instruction table, the gas module, the
precompile table) finds the mutant. A change that does not match its module exactly once
is an error: the table must stay true to the spec version it was written against
(ethereum-execution 2.20.0).
"""

import importlib
import inspect
import sys

# (name, module under ethereum.forks.<fork>, text, replacement, category, what)
MUTANTS = [
    # --- instructions
    ("sdiv-overflow", "vm.instructions.arithmetic",
     "elif dividend == -U255_CEIL_VALUE and divisor == -1:", "elif False:",
     "instructions", "SDIV of -2^255 by -1 not special-cased"),
    ("addmod-no-zero", "vm.instructions.arithmetic",
     "    if z == 0:\n        result = U256(0)\n    else:\n        result = U256((x + y) % z)",
     "    if z == 0:\n        result = U256(x)\n    else:\n        result = U256((x + y) % z)",
     "instructions", "ADDMOD by zero returns x, not 0"),
    ("exp-byte-gas", "vm.instructions.arithmetic",
     "exponent_bytes = (exponent_bits + Uint(7)) // Uint(8)",
     "exponent_bytes = exponent_bits // Uint(8)",
     "gas", "EXP charges per whole byte of the exponent (floor, not ceiling)"),
    ("signextend-slice", "vm.instructions.arithmetic",
     "value_bytes = value_bytes[31 - int(byte_num) :]",
     "value_bytes = value_bytes[32 - int(byte_num) :]",
     "instructions", "SIGNEXTEND takes the sign from one byte too low"),
    ("byte-index-32", "vm.instructions.bitwise",
     "if byte_index >= U256(32):", "if byte_index > U256(32):",
     "instructions", "BYTE with index 32 reads past the word"),
    ("shl-255", "vm.instructions.bitwise",
     "    if shift < Uint(256):\n        result = U256((value << shift) & Uint(U256.MAX_VALUE))",
     "    if shift < Uint(255):\n        result = U256((value << shift) & Uint(U256.MAX_VALUE))",
     "instructions", "SHL by 255 gives 0"),
    ("sar-negative", "vm.instructions.bitwise",
     "    else:\n        result = U256.MAX_VALUE", "    else:\n        result = U256(0)",
     "instructions", "SAR of a negative value by 256 or more gives 0, not -1"),
    ("slt-unsigned", "vm.instructions.comparison",
     "    left = pop(evm.stack).to_signed()\n    right = pop(evm.stack).to_signed()\n\n    # GAS\n    charge_gas(evm, GAS_VERY_LOW)\n\n    # OPERATION\n    result = U256(left < right)",
     "    left = pop(evm.stack)\n    right = pop(evm.stack)\n\n    # GAS\n    charge_gas(evm, GAS_VERY_LOW)\n\n    # OPERATION\n    result = U256(left < right)",
     "instructions", "SLT compares unsigned"),
    ("blockhash-257", "vm.instructions.block",
     "        or current_block_number > max_block_number",
     "        or current_block_number > max_block_number + Uint(1)",
     "instructions", "BLOCKHASH answers for 257 blocks back"),
    ("blobhash-index", "vm.instructions.environment",
     "if int(index) < len(evm.message.tx_env.blob_versioned_hashes):",
     "if 0 < int(index) < len(evm.message.tx_env.blob_versioned_hashes):",
     "instructions", "BLOBHASH(0) returns zero"),
    ("extcodehash-empty", "vm.instructions.environment",
     "    if account == EMPTY_ACCOUNT:", "    if False:",
     "state", "EXTCODEHASH of an empty account is keccak(\"\"), not 0"),
    ("returndatacopy-bounds", "vm.instructions.environment",
     "if Uint(return_data_start_position) + Uint(size) > ulen(evm.return_data):",
     "if Uint(return_data_start_position) > ulen(evm.return_data):",
     "instructions", "RETURNDATACOPY checks only the start against the return data"),
    ("balance-warm", "vm.instructions.environment",
     "    if address in evm.accessed_addresses:\n        charge_gas(evm, GAS_WARM_ACCESS)\n    else:\n        evm.accessed_addresses.add(address)\n        charge_gas(evm, GAS_COLD_ACCOUNT_ACCESS)",
     "    if address in evm.accessed_addresses:\n        charge_gas(evm, GAS_WARM_ACCESS)\n    else:\n        charge_gas(evm, GAS_COLD_ACCOUNT_ACCESS)",
     "gas", "BALANCE does not warm the address it reads"),
    ("calldatacopy-gas", "vm.instructions.environment",
     "    copy_gas_cost = GAS_COPY * words\n    extend_memory = calculate_gas_extend_memory(\n        evm.memory, [(memory_start_index, size)]\n    )\n    charge_gas(evm, GAS_VERY_LOW + copy_gas_cost + extend_memory.cost)\n\n    # OPERATION\n    evm.memory += b\"\\x00\" * extend_memory.expand_by\n    value = buffer_read(evm.message.data, data_start_index, size)",
     "    copy_gas_cost = GAS_COPY * words\n    extend_memory = calculate_gas_extend_memory(\n        evm.memory, [(memory_start_index, size)]\n    )\n    charge_gas(evm, GAS_VERY_LOW + extend_memory.cost)\n\n    # OPERATION\n    evm.memory += b\"\\x00\" * extend_memory.expand_by\n    value = buffer_read(evm.message.data, data_start_index, size)",
     "gas", "CALLDATACOPY charges no copy gas"),
    ("sstore-stipend", "vm.instructions.storage",
     "if evm.gas_left <= GAS_CALL_STIPEND:", "if evm.gas_left < GAS_CALL_STIPEND:",
     "gas", "SSTORE allowed with exactly 2,300 gas left"),
    ("sstore-clear-refund", "vm.instructions.storage",
     "            evm.refund_counter += int(GAS_STORAGE_CLEAR_REFUND)",
     "            evm.refund_counter += int(GAS_STORAGE_CLEAR_REFUND) // 2",
     "state", "clearing a slot refunds half"),
    ("sstore-restore-refund", "vm.instructions.storage",
     "                evm.refund_counter += int(GAS_STORAGE_SET - GAS_WARM_ACCESS)",
     "                evm.refund_counter += int(GAS_STORAGE_SET)",
     "state", "restoring a slot to zero refunds the whole set cost"),
    ("sload-cold", "vm.instructions.storage",
     "        evm.accessed_storage_keys.add((evm.message.current_target, key))\n        charge_gas(evm, GAS_COLD_SLOAD)",
     "        charge_gas(evm, GAS_COLD_SLOAD)",
     "gas", "SLOAD does not warm the slot"),
    ("tstore-static", "vm.instructions.storage",
     "    charge_gas(evm, GAS_WARM_ACCESS)\n    if evm.message.is_static:\n        raise WriteInStaticContext\n    set_transient_storage(",
     "    charge_gas(evm, GAS_WARM_ACCESS)\n    set_transient_storage(",
     "calls", "TSTORE allowed under STATICCALL"),
    ("log-static", "vm.instructions.log",
     "    if evm.message.is_static:\n        raise WriteInStaticContext",
     "    if False:\n        raise WriteInStaticContext",
     "calls", "LOG allowed under STATICCALL"),
    # --- gas
    ("memory-quadratic", "vm.gas",
     "quadratic_cost = size_in_words ** Uint(2) // Uint(512)",
     "quadratic_cost = size_in_words ** Uint(2) // Uint(1024)",
     "memory", "memory's quadratic cost halved"),
    ("all-but-1-64", "vm.gas",
     "return gas - (gas // Uint(64))", "return gas - (gas // Uint(32))",
     "calls", "a call forwards all but 1/32 of the gas"),
    ("stipend-always", "vm.gas",
     "call_stipend = Uint(0) if value == 0 else call_stipend",
     "call_stipend = call_stipend",
     "calls", "the 2,300 stipend is given without value"),
    # --- calls and creates
    ("call-new-account", "vm.instructions.system",
     "    if value == 0 or is_account_alive(evm.message.block_env.state, to):",
     "    if is_account_alive(evm.message.block_env.state, to):",
     "calls", "CALL without value to an empty account charges 25,000"),
    ("call-value-static", "vm.instructions.system",
     "    if evm.message.is_static and value != U256(0):",
     "    if False:",
     "calls", "CALL with value allowed under STATICCALL"),
    ("call-output-size", "vm.instructions.system",
     "actual_output_size = min(memory_output_size, U256(len(child_evm.output)))",
     "actual_output_size = U256(len(child_evm.output))",
     "calls", "CALL writes all the return data, past the output area"),
    ("create-static", "vm.instructions.system",
     "    if evm.message.is_static:\n        raise WriteInStaticContext\n    evm.return_data = b\"\"",
     "    evm.return_data = b\"\"",
     "calls", "CREATE allowed under STATICCALL"),
    ("selfdestruct-new-account", "vm.instructions.system",
     "        gas_cost += GAS_SELF_DESTRUCT_NEW_ACCOUNT", "        gas_cost += Uint(0)",
     "gas", "SELFDESTRUCT to a new account without its 25,000"),
    ("initcode-word-gas", "vm.gas",
     "return GAS_INIT_CODE_WORD_COST * ceil32(init_code_length) // Uint(32)",
     "return GAS_INIT_CODE_WORD_COST * init_code_length // Uint(32)",
     "gas", "init code word cost rounds down"),
    # --- precompiles
    ("ecrecover-v", "vm.precompiled_contracts.ecrecover",
     "if v != U256(27) and v != U256(28):", "if v != U256(27) and v != U256(28) and v != U256(0):",
     "precompiles", "ecrecover accepts v = 0"),
    ("identity-gas", "vm.precompiled_contracts.identity",
     "word_count = ceil32(Uint(len(data))) // Uint(32)",
     "word_count = Uint(len(data)) // Uint(32)",
     "precompiles", "identity charges per whole word (floor)"),
    ("blake2f-flag", "vm.precompiled_contracts.blake2f",
     "if f not in [0, 1]:", "if f not in [0, 1, 2]:",
     "precompiles", "blake2f accepts a final flag of 2"),
    # --- transactions and refunds
    ("refund-cap", "fork",
     "tx_gas_used_before_refund // Uint(5), Uint(tx_output.refund_counter)",
     "tx_gas_used_before_refund // Uint(2), Uint(tx_output.refund_counter)",
     "state", "the refund cap is 1/2 (London made it 1/5)"),
]


def by_name(name):
    for m in MUTANTS:
        if m[0] == name:
            return m
    raise KeyError(f"no planted bug {name}; known: {', '.join(m[0] for m in MUTANTS)}")


def apply(name, fork):
    """Plants bug `name` in the modules of `fork` (e.g. `cancun`), in place."""
    _, module, text, replacement, _, _ = by_name(name)
    mod = importlib.import_module(f"ethereum.forks.{fork}.{module}")
    source = inspect.getsource(mod)
    count = source.count(text)
    if count != 1:
        raise ValueError(f"{name}: the text occurs {count} times in {mod.__name__}, expected once")
    code = compile(source.replace(text, replacement), mod.__file__, "exec")
    exec(code, mod.__dict__)  # noqa: S102 - the planted bug is the point
    # Other modules imported the old functions by name, and instruction tables hold them in
    # dicts: point every such reference at the new function.
    def fresh(value):
        if callable(value) and getattr(value, "__module__", None) == mod.__name__:
            new = mod.__dict__.get(getattr(value, "__name__", None))
            if new is not None and new is not value:
                return new
        return None

    for other in list(sys.modules.values()):
        if other is None or other is mod or not getattr(other, "__name__", "").startswith("ethereum"):
            continue
        for attr, value in list(vars(other).items()):
            if (new := fresh(value)) is not None:
                setattr(other, attr, new)
            elif isinstance(value, dict):
                for k, v in list(value.items()):
                    if (new := fresh(v)) is not None:
                        value[k] = new


if __name__ == "__main__":
    fork = sys.argv[1] if len(sys.argv) > 1 else "cancun"
    bad = 0
    for m in MUTANTS:
        try:
            apply(m[0], fork)
        except Exception as e:  # noqa: BLE001
            bad += 1
            print(f"{m[0]}: {e}")
    print(f"{len(MUTANTS)} planted bugs, {bad} do not apply to {fork}")
