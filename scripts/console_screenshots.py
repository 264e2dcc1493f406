"""The README's console screenshots, taken from a live demo as a new officer would see it.

``python scripts/console_screenshots.py [--minutes 10] [--out docs/screenshots]`` starts the
embedded stack of ``make run`` (``manage.py runstack``: web, workers, beat, the demo feed and
its traders) in a throw-away var directory on free ports, lets the demo run for the given
minutes, signs in as the printed officer (enrolling TOTP from the page on the way, as a new
officer does) in Debian's Chromium, and saves a screenshot of each page in ``PAGES``. It
stops the whole stack afterwards. Nothing here is a test: ``tests/console`` checks the pages.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SYMBOLS = ("AAPL-PERP", "NVDA-PERP", "TSLA-PERP", "SPY-PERP", "BTC-PERP", "USTB-RWA")
PAGES = [
    ("02-dashboard", "/"),
    ("04-rules", "/rules/"),
    ("09-decisions", "/decisions/"),
    ("11-screening", "/screening/"),
    ("20-alerts", "/alerts/"),
    ("21-pretrade", "/pretrade/"),
    ("22-kill-switches", "/kill-switches/"),
    ("23-custody", "/custody/"),
    ("24-reports", "/reports/"),
]
DRAFT = {
    "rule_id": "sg-perps-review",
    "jurisdictions": "SG",
    "citation_ref": "Venue policy (demo)",
    "citation_text": "Perpetuals opened from Singapore are reviewed while MAS guidance is read.",
    "reason": "Demo: what would reviewing Singapore's perpetuals have changed?",
}
"""A draft proposed on the live demo, so its page shows the impact measured on the demo's
own decisions (the demo's traders include Singapore residents trading perpetuals)."""


def free_port() -> int:
    from core import embedded_redis

    return embedded_redis.free_port()


def totp_now(secret_base32: str) -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.dev")
    from django_otp.oath import TOTP

    secret = secret_base32.replace(" ", "")
    totp = TOTP(base64.b32decode(secret + "=" * (-len(secret) % 8)))
    totp.time = time.time()
    return f"{totp.token():06d}"


def wait_ready(base: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as answer:  # noqa: S310 (our http URL)
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"the stack did not answer {base}/readyz within {seconds:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    options = parser.parse_args()
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)

    var = Path(tempfile.mkdtemp(prefix="gatehouse-screens-"))
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))},
        "GATEHOUSE_VAR_DIR": str(var),
        "PORT": str(port),
        "EMBEDDED_REDIS_PORT": str(free_port()),
        "DJANGO_SETTINGS_MODULE": "settings.dev",
    }
    stack = subprocess.Popen(
        [sys.executable, "manage.py", "runstack"],
        cwd=ROOT,
        env=env,
        stdout=open(var / "runstack.out", "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base)
        credentials = json.loads((var / "demo-credentials.json").read_text())
        print(f"stack up at {base}; the demo runs {options.minutes:g} minutes", flush=True)
        time.sleep(options.minutes * 60)
        shoot(base, credentials, out, var)
    finally:
        os.killpg(stack.pid, signal.SIGTERM)
        try:
            stack.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(stack.pid, signal.SIGKILL)
    return 0


def shoot(base: str, credentials: dict, out: Path, var: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(var / "chromium-profile"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(20_000)
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(base + "/sign-in/")
        page.screenshot(path=str(out / "00-sign-in.png"))
        page.get_by_label("Username").fill(credentials["username"])
        page.get_by_label("Password").fill(credentials["password"])
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url("**/sign-in/enrol/")
        page.screenshot(path=str(out / "01-enrol.png"))
        secret = page.get_by_test_id("totp-secret").inner_text()
        page.get_by_label("Six-digit code").fill(totp_now(secret))
        page.get_by_role("button", name="Confirm and sign in").click()
        page.wait_for_url(base + "/")
        for name, path in PAGES:
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(out / f"{name}.png"), full_page=name == "02-dashboard")
            print(f"{name}: {path}", flush=True)
        market = busiest_market(page, base)
        page.goto(base + market)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(out / "03-market.png"), full_page=True)
        print(f"03-market: {market}", flush=True)
        propose_and_measure(page, base, out)
        context.close()


def busiest_market(page, base: str) -> str:
    """The market page, last hour, of the demo instrument with the most state changes (the
    breaker episodes the feed has staged so far)."""
    changes = {}
    for symbol in SYMBOLS:
        page.goto(base + f"/markets/{symbol}/?hours=1")
        rows = page.locator("section", has_text="State changes").locator("tbody tr")
        changes[symbol] = rows.count() - rows.filter(has_text="No state changes").count()
    symbol = max(SYMBOLS, key=lambda each: (changes[each], each == "TSLA-PERP"))
    return f"/markets/{symbol}/?hours=1"


def propose_and_measure(page, base: str, out: Path) -> None:
    """Propose ``DRAFT`` through the form, wait for the worker to measure its impact on the
    demo's decisions, and keep the draft's page and the proposal (what the checker sees)."""
    page.goto(base + "/rules/propose/")
    page.get_by_label("Rule id").fill(DRAFT["rule_id"])
    page.get_by_label("Jurisdictions").fill(DRAFT["jurisdictions"])
    for product in ("equity_perp", "crypto_perp"):
        page.get_by_label(product).check()
    page.get_by_label("open", exact=True).check()
    for scope in ("residence", "ip geolocation"):
        page.get_by_label(scope, exact=True).check()
    page.locator("#id_effect").select_option("review")
    page.get_by_label("Citation reference").fill(DRAFT["citation_ref"])
    page.get_by_label("Citation text").fill(DRAFT["citation_text"])
    page.get_by_label("Why (for the approver and the audit log)").fill(DRAFT["reason"])
    page.get_by_role("button", name="Propose").click()
    page.wait_for_url("**/proposals/*/")
    proposal = page.url
    page.goto(base + f"/rules/{DRAFT['rule_id']}/r1/")
    page.get_by_test_id("impact-flips").wait_for(timeout=300_000)  # the worker's measurement
    page.get_by_test_id("rule-impact").scroll_into_view_if_needed()
    page.screenshot(path=str(out / "13-rule-impact.png"))
    page.goto(proposal)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(out / "14-proposal-impact.png"))
    print("13-rule-impact, 14-proposal-impact: a draft measured on the demo", flush=True)


if __name__ == "__main__":
    sys.exit(main())
