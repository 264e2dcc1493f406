"""The console in a real browser: Debian's Chromium driven by Playwright against a live
server process (granian, migrated database, real Redis, demo data).

It signs in with TOTP (enrolling from the QR page on first sign-in), watches the market
board update when a market is halted through the API, proposes a rule change as one
officer and approves it as another, and runs the explain form. Screenshots of the main pages
are taken on the way; set ``CONSOLE_SCREENSHOT_DIR`` (e.g. ``docs/screenshots``) to keep them.

Chromium comes from Debian (``apt-get install chromium``), never from Playwright's own
download: these tests are skipped, saying why, only when that binary is missing.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.api import live

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
PASSWORDS = {"alice": "alice-password-0001", "bob": "bob-password-0002"}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() or shutil.which("chromium")),
        reason=f"Chromium not found at {CHROMIUM}: apt-get install chromium (.ci/run does)",
    ),
]


def totp_now(secret_base32: str, *, step_offset: int = 0) -> str:
    from django_otp.oath import TOTP

    secret = secret_base32.replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key)
    totp.time = time.time() + step_offset * 30
    return f"{totp.token():06d}"


def enter_code(page, base: str, secret: str, *, step_offset: int = 0, attempts: int = 3) -> int:
    """Send the sign-in code of the step ``step_offset`` ahead of now and wait for the
    dashboard; returns the step whose code the server took. A code can be refused for
    timing alone: a 30 s step may pass between making it and the server's check (on a busy
    machine the page takes seconds), or that step's code was used already. Then the next
    step's code is sent once the clock reaches it (up to ``attempts`` times in all): what is
    under test is the console, not the test's clock."""
    from playwright.sync_api import TimeoutError as PageTimeout

    for attempt in range(attempts):
        step = int(time.time() // 30) + step_offset
        page.get_by_label("Six-digit code").fill(totp_now(secret, step_offset=step_offset))
        page.get_by_role("button", name="Sign in").click()
        try:
            page.wait_for_url(base + "/", timeout=10_000)
            return step
        except PageTimeout:
            if attempt == attempts - 1 or "/sign-in/code/" not in page.url:
                raise
        time.sleep(30 - time.time() % 30 + 0.1)
        step_offset = 0
    raise AssertionError("unreachable")


def secret_from_uri(output: str) -> str:
    uri = re.search(r"otpauth://\S+", output).group(0)
    return parse_qs(urlparse(uri).query)["secret"][0]


PRICE_HISTORY = """
from datetime import timedelta
from decimal import Decimal
import math
from core import clock
from risk.models import PriceSample
now = clock.now().replace(second=0, microsecond=0)
for minute in range(180):
    at = now - timedelta(minutes=180 - minute)
    price = Decimal(430) + Decimal(str(round(6 * math.sin(minute / 17) + minute / 30, 2)))
    PriceSample.objects.create(
        instrument="TSLA-PERP", at=at, session="regular", state="open", reference_price=price,
        band_lower=(price * Decimal("0.95")).quantize(Decimal("0.01")),
        band_upper=(price * Decimal("1.05")).quantize(Decimal("0.01")),
    )
"""
"""Three hours of reference and band for the chart (the sweeper samples once a minute when
beat runs; the live server here runs no beat)."""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("console-live")
    server = live.start(var_dir, live.own_redis(settings.REDIS_URL), workers=1, threads=4)
    try:
        server.manage("load_sanctions_list", "--shipped", "--no-rescreen")  # as make run does
        server.manage("load_demo_data")
        credentials = json.loads((var_dir / "demo-credentials.json").read_text())
        demo_file = str(var_dir / "demo-credentials.json")
        server.manage(  # what the demo loader is to call: roles for "officer", and "checker"
            "shell",
            "-c",
            "import json, pathlib; from console.officers import ensure_demo_officers; "
            f"ensure_demo_officers(json.loads(pathlib.Path({demo_file!r}).read_text()))",
        )
        secrets = {}
        for name, roles in (
            ("alice", ["compliance_officer", "risk_officer"]),
            ("bob", ["compliance_officer"]),
        ):
            role_args = [arg for role in roles for arg in ("--role", role)]
            output = server.manage("enrol_officer", name, *role_args, "--password", PASSWORDS[name])
            secrets[name] = secret_from_uri(output)
        server.manage("shell", "-c", PRICE_HISTORY)
        key = server.manage("create_api_key", "browser-test", "--scopes", "operator,marketdata")
        yield {
            "server": server,
            "demo": credentials,
            "secrets": secrets,
            "api_key": key.strip().splitlines()[-1],
            "shots": Path(os.environ.get("CONSOLE_SCREENSHOT_DIR") or var_dir / "shots"),
        }
    finally:
        live.stop(server)


@pytest.fixture(scope="module")
def browser_context(stack, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 860},
            device_scale_factor=1,
        )
        context.set_default_timeout(15_000)
        yield context
        context.close()


@pytest.fixture
def page(browser_context, stack):
    page = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            page.errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    assert page.errors == [], page.errors  # no script error and no CSP violation


def shot(page, stack, name: str) -> None:
    directory = stack["shots"]
    directory.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(directory / f"{name}.png"))


def sign_in(
    page, stack, username: str, password: str, secret: str | None = None, step_offset: int = 0
) -> None:
    base = stack["server"].base_url
    page.goto(base + "/")
    assert page.url.startswith(base + "/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()
    if secret is None:  # first sign-in: enrol from the page's own secret
        page.wait_for_url("**/sign-in/enrol/")
        assert page.locator("img.qr").get_attribute("src").startswith("data:image/svg+xml")
        secret = page.get_by_test_id("totp-secret").inner_text()
        shot(page, stack, "01-enrol")
        page.get_by_label("Six-digit code").fill(totp_now(secret))
        page.get_by_role("button", name="Confirm and sign in").click()
    else:
        page.wait_for_url("**/sign-in/code/")
        enter_code(page, base, secret, step_offset=step_offset)
    page.wait_for_url(base + "/")
    assert page.get_by_role("heading", name="Dashboard").is_visible()


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in/")


def test_sign_in_with_totp_and_watch_a_halt_reach_the_board(page, stack):
    server = stack["server"]
    page.goto(server.base_url + "/sign-in/")
    shot(page, stack, "00-sign-in")
    demo = stack["demo"]
    sign_in(page, stack, demo["username"], demo["password"])  # enrols on the way
    state = page.get_by_test_id("state-TSLA-PERP")
    assert state.inner_text() != "halted"
    status, _ = server.json(
        "POST",
        "/api/v1/markets/TSLA-PERP/halt",
        {"reason": "browser test: news pending"},
        key=stack["api_key"],
    )
    assert status == 200
    # the htmx poll brings it, no reload (expect polls from Playwright's own world: the
    # page's policy forbids eval, so wait_for_function with a string would be refused)
    expect(state).to_have_text("halted", timeout=12_000)
    assert "news pending" in page.locator("tr[data-symbol=TSLA-PERP]").inner_text()
    shot(page, stack, "02-dashboard")
    page.locator("tr[data-symbol=TSLA-PERP]").get_by_role("link", name="TSLA-PERP").click()
    page.wait_for_url("**/markets/TSLA-PERP/")
    expect(page.get_by_test_id("market-chart")).to_have_attribute("data-chart-drawn", "true")
    assert "halted" in page.locator("table").last.inner_text()
    shot(page, stack, "03-market")
    sign_out(page)


RULE = {
    "rule_id": "gb-stablecoin-review",
    "jurisdictions": "GB",
    "citation_ref": "FCA PS23/6 (browser test)",
    "citation_text": "Stablecoin deposits from the UK are reviewed before they are credited.",
    "reason": "New FCA statement; review UK stablecoin deposits.",
}


def test_a_rule_change_proposed_by_one_officer_and_approved_by_another(page, stack):
    base = stack["server"].base_url
    sign_in(page, stack, "alice", PASSWORDS["alice"], stack["secrets"]["alice"])
    page.get_by_role("navigation", name="Console sections").get_by_role(
        "link", name="Rules"
    ).click()
    shot(page, stack, "04-rules")
    page.get_by_role("link", name="Propose a new rule").click()
    page.get_by_label("Rule id").fill(RULE["rule_id"])
    page.get_by_label("Jurisdictions").fill(RULE["jurisdictions"])
    page.get_by_label("stablecoin").check()
    page.get_by_label("deposit").check()
    page.locator("#id_effect").select_option("review")  # not the per-signal effects
    page.get_by_label("Citation reference").fill(RULE["citation_ref"])
    page.get_by_label("Citation text").fill(RULE["citation_text"])
    page.get_by_label("Why (for the approver and the audit log)").fill(RULE["reason"])
    page.get_by_role("button", name="Propose").click()
    page.wait_for_url(re.compile(r".*/proposals/\d+/$"))
    assert page.get_by_test_id("proposal-status").inner_text() == "proposed"
    assert page.get_by_role("button", name="Approve and carry out").count() == 0
    assert "must decide it" in page.content()
    shot(page, stack, "05-proposal")
    page.goto(base + "/rules/")
    draft = page.locator(f"tr[data-draft={RULE['rule_id']}-r1]")
    assert "You drafted this" in draft.inner_text()
    sign_out(page)

    sign_in(page, stack, "bob", PASSWORDS["bob"], stack["secrets"]["bob"])
    page.goto(base + "/rules/")
    draft = page.locator(f"tr[data-draft={RULE['rule_id']}-r1]")
    page.once("dialog", lambda dialog: dialog.accept())  # data-confirm
    draft.get_by_role("button", name="Approve").click()
    page.wait_for_url(base + "/rules/")
    assert f"Rule {RULE['rule_id']} revision 1 is now in force." in page.content()
    assert page.locator(f"tr[data-draft={RULE['rule_id']}-r1]").count() == 0

    page.goto(base + "/proposals/")
    shot(page, stack, "06-proposals")
    page.goto(base + f"/audit/?object_id={RULE['rule_id']}%23r1")
    trail = page.locator("table").inner_text()
    assert "rule.draft" in trail and "officer:alice" in trail
    assert "rule.activate" in trail and "officer:bob" in trail
    shot(page, stack, "07-audit")


def test_the_explain_form_uses_the_live_rulebook(page, stack):
    base = stack["server"].base_url
    page.goto(base + "/rules/explain/")
    if "/sign-in/" in page.url:  # the previous test's officer is still signed in otherwise
        sign_in(page, stack, "bob", PASSWORDS["bob"], stack["secrets"]["bob"])
        page.goto(base + "/rules/explain/")
    page.get_by_label("Client IP").fill("114.114.114.114")
    page.get_by_label("Account id").fill("acc-cn")
    page.get_by_label("Product class").select_option("rwa_token")
    page.get_by_label("Action").select_option("open")
    page.get_by_role("button", name="Explain").click()
    assert page.get_by_test_id("explain-effect").inner_text() == "deny"
    explanation = page.locator("#explanation").inner_text()
    assert "ip_geolocation" in explanation and "CN-JS" in explanation
    assert "residence" in explanation
    shot(page, stack, "08-explain")
    # the rule approved a moment ago decides a UK stablecoin deposit
    page.get_by_label("Client IP").fill("81.2.69.142")
    page.get_by_label("Account id").fill("acc-gb")
    page.get_by_label("Product class").select_option("stablecoin")
    page.get_by_label("Action").select_option("deposit")
    page.get_by_role("button", name="Explain").click()
    assert page.get_by_test_id("explain-effect").inner_text() == "review"
    assert RULE["rule_id"] in page.locator("#explanation").inner_text()
    for path, name in (("/decisions/", "09-decisions"), ("/schedules/", "10-schedules")):
        page.goto(base + path)
        shot(page, stack, name)


def test_the_screening_page_shows_the_demo_case_beside_its_list_entry(page, stack):
    """Issue 15: the demo holder "Gerhard Wiser" (born 1962) is a possible match of SDN
    entry 11366 "WISSER, Gerhard" (born 1939): one open case, the facts side by side."""
    base = stack["server"].base_url
    page.goto(base + "/screening/")
    if "/sign-in/" in page.url:
        sign_in(page, stack, "bob", PASSWORDS["bob"], stack["secrets"]["bob"])
        page.goto(base + "/screening/")
    case = page.locator("tr[data-testid^='case-']").first
    text = case.inner_text()
    assert "acc-de" in text and "Gerhard Wiser" in text and "born 1962-05-14" in text
    assert "WISSER, Gerhard" in text and "#11366" in text and "DOB 1939-07-02" in text
    assert page.get_by_test_id("list-1").is_visible()
    shot(page, stack, "11-screening")
    case.get_by_role("link", name="Propose false positive").click()
    page.wait_for_url("**/proposals/new/screening.false_positive/**")
    assert page.get_by_label("Case id").input_value() != ""


IMPACT_RULE = {
    "rule_id": "hk-crypto-review",
    "jurisdictions": "HK",
    "citation_ref": "SFC VATP guidance (browser test)",
    "citation_text": "Crypto perpetuals from Hong Kong are reviewed before they are opened.",
    "reason": "New SFC circular: review Hong Kong crypto perpetuals.",
}
HK_IP, US_IP = "203.198.7.66", "8.8.8.8"


def in_server(stack, code: str) -> str:
    """Run the measurement's steps in the live server's world, as its worker would (the
    live server runs no Celery worker: each step is taken when the test says)."""
    return stack["server"].manage(
        "shell",
        "-c",
        "from compliance.impact import measure; from compliance.models import RuleImpact; "
        "impact = RuleImpact.objects.latest('id'); " + code,
    )


def test_a_draft_shows_its_impact_as_it_is_measured_and_the_checker_sees_it(page, stack):
    """Issue 18: the draft's page shows the background measurement's progress and then its
    flips without a reload (htmx polling; the CSP allows no script of the page's own), with
    decisions to open; the checker sees the same on the proposal before approving."""
    server, base = stack["server"], stack["server"].base_url
    key = server.manage("create_api_key", "impact-test", "--scopes", "pretrade")
    key = key.strip().splitlines()[-1]
    for account, address in (
        ("acc-hk", HK_IP),
        ("acc-sg", HK_IP),
        (None, HK_IP),
        ("acc-sg", US_IP),
    ):
        body = {"client_ip": address, "product_class": "crypto_perp", "action": "open"}
        if account:
            body["account_id"] = account
        status, answer = server.json("POST", "/api/v1/access/check", body, key=key)
        assert status == 200 and answer["effect"] == ("deny" if address == US_IP else "allow")
    server.manage("drain_access_decisions", "--max-seconds", "5")

    page.goto(base + "/rules/propose/")
    if "/sign-in/" in page.url or "Signed in as bob" not in page.content():
        if "/sign-in/" not in page.url:
            sign_out(page)
        # bob is the maker; the next time step's code, in case bob's last sign-in used
        # this one (a code is accepted once)
        sign_in(page, stack, "bob", PASSWORDS["bob"], stack["secrets"]["bob"], step_offset=1)
        page.goto(base + "/rules/propose/")
    page.get_by_label("Rule id").fill(IMPACT_RULE["rule_id"])
    page.get_by_label("Jurisdictions").fill(IMPACT_RULE["jurisdictions"])
    page.get_by_label("crypto_perp").check()
    page.get_by_label("open", exact=True).check()
    page.locator("#id_effect").select_option("review")
    page.get_by_label("Citation reference").fill(IMPACT_RULE["citation_ref"])
    page.get_by_label("Citation text").fill(IMPACT_RULE["citation_text"])
    page.get_by_label("Why (for the approver and the audit log)").fill(IMPACT_RULE["reason"])
    page.get_by_role("button", name="Propose").click()
    page.wait_for_url(re.compile(r".*/proposals/\d+/$"))
    proposal_url = page.url
    assert "Counting the window" in page.get_by_test_id("rule-impact").inner_text()

    page.goto(base + f"/rules/{IMPACT_RULE['rule_id']}/r1/")
    status = page.get_by_test_id("impact-status")
    expect(status).to_contain_text("Counting the window")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    in_server(stack, "measure.measure_chunk(impact.pk)")  # the worker counts the window
    total = page.get_by_test_id("impact-total")
    expect(total).to_be_visible(timeout=12_000)
    assert int(total.inner_text()) >= 4
    expect(page.get_by_test_id("impact-processed")).to_have_text("0")
    in_server(stack, "measure.measure_chunk(impact.pk, chunk=2)")  # then a first chunk
    expect(page.get_by_test_id("impact-processed")).to_have_text("2", timeout=12_000)
    assert page.get_by_test_id("impact-progress").get_attribute("value") != "0"
    shot(page, stack, "12-rule-impact-progress")

    in_server(stack, "measure.measure(impact.pk, max_seconds=60, chunk=2)")
    flips = page.get_by_test_id("impact-flips")
    expect(flips).to_have_text("3", timeout=12_000)
    assert navigations == []  # every step came by the poll, none by a reload
    by_jurisdiction = page.get_by_test_id("impact-by-jurisdiction").inner_text()
    assert "HK" in by_jurisdiction and "allow → review" in by_jurisdiction
    assert "ip_geolocation" in page.get_by_test_id("impact-by-signal").inner_text()
    assert "crypto_perp" in page.get_by_test_id("impact-by-product").inner_text()
    shot(page, stack, "13-rule-impact")
    page.get_by_test_id("impact-by-jurisdiction").get_by_role("link").first.click()
    page.wait_for_url(re.compile(r".*/decisions/[0-9a-f]{32}/$"))
    assert page.get_by_role("heading", name=re.compile("Decision")).is_visible()
    assert "crypto_perp, open" in page.content()
    sign_out(page)

    sign_in(page, stack, "alice", PASSWORDS["alice"], stack["secrets"]["alice"], step_offset=1)
    page.goto(proposal_url)
    impact = page.get_by_test_id("rule-impact")
    assert impact.get_by_test_id("impact-flips").inner_text() == "3"
    assert "HK" in impact.get_by_test_id("impact-by-jurisdiction").inner_text()
    shot(page, stack, "14-proposal-impact")
    page.once("dialog", lambda dialog: dialog.accept())  # data-confirm
    page.get_by_role("button", name="Approve and carry out").click()
    expect(page.get_by_test_id("proposal-status")).to_have_text("executed")
    # the draft is in force: its measurement is kept with it, no longer offered again
    page.goto(base + f"/rules/{IMPACT_RULE['rule_id']}/r1/")
    assert page.get_by_test_id("revision-status").inner_text() == "active"
    assert page.get_by_test_id("impact-flips").inner_text() == "3"
    assert page.get_by_role("button", name="Measure again").count() == 0
