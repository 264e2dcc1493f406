"""Benchmark of the pure custody core: proof-of-reserves trees and the reference ledger.

Targets (DESIGN.md, "Performance targets"): the proof-of-reserves tree for 1M accounts in at
most 5 s including reading the balances (a plain-Python Merkle sum tree measured 1.9 s on
this machine kind). The ``por_tree_plain_reference`` row is the same-run baseline: a bare
Merkle sum tree without salts, length prefixes or padding, built from the same list.

The ledger rows time :func:`custody.posting.apply_transfers`, the executable specification
the SQL implementation is tested against; they bound what the pure rules cost, not what the
database achieves.
"""

import gc
import hashlib
import random
import time
from datetime import UTC, datetime, timedelta

from bench.timing import per_call
from custody.ledger import Account, AccountKind, TransferCode
from custody.ledger_state import Ledger
from custody.posting import apply_transfers
from custody.reserves import build_tree_for_balances, proof_for, verify_proof
from custody.transfers import Transfer, TransferFlags

_SECRET = b"bench-secret-0123456789abcdef012"
_TARGET_1M_SECONDS = 5


def run(quick: bool = False) -> list[dict]:
    sizes = (10_000, 100_000) if quick else (100_000, 1_000_000)
    rows = []
    largest = None
    for size in sizes:
        balances = [(f"acc-{index:07d}", (index * 7919) % 10**12) for index in range(size)]
        rows.append(_plain_reference_row(balances))
        seconds, largest = _timed_build(balances)
        target = f"; target for 1M ≤ {_TARGET_1M_SECONDS} s" if size == 1_000_000 else ""
        rows.append(
            {
                "name": f"por_tree_build_{_label(size)}",
                "seconds": seconds,
                "ops_per_s": size / seconds,
                "n": size,
                "note": "salted leaves (HMAC-SHA256) + sum tree from a list of balances" + target,
            }
        )
        del balances
    rows.append(_proof_row(largest))
    rows.extend(_ledger_rows(quick))
    return rows


def _label(size: int) -> str:
    return f"{size // 1_000_000}m" if size >= 1_000_000 else f"{size // 1000}k"


def _timed_build(balances):
    gc.collect()
    started = time.perf_counter()
    tree = build_tree_for_balances(_SECRET, "USDC", "por-bench", balances)
    return time.perf_counter() - started, tree


def _plain_reference_row(balances) -> dict:
    """A bare Bitcoin-style Merkle sum tree (no salts or prefixes): the same-run baseline."""
    gc.collect()
    started = time.perf_counter()
    sha256 = hashlib.sha256
    hashes = [
        sha256(name.encode() + value.to_bytes(16, "big")).digest() for name, value in balances
    ]
    sums = [value for _, value in balances]
    while len(hashes) > 1:
        if len(hashes) % 2:
            hashes.append(hashes[-1])
            sums.append(sums[-1])
        hashes = [
            sha256(
                hashes[i]
                + sums[i].to_bytes(16, "big")
                + hashes[i + 1]
                + sums[i + 1].to_bytes(16, "big")
            ).digest()
            for i in range(0, len(hashes), 2)
        ]
        sums = [sums[i] + sums[i + 1] for i in range(0, len(sums), 2)]
    seconds = time.perf_counter() - started
    return {
        "name": f"por_tree_plain_reference_{_label(len(balances))}",
        "seconds": seconds,
        "ops_per_s": len(balances) / seconds,
        "n": len(balances),
        "note": "baseline: unsalted plain-Python Merkle sum tree over the same list",
    }


def _proof_row(tree) -> dict:
    picker = random.Random(7)
    indices = [picker.randrange(tree.size) for _ in range(4096)]
    position = iter(range(10**9))

    def prove_and_verify():
        proof = proof_for(tree, indices[next(position) % len(indices)])
        assert verify_proof(proof, tree.root_hash, tree.total)

    timing = per_call(prove_and_verify, n=5000, warmup=500)
    return {
        "name": f"por_proof_and_verify_{_label(tree.size)}",
        **timing,
        "ops_per_s": 1e6 / float(timing["median_us"]),
        "note": f"proof_for + verify_proof, path length {len(tree.hashes) - 1}",
    }


def _ledger_rows(quick: bool) -> list[dict]:
    clients = 1000
    ledger = Ledger()
    ledger.open(Account.open("wallet", "USDC", AccountKind.CUSTODY_WALLET))
    ledger.open(Account.open("clearing", "USDC", AccountKind.CLEARING))
    for index in range(clients):
        ledger.open(Account.open(f"c{index}", "USDC", AccountKind.CLIENT_LIABILITY))
    clock = [datetime(2026, 11, 24, tzinfo=UTC)]
    issued = iter(range(10**9))

    def tick():
        clock[0] += timedelta(microseconds=1)
        return clock[0]

    def transfer(debit, credit, code, amount=1, flags=TransferFlags.NONE, timeout=0):
        return Transfer(
            id=f"t{next(issued)}",
            debit_account_id=debit,
            credit_account_id=credit,
            amount=amount,
            asset="USDC",
            code=code,
            flags=flags,
            timeout=timeout,
        )

    deposits = [
        transfer("wallet", f"c{index}", TransferCode.DEPOSIT, 10**12) for index in range(clients)
    ]
    apply_transfers(ledger, deposits, tick())
    picker = random.Random(11)

    def trade():
        debit, credit = picker.sample(range(clients), 2)
        return transfer(f"c{debit}", f"c{credit}", TransferCode.TRADE_SETTLEMENT)

    def single():
        apply_transfers(ledger, [trade()], tick())

    def batch():
        apply_transfers(ledger, [trade() for _ in range(100)], tick())

    def two_phase():
        client = f"c{picker.randrange(clients)}"
        hold = transfer(
            client,
            "clearing",
            TransferCode.MARGIN_RESERVATION,
            flags=TransferFlags.PENDING,
            timeout=60,
        )
        apply_transfers(ledger, [hold], tick())
        apply_transfers(ledger, [Transfer.post(id=f"t{next(issued)}", pending_id=hold.id)], tick())

    n = 2000 if quick else 20_000
    single_timing = per_call(single, n=n, warmup=1000)
    batch_timing = per_call(batch, n=n // 20, warmup=20)
    pair_timing = per_call(two_phase, n=n // 2, warmup=500)
    return [
        {
            "name": "ledger_apply_transfers_single",
            **single_timing,
            "ops_per_s": 1e6 / float(single_timing["median_us"]),
            "note": f"pure reference, one trade settlement per call, {clients} clients",
        },
        {
            "name": "ledger_apply_transfers_batch_100",
            **batch_timing,
            "ops_per_s": 100 * 1e6 / float(batch_timing["median_us"]),
            "note": "pure reference, 100 trade settlements per call; ops_per_s counts transfers",
        },
        {
            "name": "ledger_pending_then_post",
            **pair_timing,
            "ops_per_s": 1e6 / float(pair_timing["median_us"]),
            "note": "pure reference, pending margin reservation then full post (2 calls)",
        },
    ]
