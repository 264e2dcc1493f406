"""HTTP throughput and latency through the production server stack (granian, WSGI, the
same worker settings as ``make run``), driven by wrk with 32 keep-alive connections.

Baseline in the same run: ``/healthz``, a trivial view on the same stack. Every other row
is compared with it. wrk and the server share this machine's cores, as a client on the
same host would.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

CONNECTIONS = 32


def _wrk(url: str, seconds: int, headers: dict[str, str], script: str | None = None) -> dict:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))

    def pct(label: str) -> float:
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", output).groups()
        return float(value) * {"us": 1, "ms": 1000, "s": 1_000_000}[unit]

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "ops_per_s": rps,
        "median_us": pct("50"),
        "p99_us": pct("99"),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


def endpoints(key: str) -> list[tuple[str, str, dict[str, str], str | None]]:
    """(name, path, headers, wrk lua script). Later capabilities add their hot paths here."""
    auth = {"Authorization": f"Api-Key {key}"}
    return [
        ("http GET /healthz (baseline: trivial view)", "/healthz", {}, None),
        ("http GET /api/v1/auth/whoami (DRF + API key)", "/api/v1/auth/whoami", auth, None),
    ]


def run(quick: bool = False) -> list[dict]:
    if shutil.which("wrk") is None:
        return [{"name": "http", "note": "skipped: wrk not installed (apt-get install wrk)"}]
    from django.conf import settings

    from core import embedded_redis
    from tests.api import live

    seconds = 3 if quick else 8
    redis_process = None
    redis_url = settings.REDIS_URL
    if not embedded_redis.answers(redis_url):
        port = embedded_redis.free_port()
        redis_process = embedded_redis.start(Path(tempfile.mkdtemp()), port, persistent=False)
        redis_url = f"redis://127.0.0.1:{port}/0"
    server = live.start(Path(tempfile.mkdtemp(prefix="gatehouse-bench-")), redis_url, workers=2)
    try:
        key = (
            server.manage(
                "create_api_key",
                "bench",
                "--scopes",
                "pretrade,marketdata,reference,custody,reports,operator",
            )
            .strip()
            .splitlines()[-1]
        )
        rows, baseline = [], None
        for name, path, headers, script in endpoints(key):
            _wrk(server.base_url + path, 1, headers, script)  # warm-up
            result = _wrk(server.base_url + path, seconds, headers, script)
            baseline = baseline or result["ops_per_s"]
            share = 100 * result["ops_per_s"] / baseline
            rows.append(
                {
                    "name": name,
                    "n": CONNECTIONS,
                    **{k: result[k] for k in ("ops_per_s", "median_us", "p99_us")},
                    "note": f"{share:.0f}% of baseline; non-2xx {result['errors']}; "
                    f"granian wsgi 2 workers, wrk -c{CONNECTIONS}",
                }
            )
        return rows
    finally:
        live.stop(server)
        if redis_process:
            redis_process.kill()
