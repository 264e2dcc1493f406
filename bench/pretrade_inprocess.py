"""Run by ``bench_pretrade`` in a subprocess with its own database and Redis: time the
pre-trade check in process, stage by stage, against same-run Redis baselines. Prints one
JSON list of rows on its last line. ``--profile`` prints a cProfile of the full check."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.dev")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from bench.timing import per_call  # noqa: E402


def main(quick: bool, profile: bool) -> list[dict]:
    from compliance import geoip
    from compliance.access import decide
    from compliance.snapshot import holder as compliance_holder
    from core.clock import ManualClock, use_clock
    from core.redis_client import get_hot_redis
    from risk import collateral, pipeline, pretrade, resync
    from risk.pretrade_snapshot import holder

    call_command("migrate", verbosity=0)
    now = datetime.now(UTC)
    with use_clock(ManualClock(now)):
        call_command("load_demo_data", stdout=open(os.devnull, "w"))
    resync.mark_synced()
    for account in ("acc-sg", "acc-hk", "acc-gb"):
        collateral.set_collateral(account, Decimal(10**9))
    n = 5_000 if quick else 50_000

    snapshot, compliance = holder.current(), compliance_holder.current()
    terms = snapshot.terms("AAPL-PERP")
    client = get_hot_redis()
    raw = client.hgetall("gh:{inst:AAPL-PERP}:market")
    fields = {k.decode(): v.decode() for k, v in raw.items()}
    market, _ = snapshot.market_conditions(terms, fields, now)
    locator = geoip.get_locator(settings.GEOIP_CITY_DB, settings.GEOIP_ANONYMOUS_DB)
    profile_sg = compliance.profiles["acc-sg"]
    order = pipeline.Order(
        "o",
        "acc-sg",
        "AAPL-PERP",
        "buy",
        Decimal("0.01"),
        "limit",
        Decimal("230.00"),
        client_ip="203.198.7.66",
    )
    ip = locator.lookup("203.198.7.66")

    def stateless():
        opening = decide(compliance.rulebook, profile_sg, ip, "equity_perp", "open", now)
        reducing = decide(compliance.rulebook, profile_sg, ip, "equity_perp", "reduce", now)
        access = pipeline.AccessVerdicts(opening.effect, (), reducing.effect, ())
        return pipeline.assess(
            order,
            terms=terms,
            account=pipeline.AccountStanding(True),
            market=market,
            access=access,
            global_kill=False,
        )

    def stateless_with_geoip():
        locator.lookup("203.198.7.66")
        return stateless()

    def market_from_hash():
        return snapshot.market_conditions(terms, fields, now)

    counter = iter(range(10**9))

    def full_check():
        index = next(counter)
        fresh = pipeline.Order(
            f"b-{index}",
            ("acc-sg", "acc-hk", "acc-gb")[index % 3],
            "AAPL-PERP",
            "buy",
            Decimal("0.01"),
            "limit",
            Decimal("230.00"),
            client_ip="203.198.7.66",
        )
        return pretrade.check_orders([(fresh, f"fp{index}")], now=now)

    script = client.register_script("return 1")
    rows = []
    for name, fn, note in [
        ("redis PING (baseline)", client.ping, "one round trip, same client"),
        ("redis EVALSHA trivial script (baseline)", script, "one Lua round trip"),
        (
            "stateless checks in process (no GeoIP)",
            stateless,
            "decide open+reduce, assess; NautilusTrader RiskEngine ref: 11.8 µs",
        ),
        ("stateless checks incl. GeoIP lookup", stateless_with_geoip, "MaxMind C reader"),
        ("market view from the stored publication", market_from_hash, "pub_ fields"),
        (
            "full check incl. both atomic Redis steps",
            full_check,
            "check_orders, one order: 2 round trips",
        ),
    ]:
        rows.append(
            {
                "name": name,
                **per_call(fn, n=n if "full" not in name else n // 5, warmup=500),
                "note": note,
            }
        )
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(3000):
            full_check()
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats(
            os.environ.get("PROFILE_SORT", "cumulative")
        ).print_stats(35)
    return rows


if __name__ == "__main__":
    rows = main(quick="--quick" in sys.argv, profile="--profile" in sys.argv)
    print(json.dumps(rows, default=str))
