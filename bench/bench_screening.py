"""Benchmark of the pure sanctions-screening engine (``compliance.screening``), no Django.

Goals (the screening issue): one name against the whole list at or under 500 µs median;
one address lookup at or under 5 µs; a full re-screen of 1,000,000 accounts in 15 minutes
or less on this machine; recall >= 0.95 at precision >= 0.98 at the shipped thresholds.

Same-run baselines: ``jaro_winkler_pair_baseline`` (one rapidfuzz Jaro-Winkler call, the
unit a screen is made of) for the name rows, ``dict_get_baseline`` (a plain ``dict.get`` on
a canonical address) for the address row. Per-call rows are timed one call at a time
(``bench.timing``); the build and throughput rows are wall-clock seconds of one run.
"""

from __future__ import annotations

import itertools
import time
from decimal import Decimal
from pathlib import Path

from rapidfuzz.distance import JaroWinkler

from bench.timing import row
from compliance.screening.addresses import AddressIndex, normalise_address
from compliance.screening.evaluation import evaluate, evaluation_cases, negative_cases
from compliance.screening.names import DEFAULT_THRESHOLDS, NameIndex
from compliance.screening.sdn import load_address_dir, load_sdn_dir

DATA = Path(__file__).resolve().parent.parent / "compliance" / "screening" / "data"
SDN_DIR = DATA / "ofac-sdn-2021-07"
ADDRESS_DIR = DATA / "ofac-addresses-2024-09-27"
ACCOUNTS_TO_PROJECT = 1_000_000


def run(quick: bool = False) -> list[dict]:
    """Rows of ``name``, ``median_us``/``p99_us`` or ``seconds``/``ops_per_s``, ``n``,
    ``note``."""
    screens = 2_000 if quick else 20_000
    lookups = 20_000 if quick else 200_000
    accounts = 2_000 if quick else 20_000
    sample = 2_000 if quick else 10_000

    started = time.perf_counter()
    sdn_list = load_sdn_dir(SDN_DIR)
    parse_seconds = time.perf_counter() - started
    started = time.perf_counter()
    names = NameIndex.build(sdn_list.entries)
    build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    listed = load_address_dir(ADDRESS_DIR)
    addresses = AddressIndex(
        (
            *sdn_list.address_triples(),
            *((asset, address, None) for asset, found in listed.items() for address in found),
        )
    )
    address_seconds = time.perf_counter() - started

    cases = evaluation_cases(sdn_list.entries, positives=sample, negatives=sample)
    queries = itertools.cycle([case.query for case in cases])
    pairs = itertools.cycle([("gerhard", "gerhadr"), ("muhammad", "mohamad"), ("wisser", "visser")])
    canonical = {normalise_address("", a): a for a in itertools.chain(*listed.values())}
    probes = itertools.cycle(
        [*itertools.islice(itertools.chain(*listed.values()), 50), "0x" + "1" * 40]
    )
    raw_probes = itertools.cycle(
        [normalise_address("", p) for p in [next(probes) for _ in range(51)]]
    )

    return [
        _seconds_row(
            "parse_sdn_list", parse_seconds, len(sdn_list), "load_sdn_dir, four CSV files"
        ),
        _seconds_row(
            "build_name_index", build_seconds, len(names), "normalise + block every name/alias"
        ),
        _seconds_row(
            "build_address_index", address_seconds, len(addresses), "2024 JSON lists + 2021 remarks"
        ),
        row(
            "jaro_winkler_pair_baseline",
            lambda: JaroWinkler.normalized_similarity(*next(pairs)),
            lookups,
            "baseline for the name rows: one rapidfuzz Jaro-Winkler call on a token pair",
        ),
        row(
            "screen_one_name",
            lambda: names.screen(next(queries)),
            screens,
            "NameIndex.screen against all 8,976 entries, the evaluation's variants and Faker "
            "names in turn, few repeats (normalising is lru-cached) (goal <= 500 us median)",
        ),
        row(
            "dict_get_baseline",
            lambda: canonical.get(next(raw_probes)),
            lookups,
            "baseline for the address row: dict.get on an already canonical address",
        ),
        row(
            "address_lookup",
            lambda: addresses.lookup(next(probes), "ETH"),
            lookups,
            "AddressIndex.lookup incl. normalise_address, listed + unlisted (goal <= 5 us)",
        ),
        _rescreen_row(names, sdn_list.entries, accounts),
        _accuracy_row(names, cases),
    ]


def _seconds_row(name: str, seconds: float, n: int, note: str) -> dict:
    return {"name": name, "seconds": Decimal(f"{seconds:.4f}"), "n": n, "note": note}


def _rescreen_row(names: NameIndex, entries, accounts: int) -> dict:
    """Account names (Faker, the evaluation's locales, a different seed) screened back to
    back, as a nightly re-screen after a list update would."""
    account_names = [case.query for case in negative_cases(entries, accounts, seed=7)]
    started = time.perf_counter()
    for account_name in account_names:
        names.screen(account_name)
    seconds = time.perf_counter() - started
    projected = seconds / accounts * ACCOUNTS_TO_PROJECT
    return {
        "name": "rescreen_accounts",
        "seconds": Decimal(f"{seconds:.3f}"),
        "ops_per_s": Decimal(f"{accounts / seconds:.0f}"),
        "n": accounts,
        "note": f"one core; projected 1,000,000 accounts: {projected / 60:.1f} min (goal <= 15)",
    }


def _accuracy_row(names: NameIndex, cases) -> dict:
    report = evaluate(names, DEFAULT_THRESHOLDS, cases)
    potential, match = report.potential_match, report.match
    by_kind = ", ".join(f"{k} {v:.3f}" for k, v in potential.recall_by_kind.items())
    return {
        "name": "accuracy_at_shipped_thresholds",
        "n": report.positives + report.negatives,
        "note": (
            f"potential_match {DEFAULT_THRESHOLDS.potential_match}: precision "
            f"{potential.precision:.4f} recall {potential.recall:.4f} (TP {potential.tp} FP "
            f"{potential.fp} FN {potential.fn} TN {potential.tn}); match "
            f"{DEFAULT_THRESHOLDS.match}: precision {match.precision:.4f} recall "
            f"{match.recall:.4f}; recall by kind: {by_kind}"
        ),
    }


if __name__ == "__main__":
    for result in run(quick=True):
        print(result)
