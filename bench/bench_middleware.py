"""What each middleware costs a request: CPU per ``GET /healthz`` through Django's WSGI
handler in process (no server, no socket), with the whole stack, without each middleware in
turn, and with none (the baseline, in the same run). The session-dependent ones (sessions,
authentication, OTP, messages) are measured together: none of them works without the session.
The hot endpoints pay the same stack before their view runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from core.hot_path import SKIPPED

HERE = Path(__file__).resolve().parent

VARIANTS = [
    ("whole stack", []),
    ("without SecurityMiddleware", ["SecurityMiddleware"]),
    ("without ContentSecurityPolicyMiddleware", ["ContentSecurityPolicyMiddleware"]),
    ("without WhiteNoiseMiddleware", ["WhiteNoiseMiddleware"]),
    ("without ApiErrorMiddleware", ["ApiErrorMiddleware"]),
    ("without CommonMiddleware", ["CommonMiddleware"]),
    ("without CsrfViewMiddleware", ["CsrfViewMiddleware"]),
    (
        "without sessions, authentication, OTP and messages",
        [
            "SessionMiddleware",
            "AuthenticationMiddleware",
            "OTPMiddleware",
            "MessageMiddleware",
        ],
    ),
    ("without XFrameOptionsMiddleware", ["XFrameOptionsMiddleware"]),
    (
        "the hot endpoints' stack (core/hot_path.py)",
        sorted(name.rsplit(".", 1)[-1] for name in SKIPPED),
    ),
]


def _cpu(drop: list[str], env: dict) -> dict:
    output = subprocess.run(
        [sys.executable, str(HERE / "middleware_inprocess.py"), *drop],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def run(quick: bool = False) -> list[dict]:
    work = Path(tempfile.mkdtemp(prefix="gatehouse-bench-middleware-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.dev",
        "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        "GATEHOUSE_VAR_DIR": str(work),
        "LOG_LEVEL": "WARNING",
    }
    baseline = _cpu(["all"], env)["cpu_us"]
    whole = None
    rows = [
        {
            "name": "GET /healthz in process, no middleware (baseline)",
            "median_us": round(baseline, 2),
            "n": 10_000,
            "note": "CPU per request (best of 5 rounds): URL resolution, the view, the response",
        }
    ]
    for label, drop in VARIANTS if not quick else VARIANTS[:1]:
        result = _cpu(drop, env)
        cost = result["cpu_us"]
        if whole is None:
            whole = cost
            note = f"{result['middleware']} middleware: {cost - baseline:.1f} µs over the baseline"
        else:
            note = f"the left-out middleware costs {whole - cost:.1f} µs per request"
        rows.append(
            {
                "name": f"GET /healthz in process, {label}",
                "median_us": round(cost, 2),
                "n": 10_000,
                "note": note,
            }
        )
    return rows
