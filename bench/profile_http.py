"""Where a web worker's time goes under load: one endpoint of a fresh venue (the same server
stack as ``bench_http``) driven by wrk while py-spy samples every granian worker, counting
only samples that hold the GIL (the Python work that competes for the worker's core).

    python -m bench.profile_http [pretrade|access|batch|healthz] [--seconds 10]
        [--connections 32] [--top 25]

Needs py-spy on the PATH (``pip install py-spy``; not a dependency of Gatehouse) and wrk.
Prints the share of samples per leaf function (self) and per function on the stack
(inclusive), and per area (Django, granian, redis client, the check, ...). Not a module of
``make bench``: a profile is read, not compared.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.dev")

TARGETS = {
    "pretrade": ("/api/v1/pretrade/check", "pretrade.lua", 1),
    "access": ("/api/v1/access/check", "access.lua", 1),
    "batch": ("/api/v1/pretrade/check-batch", "pretrade.lua", 100),
    "healthz": ("/healthz", None, 1),
}

# Areas by the file a frame is in, first match wins (site-packages paths, then ours).
AREAS = [
    ("django", "/django/"),
    ("granian (Python side)", "/granian/"),
    ("redis client", "/redis/"),
    ("orjson/json", "json"),
    ("risk (the check)", "/risk/"),
    ("compliance (gate, GeoIP)", "/compliance/"),
    ("core (hot path, pipeline, group commit)", "/core/"),
    ("threading/queue", "threading.py"),
]

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def _frames(stack: str) -> list[tuple[str, str]]:
    frames = []
    for part in stack.split(";"):
        match = FRAME.match(part)
        if match:
            frames.append((match["func"], match["file"]))
    return frames


def _area(file: str) -> str:
    path = "/" + file.lstrip("/")  # py-spy names files relative to sys.path
    for name, marker in AREAS:
        if marker in path:
            return name
    return "other" if file.endswith(".py") else "granian / native"


def summarise(raw_files: list[Path], top: int) -> str:
    self_counts, inclusive, areas, total = Counter(), Counter(), Counter(), 0
    for raw in raw_files:
        for line in raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n, frames = int(count), _frames(stack)
            total += n
            if not frames:
                areas["granian / native"] += n
                continue
            func, file = frames[-1]
            self_counts[f"{func} ({Path(file).name})"] += n
            areas[_area(file)] += n
            for name in {f"{f} ({Path(p).name})" for f, p in frames}:
                inclusive[name] += n
    if not total:
        return "no samples (py-spy could not attach?)"
    out = [f"{total} samples holding the GIL", "", "by area (self time of the leaf frame):"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in areas.most_common()]
    out += ["", f"top {top} leaf functions (self):"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in self_counts.most_common(top)]
    out += ["", f"top {top} functions on the stack (inclusive):"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(out)


def _worker_pids(server) -> list[int]:
    """granian's worker processes (children of the server process)."""
    pid = server.process.pid
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in found.split()] or [pid]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("target", choices=sorted(TARGETS), nargs="?", default="pretrade")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for tool in ("py-spy", "wrk"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not on the PATH")

    import django

    django.setup()
    from bench import bench_http

    os.environ["ORDER_RATE_INTERVAL_MS"] = "0"
    path, script, batch = TARGETS[args.target]
    script = str(Path(bench_http.WRK_SCRIPT).parent / script) if script else None
    out = Path(tempfile.mkdtemp(prefix="gatehouse-profile-"))
    workers = int(os.environ.get("WEB_WORKERS", "2"))
    threads = int(os.environ.get("WEB_THREADS", "4"))
    with bench_http._venue(workers, threads) as (server, key):
        headers = {} if path == "/healthz" else {"Authorization": f"Api-Key {key}"}
        url = server.base_url + path
        bench_http._wrk(url, 2, headers, script, batch, args.connections)  # warm-up
        record = ["py-spy", "record", "--gil", "--nonblocking", "--rate", "250"]
        record += ["--duration", str(args.seconds), "--format", "raw"]
        spies = [
            subprocess.Popen(
                [*record, "--pid", str(pid), "-o", str(out / f"{pid}.txt")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for pid in _worker_pids(server)
        ]
        result = bench_http._wrk(url, args.seconds, headers, script, batch, args.connections)
        for spy in spies:
            spy.wait(timeout=args.seconds + 30)
    print(
        f"{args.target}: {path}, wrk -c{args.connections} {args.seconds}s, granian "
        f"{workers}x{threads}: {result['ops_per_s'] * batch:,.0f} "
        f"{'checks' if batch > 1 else 'req'}/s, p50 {result['median_us']:,.0f} µs, "
        f"p99 {result['p99_us']:,.0f} µs (under py-spy)"
    )
    print(summarise(sorted(out.glob("*.txt")), args.top))


if __name__ == "__main__":
    main()
