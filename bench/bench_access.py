"""Micro-benchmark of the jurisdiction gate: the pure decision and the GeoIP lookup.

Issue 4 asks for the decision and the GeoIP lookup per call (median and p99) next to a raw
``maxminddb`` lookup on the same database in the same run; the goal is ``decide()`` at or
under 10 µs median, GeoIP excluded. Every call is timed on its own with
``time.perf_counter_ns`` after a warm-up, so the p99 shows pauses (GC, scheduler) that a
mean would hide. Times are integer nanoseconds until they are rendered as exact
``Decimal`` microseconds: no floats.

The ``timer_overhead`` row times an empty call: it is included in every other row.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import maxminddb

from bench.timing import row
from compliance.access import decide
from compliance.geoip import IpLocator, shipped_city_database
from compliance.rulebook import compile_rulebook
from compliance.rules_seed import seed_rules
from compliance.signals import IpFacts, ProfileFacts

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EXAMPLE_ADDRESSES = (
    "114.114.114.114",
    "223.5.5.5",
    "203.198.7.66",
    "5.160.0.1",
    "175.45.176.1",
    "81.2.69.142",
    "8.8.8.8",
    "1.1.1.1",
    "46.63.0.1",
    "240e::1",
)
"""RULES.md §7's example addresses (plus a CN IPv6 one), cycled through so that the
lookup rows are not one cached path."""


def run(quick: bool = False) -> list[dict]:
    """Rows of ``name``, ``median_us``, ``p99_us`` (Decimal), ``n`` and ``note``."""
    decisions = 20_000 if quick else 200_000
    lookups = 5_000 if quick else 50_000
    rulebook = compile_rulebook(seed_rules(), version="bench")
    singapore = ProfileFacts(account_id="acc-sg", residence_country="SG", nationalities=("SG",))
    controlled_from_cn = ProfileFacts(
        account_id="acc-ent",
        residence_country="SG",
        nationalities=("SG", "CN"),
        entity_type="entity",
        controlling_countries=("CN", "US"),
        investor_category="professional",
    )
    china = ProfileFacts(account_id="acc-cn", residence_country="CN")
    singapore_ip = IpFacts(ip="203.0.113.7", country="SG")
    china_ip = IpFacts(ip="114.114.114.114", country="CN", subdivision="CN-JS")
    china_vpn = IpFacts(ip="223.5.5.5", country="CN", subdivision="CN-ZJ", is_anonymous_vpn=True)

    city_path = shipped_city_database()
    locator = IpLocator(city_path, cache_size=1)  # 11 addresses cycled: every lookup misses
    cached = IpLocator(city_path)
    raw_reader = maxminddb.open_database(city_path, maxminddb.MODE_AUTO)
    ours, raw = itertools.cycle(EXAMPLE_ADDRESSES), itertools.cycle(EXAMPLE_ADDRESSES)
    both = itertools.cycle(EXAMPLE_ADDRESSES)

    def lookup_and_decide() -> object:
        return decide(rulebook, singapore, locator.lookup(next(both)), "rwa_token", "open", NOW)

    return [
        row("timer_overhead", lambda: None, decisions, "empty call; included in every row"),
        row(
            "decide_allow_typical",
            lambda: decide(rulebook, singapore, singapore_ip, "crypto_perp", "open", NOW),
            decisions,
            "SG resident, SG IP, crypto_perp open: 3 signals, allow (goal <= 10 us)",
        ),
        row(
            "decide_deny_anonymous_cn",
            lambda: decide(rulebook, None, china_ip, "rwa_token", "open", NOW),
            decisions,
            "no profile, CN IP, rwa_token open: deny prc-rwa-2026 + review no_profile",
        ),
        row(
            "decide_deny_all_signals",
            lambda: decide(rulebook, controlled_from_cn, china_vpn, "rwa_token", "open", NOW),
            decisions,
            "entity controlled from CN, CN national, CN VPN IP: 6 signals, 4 reasons",
        ),
        row(
            "decide_close_only_wind_down",
            lambda: decide(rulebook, china, china_ip, "crypto_perp", "reduce", NOW),
            decisions,
            "CN resident, CN IP, reduce: close_only prc-wind-down",
        ),
        row(
            "geoip_raw_maxminddb",
            lambda: raw_reader.get(next(raw)),
            lookups,
            "baseline: maxminddb Reader.get (C extension, mmap) on the shipped GeoLite2",
        ),
        row(
            "geoip_lookup",
            lambda: locator.lookup(next(ours)),
            lookups,
            "compliance.geoip lookup -> IpFacts, same database and addresses as the baseline, "
            "never cached",
        ),
        row(
            "geoip_lookup_cached",
            lambda: cached.lookup(next(ours)),
            lookups,
            "the same addresses, each already located (the locator's bounded cache: orders "
            "come from few client addresses)",
        ),
        row(
            "geoip_lookup_and_decide",
            lookup_and_decide,
            lookups,
            "lookup + decide for an SG resident, rwa_token open: the gate's whole pure path",
        ),
    ]


if __name__ == "__main__":
    for row in run(quick=True):
        print(f"{row['name']:32} {row['median_us']:>10} {row['p99_us']:>10}  {row['note']}")
