"""Write the README's benchmark table from one ``make bench`` results file.

``python -m bench.readme_table [bench/results/<stamp>.json] [--commit SHA]`` replaces the
text between ``<!-- bench:begin -->`` and ``<!-- bench:end -->`` in README.md with the table
of that run (the newest full run by default), so the README's figures are always one run's.
A row whose measurement is missing from the run is an error, not a blank.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from bench.bench_http import GROUP_CONNECTIONS, GROUP_SETTINGS, SWEEP

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def _us(value) -> str:
    value = Decimal(str(value))
    if value >= 1000:
        return f"{value / 1000:.1f} ms"
    if value >= 100:
        return f"{value:.0f} µs"
    return f"{value:.2f} µs"


def _rate(value, unit: str = "/s") -> str:
    return f"{Decimal(str(value)):,.0f}{unit}"


def _s(value) -> str:
    return f"{Decimal(str(value)):.2f} s"


class Run:
    def __init__(self, rows: list[dict]) -> None:
        self.rows = {(row["module"], row["name"]): row for row in rows}

    def get(self, module: str, name: str) -> dict:
        try:
            return self.rows[module, name]
        except KeyError:
            raise SystemExit(f"the run has no row {module}: {name!r} (not a full run?)") from None

    def median(self, module: str, name: str) -> str:
        return _us(self.get(module, name)["median_us"])

    def ratio(self, module: str, name: str, baseline: str, field: str = "median_us") -> str:
        value = Decimal(str(self.get(module, name)[field]))
        return f"{value / Decimal(str(self.get(module, baseline)[field])):.2f}×"


def rows_of(run: Run) -> list[tuple[str, ...]]:
    """(what, median, p99, throughput, baseline, goal) per README row."""

    def timed(module, name):
        row = run.get(module, name)
        return _us(row["median_us"]), _us(row["p99_us"])

    def line(label, module, name, throughput="", baseline="", goal=""):
        return (label, *timed(module, name), throughput, baseline, goal)

    def nautilus(ours: str = "") -> str:
        """NautilusTrader's RiskEngine as measured in this run (``bench_pretrade``)."""
        name = "NautilusTrader RiskEngine.execute (baseline)"
        row = run.get("bench_pretrade", name)
        if "median_us" not in row:
            raise SystemExit(f"the run did not measure {name}: {row.get('note', '')}")
        text = f"NautilusTrader RiskEngine {_us(row['median_us'])} (same run)"
        if ours:
            text += f": {run.ratio('bench_pretrade', ours, name)}"
        return text

    http = "bench_http"
    healthz = run.get(http, "http GET /healthz (baseline: trivial view)")
    check = run.get(http, "http POST /api/v1/pretrade/check")
    access = run.get(http, "http POST /api/v1/access/check")
    batch = run.get(http, "http POST /api/v1/pretrade/check-batch (100 orders)")

    def share(row, setting: str = "") -> str:
        base = run.get(http, f"http GET /healthz (baseline: trivial view){setting}")
        value = Decimal(str(row["ops_per_s"])) / Decimal(str(base["ops_per_s"]))
        return f"{value:.2f}× `/healthz` on the same stack"

    def of_raw(key: str, kind: str) -> str:
        raw = run.get(ledger, f"ledger_{key}_raw_insert_{kind}")["ops_per_s"]
        mine = run.get(ledger, f"ledger_{key}_{kind}")["ops_per_s"]
        ratio = Decimal(str(mine)) / Decimal(str(raw))
        label = "raw INSERT+COMMIT" if kind == "one_per_transaction" else "raw executemany"
        return f"{ratio:.0%} of {label} {_rate(raw)}"

    ledger = "bench_ledger"
    modes = "bench_redis_modes"
    screening, screening_db = "bench_screening", "bench_screening_db"
    rescreen = run.get(
        screening_db, "re-screen 1,000,000 accounts (the Celery task's work, SQLite)"
    )
    pure = run.get(screening_db, "pure screen of 100,000 account names (baseline)")
    return [
        line(
            "access decision, pure (`decide`, typical allow)",
            "bench_access",
            "decide_allow_typical",
            baseline=f"raw `maxminddb` lookup {run.median('bench_access', 'geoip_raw_maxminddb')}",
            goal="≤ 10 µs",
        ),
        line("access decision, all 6 signals deny", "bench_access", "decide_deny_all_signals"),
        line("GeoIP lookup + decide", "bench_access", "geoip_lookup_and_decide"),
        line(
            "pre-trade stateless checks in process",
            "bench_pretrade",
            "stateless checks in process (no GeoIP)",
            baseline=f"{nautilus()} (fewer checks)",
        ),
        line(
            "… with the GeoIP lookup of `client_ip`",
            "bench_pretrade",
            "stateless checks incl. GeoIP lookup",
            baseline=nautilus("stateless checks incl. GeoIP lookup"),
            goal="≤ its median",
        ),
        line(
            "pre-trade check with its atomic Redis step (in process, one round trip)",
            "bench_pretrade",
            "full check incl. its atomic Redis step",
            baseline=run.ratio(
                "bench_pretrade",
                "full check incl. its atomic Redis step",
                "redis PING (baseline)",
            )
            + f" Redis PING {run.median('bench_pretrade', 'redis PING (baseline)')}",
            goal="≤ 2× PING",
        ),
        line(
            "… right after its account's profile changed (read-your-writes catch-up)",
            "bench_pretrade",
            "full check right after its account's profile changed",
        ),
        *[
            (label, "", "", f"{run.get('bench_pretrade', name)['bytes']} bytes", "", goal)
            for label, name, goal in [
                ("Redis bytes per open order", "Redis bytes per open order", ""),
                (
                    "… per finished order inside the idempotency window",
                    "Redis bytes per finished order inside the idempotency window",
                    "",
                ),
                (
                    "… after the window",
                    "Redis bytes per finished order after the window",
                    "0 after the window",
                ),
            ]
        ],
        line(
            "pre-trade check, standalone Redis (in process)",
            modes,
            "full check, standalone (baseline)",
            baseline=f"PING {run.median(modes, 'redis PING, standalone (baseline)')}",
        ),
        line(
            "… primary + 1 replica, no `WAIT`",
            modes,
            "full check, primary + 1 replica, no WAIT",
            baseline=run.ratio(
                modes,
                "full check, primary + 1 replica, no WAIT",
                "full check, standalone (baseline)",
            )
            + " standalone",
        ),
        line(
            "… primary + 1 replica, `REDIS_MIN_REPLICAS=1` (`WAIT` per check)",
            modes,
            "full check, primary + 1 replica, REDIS_MIN_REPLICAS=1",
            baseline=run.ratio(
                modes,
                "full check, primary + 1 replica, REDIS_MIN_REPLICAS=1",
                "full check, primary + 1 replica, no WAIT",
            )
            + " without `WAIT`",
        ),
        line(
            "… Redis Cluster, 3 primaries",
            modes,
            "full check, cluster of 3 primaries",
            baseline=run.ratio(
                modes, "full check, cluster of 3 primaries", "full check, standalone (baseline)"
            )
            + " standalone",
        ),
        line(
            "batch of 100 checks, standalone (in process, per batch)",
            modes,
            "batch of 100 checks (3 accounts), standalone (baseline)",
        ),
        line(
            "… Redis Cluster, 3 primaries",
            modes,
            "batch of 100 checks (3 accounts), cluster of 3 primaries",
            baseline=run.ratio(
                modes,
                "batch of 100 checks (3 accounts), cluster of 3 primaries",
                "batch of 100 checks (3 accounts), standalone (baseline)",
            )
            + " standalone",
        ),
        (
            "HTTP `GET /healthz` (baseline), 32 clients",
            _us(healthz["median_us"]),
            _us(healthz["p99_us"]),
            _rate(healthz["ops_per_s"], " req/s"),
            "",
            "",
        ),
        (
            "HTTP `POST /pretrade/check`, 32 clients",
            _us(check["median_us"]),
            _us(check["p99_us"]),
            _rate(check["ops_per_s"], " req/s"),
            share(check),
            "≥ 0.5×, p99 ≤ 10 ms",
        ),
        *[
            (
                f"… granian {workers} workers × {threads} threads",
                _us(row["median_us"]),
                _us(row["p99_us"]),
                _rate(row["ops_per_s"], " req/s"),
                share(row, f", granian {workers}x{threads}") + " (its own run)",
                "",
            )
            for workers, threads in SWEEP
            for row in [
                run.get(http, f"http POST /api/v1/pretrade/check, granian {workers}x{threads}")
            ]
        ],
        *[
            (
                f"… group commit {label}, {connections} connection"
                + ("s" if connections > 1 else ""),
                _us(row["median_us"]),
                _us(row["p99_us"]),
                _rate(row["ops_per_s"], " req/s"),
                row["note"].split(";")[0] + " (its own run)",
                "",
            )
            for label, _ in GROUP_SETTINGS
            for connections in GROUP_CONNECTIONS
            for row in [
                run.get(
                    http,
                    f"http POST /api/v1/pretrade/check, group commit {label}, "
                    f"{connections} connections",
                )
            ]
        ],
        (
            "HTTP `POST /access/check`, 32 clients",
            _us(access["median_us"]),
            _us(access["p99_us"]),
            _rate(access["ops_per_s"], " req/s"),
            share(access),
            "≥ 0.6×",
        ),
        (
            "Django middleware per request (in process, CPU)",
            run.median("bench_middleware", "GET /healthz in process, whole stack"),
            "",
            "",
            "no middleware "
            + run.median("bench_middleware", "GET /healthz in process, no middleware (baseline)")
            + "; the hot endpoints' stack "
            + run.median(
                "bench_middleware",
                "GET /healthz in process, the hot endpoints' stack (core/hot_path.py)",
            ),
            "",
        ),
        (
            "HTTP `POST /pretrade/check-batch`, 100 orders",
            "",
            "",
            _rate(batch["ops_per_s"], " checks/s"),
            "",
            "≥ 30,000",
        ),
        line(
            "market state read (stored publication)",
            "bench_markets",
            "state read, stored publication",
            _rate(run.get("bench_markets", "state read, stored publication")["ops_per_s"]),
            f"HGETALL {run.median('bench_markets', 'redis HGETALL of a market hash')}",
        ),
        line(
            "ticks, one per transaction",
            "bench_markets",
            "tick, one per transaction",
            _rate(run.get("bench_markets", "tick, one per transaction")["ops_per_s"], " ticks/s"),
            f"PING {run.median('bench_markets', 'redis PING round trip')}",
        ),
        line(
            "ticks, 100 per transaction (per batch)",
            "bench_markets",
            "ticks, 100 per transaction",
            _rate(run.get("bench_markets", "ticks, 100 per transaction")["ops_per_s"], " ticks/s"),
        ),
        *[
            line(
                f"ledger deposit, one per transaction ({engine})",
                ledger,
                f"ledger_{key}_one_per_transaction",
                _rate(run.get(ledger, f"ledger_{key}_one_per_transaction")["ops_per_s"]),
                of_raw(key, "one_per_transaction"),
                "≥ 800/s and ≥ 35%" if key == "postgres" else "",
            )
            for engine, key in (("SQLite", "sqlite"), ("PostgreSQL", "postgres"))
        ],
        *[
            line(
                f"ledger, 100 transfers per transaction ({engine}, per batch)",
                ledger,
                f"ledger_{key}_batches_of_100",
                _rate(run.get(ledger, f"ledger_{key}_batches_of_100")["ops_per_s"], " transfers/s"),
                of_raw(key, "batches_of_100"),
                "≥ 15,000/s and ≥ 40%" if key == "postgres" else "",
            )
            for engine, key in (("SQLite", "sqlite"), ("PostgreSQL", "postgres"))
        ],
        *[
            (
                f"proof of reserves published, 1M accounts ({engine})",
                "",
                "",
                _s(run.get(ledger, f"por_publish_1m_{key}")["seconds"]),
                f"tree from memory {_s(run.get(ledger, f'por_tree_only_1m_{key}')['seconds'])}",
                "≤ 20 s",
            )
            for engine, key in (("SQLite", "sqlite"), ("PostgreSQL", "postgres"))
        ],
        (
            "proof-of-reserves tree, 1M accounts (pure)",
            "",
            "",
            _s(run.get("bench_reserves", "por_tree_build_1m")["seconds"]),
            "unsalted plain tree "
            + _s(run.get("bench_reserves", "por_tree_plain_reference_1m")["seconds"]),
            "≤ 5 s",
        ),
        (
            "daily report over 1M access decisions (SQLite)",
            "",
            "",
            _s(
                run.get("bench_reports", "generate daily report, 1,000,000 decisions (v1, SQLite)")[
                    "seconds"
                ]
            ),
            "",
            "",
        ),
        line(
            "sanctions: screen one name against the whole SDN list",
            screening,
            "screen_one_name",
            baseline=f"one Jaro-Winkler pair {run.median(screening, 'jaro_winkler_pair_baseline')}",
            goal="≤ 500 µs",
        ),
        line(
            "sanctions: one chain address",
            screening,
            "address_lookup",
            baseline=f"`dict.get` {run.median(screening, 'dict_get_baseline')}",
            goal="≤ 5 µs",
        ),
        (
            "sanctions: re-screen 1,000,000 accounts (the Celery task, SQLite)",
            "",
            "",
            f"{_s(rescreen['seconds'])} ({_rate(rescreen['ops_per_s'], ' accounts/s')})",
            f"pure matcher {_rate(pure['ops_per_s'], ' names/s')}",
            "≤ 15 min",
        ),
        (
            "sanctions: load a list version (parse, diff, store)",
            "",
            "",
            _s(
                run.get(screening_db, "load a list version (shipped OFAC SDN + addresses, SQLite)")[
                    "seconds"
                ]
            ),
            f"parse alone {_s(run.get(screening, 'parse_sdn_list')['seconds'])}",
            "",
        ),
    ]


def table(rows: list[tuple[str, ...]]) -> str:
    lines = [
        "| what | median | p99 | throughput | baseline (same run) | goal |",
        "|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    commit = None
    if "--commit" in argv:
        commit = argv[argv.index("--commit") + 1]
        argv = [a for a in argv if a not in ("--commit", commit)]
    paths = [Path(a) for a in argv] or [sorted(p for p in (HERE / "results").glob("2*.json"))[-1]]
    data = json.loads(paths[0].read_text())
    if data["meta"].get("quick"):
        raise SystemExit(f"{paths[0]} is a BENCH_QUICK run; the README takes full runs only")
    commit = (
        commit
        or subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    body = (
        f"`make bench` on this machine kind (2 cores, shared by the load generator, Redis and "
        f"the server): run {data['meta']['when']} of commit {commit}, every module; full table "
        f"in `bench/results/latest.md`. Each group has a same-run baseline. Medians and p99 per "
        f"call. Sanctions name screening, on the generated evaluation set (9,985 variants of "
        f"listed names and 10,000 Faker names of 23 locales; goal: precision ≥ 0.98 and recall "
        f"≥ 0.95 at `potential_match`): "
        + Run(data["rows"]).get("bench_screening", "accuracy_at_shipped_thresholds")["note"]
        + ".\n\n"
        + table(rows_of(Run(data["rows"])))
    )
    text = README.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    README.write_text(text[:start] + "\n" + body + "\n" + text[end:])
    print(f"README table from {paths[0].name} (commit {commit})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
