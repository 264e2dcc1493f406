"""``make run``'s children: every line into their log file, only errors on the terminal
(issue 18: the console URL and the key were buried under banners and per-task lines)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.process_output import ErrorLines, pump

CELERY_BANNER = [
    " -------------- realtime@vm v5.7.0 (collider)",
    "--- ***** ----- ",
    "/venv/celery/platforms.py:893: SecurityWarning: You're running the worker with superuser",
    "absolutely not recommended!",
]

ROWS = [
    # name, lines, which are shown
    ("Celery's banner and warnings", CELERY_BANNER, [False] * 4),
    (
        "a Celery task's INFO line",
        ["[2026-12-05 21:41:34,289: INFO/MainProcess] Task x succeeded in 0.002s: 0"],
        [False],
    ),
    (
        "a Celery task that raised, with its traceback",
        [
            "[2026-12-05 21:41:34,289: ERROR/ForkPoolWorker-1] Task x raised unexpected: boom",
            "Traceback (most recent call last):",
            '  File "x.py", line 1, in <module>',
            "RuntimeError: boom",
            "[2026-12-05 21:41:35,001: INFO/MainProcess] Task y received",
        ],
        [True, True, True, True, False],
    ),
    (
        "Django's log format",
        [
            "2026-12-05 21:41:01,025 INFO gatehouse.screening screening with ofac",
            "2026-12-05 21:41:02,000 WARNING gatehouse.demo_feed 1 errors",
            "2026-12-05 21:41:03,000 ERROR django.request Internal Server Error: /api/v1/x",
            "  detail of the error",
        ],
        [False, False, True, True],
    ),
    ("granian's format", ["[INFO] Starting granian", "[ERROR] worker 1 died"], [False, True]),
    (
        "a crash at start-up, outside any record",
        ["Traceback (most recent call last):", '  File "manage.py"', "ImportError: no x"],
        [True, True, True],
    ),
    (
        "a management command's error",
        ["CommandError: no demo instruments: run load_demo_data first"],
        [True],
    ),
]


@pytest.mark.parametrize(("lines", "shown"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_only_errors_reach_the_terminal(lines, shown):
    errors = ErrorLines()
    assert [errors.shown(line) for line in lines] == shown


def test_the_pump_keeps_every_line_in_the_log_and_echoes_the_errors(tmp_path):
    script = (
        "import sys\n"
        "print('[2026-12-05 21:41:34,289: INFO/MainProcess] quiet')\n"
        "print('[2026-12-05 21:41:35,289: ERROR/MainProcess] loud', file=sys.stderr)\n"
        "print('[2026-12-05 21:41:36,289: INFO/MainProcess] quiet again')\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-u", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    echoed: list[str] = []
    log = tmp_path / "log" / "worker.log"
    thread = pump(child.stdout, log, "worker", echoed.append)
    child.wait(timeout=30)
    thread.join(timeout=30)
    assert echoed == ["worker: [2026-12-05 21:41:35,289: ERROR/MainProcess] loud"]
    assert log.read_text().splitlines() == [
        "[2026-12-05 21:41:34,289: INFO/MainProcess] quiet",
        "[2026-12-05 21:41:35,289: ERROR/MainProcess] loud",
        "[2026-12-05 21:41:36,289: INFO/MainProcess] quiet again",
    ]
