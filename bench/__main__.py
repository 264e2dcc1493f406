"""``make bench``: run every benchmark module, print one table, write it to bench/results/.

Each module ``bench/bench_*.py`` exposes ``run(quick: bool) -> list[dict]`` with keys
``name``, ``median_us``, ``p99_us``, ``n``, ``note`` (and optionally ``ops_per_s``,
``seconds`` or ``bytes``). A same-run baseline is one of the rows of each module, named in its note.
``BENCH_QUICK=1`` runs smaller sizes; ``python -m bench NAME ...`` runs only those modules.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLUMNS = ["name", "median_us", "p99_us", "ops_per_s", "seconds", "bytes", "n", "note"]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, int | str):
        return str(value)
    return f"{value:,.2f}" if abs(value) < 1e6 else f"{value:,.0f}"


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(HERE.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.dev")
    quick = os.environ.get("BENCH_QUICK") == "1"
    names = argv or sorted(p.stem for p in HERE.glob("bench_*.py"))
    rows: list[dict] = []
    for name in names:
        module = importlib.import_module(
            f"bench.{name if name.startswith('bench_') else 'bench_' + name}"
        )
        started = time.perf_counter()
        for row in module.run(quick=quick):
            rows.append({"module": module.__name__.split(".")[-1], **row})
        print(f"# {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)

    header = "| module | " + " | ".join(COLUMNS) + " |"
    lines = [header, "|" + "---|" * (len(COLUMNS) + 1)]
    for row in rows:
        lines.append(
            "| " + row["module"] + " | " + " | ".join(_cell(row.get(c)) for c in COLUMNS) + " |"
        )
    table = "\n".join(lines)
    print(table)

    results = HERE / "results"
    results.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    meta = {"when": stamp, "machine": platform.platform(), "cpus": os.cpu_count(), "quick": quick}
    (results / f"{stamp}.json").write_text(
        json.dumps({"meta": meta, "rows": rows}, indent=2, default=str)
    )
    (results / "latest.md").write_text(
        f"Run {stamp} on {meta['machine']} ({meta['cpus']} CPUs)\n\n{table}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
