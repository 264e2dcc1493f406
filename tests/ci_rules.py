"""Rules of the suite in CI (``.ci/run`` sets ``CI=true``): a skipped test is a failure, so
nothing may silently not run (a missing Chromium, a missing server)."""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_sessionfinish(session, exitstatus):
    if not in_ci():
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    for report in skipped:
        reporter.write_line(f"SKIPPED IN CI, which fails the run: {report.nodeid}", red=True)
    if skipped:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
