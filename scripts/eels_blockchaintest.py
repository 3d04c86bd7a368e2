"""Replays BlockchainTest files on the Python execution specification's own block validation.

Each block is imported with its fork's `state_transition`, which validates the header against
its parent (number, timestamp, gas limit, base fee, excess blob gas), executes the body and
checks every root the header commits to (state, transactions, receipts, withdrawals, bloom,
gas used, blob gas used, requests). A block the test marks `expectException` must be refused;
after the last block the state root must be `postState`'s.

    python3 eels_blockchaintest.py FILE.json...

Prints one line per test (`PASS name` or `FAIL name: why`) and exits 1 if any failed.
"""

import json
import sys

from ethereum.crypto.hash import keccak256
from ethereum.exceptions import EthereumException
from ethereum_rlp import rlp
from ethereum_spec_tools.evm_tools.loaders.fixture_loader import Load
from ethereum_types.numeric import U64


def fork_module(network: str) -> str:
    names = {"ConstantinopleFix": "constantinople", "EIP150": "tangerine_whistle",
             "EIP158": "spurious_dragon", "Paris": "paris", "Merge": "paris"}
    return names.get(network, network.lower())


def run(name: str, test: dict) -> str | None:
    """`None` when the test passes, else why it does not."""
    load = Load(fork_module(test["network"]))
    fork = load.fork
    genesis, _, _ = load.json_to_block({"rlp": test["genesisRLP"]})

    def fresh():
        return fork.BlockChain(
            blocks=[genesis],
            state=load.json_to_state(test["pre"]),
            chain_id=U64(1),
        )

    chain = fresh()
    accepted = []
    for i, b in enumerate(test["blocks"]):
        expect = b.get("expectException")
        try:
            block, _, _ = load.json_to_block({"rlp": b["rlp"]})
            fork.state_transition(chain, block)
        except (EthereumException, rlp.DecodingError, AssertionError) as e:
            if not expect:
                return f"block {i + 1} refused: {type(e).__name__}: {e!r}"
            # A refused block may have changed the state before it was refused: go on from
            # the chain before it, as a client does, rebuilt from the accepted blocks.
            chain = fresh()
            for a in accepted:
                fork.state_transition(chain, a)
            continue
        if expect:
            return f"block {i + 1} accepted, expected {expect}"
        accepted.append(block)
    head = keccak256(rlp.encode(chain.blocks[-1].header))
    if "0x" + head.hex() != test["lastblockhash"]:
        return f"last block hash 0x{head.hex()} != {test['lastblockhash']}"
    if "postState" in test:
        want = fork.state_root(load.json_to_state(test["postState"]))
        got = fork.state_root(chain.state)
        if want != got:
            return f"state root 0x{got.hex()} != postState's 0x{want.hex()}"
    return None


def main() -> int:
    failed = 0
    for path in sys.argv[1:]:
        with open(path) as f:
            tests = json.load(f)
        for name, test in tests.items():
            why = run(name, test)
            if why is None:
                print(f"PASS {name}")
            else:
                failed += 1
                print(f"FAIL {name}: {why}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
