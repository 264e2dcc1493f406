"""The console's charts in a real browser: Debian's Chromium driven by Playwright against a
live server (granian, migrated database, real Redis, demo data, three days of samples and a
day of decisions written straight into the database).

The market chart draws with uPlot, shows the figures under the pointer, zooms by dragging
and by its window buttons; the rejects and denials charts draw and answer the pointer; a
browser without script gets the tables. Every page is watched for script errors and for
Content-Security-Policy violations (the browser's own console report, and the
``securitypolicyviolation`` event, listened to from before the page's scripts run: a
control test shows the listener hears a violation). Screenshots go where
``CONSOLE_SCREENSHOT_DIR`` says (else the test's own directory).
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.api import live
from tests.console.test_browser import CHROMIUM, CHROMIUM_ARGS, enter_code, secret_from_uri

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"Chromium not found at {CHROMIUM}: apt-get install chromium (.ci/run does)",
    ),
]

OFFICER, PASSWORD = "ruth", "ruth-password-0001"

HISTORY = """
import math
from datetime import timedelta
from decimal import Decimal
from core import clock
from compliance.models import AccessDecision
from risk.models import MarketEvent, PretradeDecision, PriceSample

now = clock.now().replace(second=0, microsecond=0)
rows = []
for n in range(73 * 60):  # three days and an hour of samples, one a minute
    at = now - timedelta(minutes=n)
    price = Decimal(430) + Decimal(str(round(6 * math.sin(n / 97) + n / 400, 2)))
    gap = 200 <= n < 215  # a quarter of an hour without a reference
    rows.append(PriceSample(
        instrument="TSLA-PERP", at=at, session="regular", state="halted" if n < 30 else "open",
        reference_price=None if gap else price,
        band_lower=None if gap else (price * Decimal("0.95")).quantize(Decimal("0.01")),
        band_upper=None if gap else (price * Decimal("1.05")).quantize(Decimal("0.01")),
        book_price=price + Decimal("0.37"),
    ))
PriceSample.objects.bulk_create(rows)
for minutes, frm, to, reason in (
    (150, "open", "limit_state", "LULD_LIMIT_STATE_UPPER"),
    (149.75, "limit_state", "paused", "LULD_PAUSE"),
    (144.75, "paused", "open", "LULD_PAUSE_ENDED"),
    (30, "open", "halted", "MANUAL"),
):
    MarketEvent.objects.create(
        instrument="TSLA-PERP", at=now - timedelta(minutes=minutes), from_status=frm,
        to_status=to, reason=reason, recorded_at=now,
    )
day = now.replace(hour=0, minute=0)
reasons = ["PRICE_BAND", "PRICE_BAND", "MARGIN", "MAX_ORDER_QUANTITY", "PRICE_BAND,MARGIN"]
decisions = []
for n in range(60):
    at = max(day, now - timedelta(minutes=4 * n))
    decisions.append(PretradeDecision(
        account_id="acc-sg", order_id=f"chart-{n}", instrument="TSLA-PERP", side="buy",
        quantity="1", order_type="limit", decision="reject" if n % 3 else "accept",
        reason_codes=reasons[n % 5] if n % 3 else "", policy_version="p", evaluated_at=at,
        fingerprint="f",
    ))
PretradeDecision.objects.bulk_create(decisions)
denials = []
for n, code in enumerate(["CN", "CN", "CN", "IR", "US-NY", "", "CN", "IR"] * 4):
    denials.append(AccessDecision(
        decision_id=f"chart-d-{n}", decided_at=now - timedelta(hours=5 * n),
        product_class="rwa_token", action="open", effect="deny",
        deciding_jurisdiction=code, policy_version="p",
    ))
AccessDecision.objects.bulk_create(denials)
"""
"""Samples with a gap, a LULD episode and a halt, decisions rejected for four reasons
through the day, denials from four jurisdictions over the week."""

CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("securitypolicyviolation " + event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("charts-live")
    server = live.start(var_dir, live.own_redis(settings.REDIS_URL), workers=1, threads=4)
    try:
        server.manage("load_demo_data")
        output = server.manage(
            "enrol_officer", OFFICER, "--role", "risk_officer", "--password", PASSWORD
        )
        server.manage("shell", "-c", HISTORY)
        yield {
            "server": server,
            "secret": secret_from_uri(output),
            "shots": Path(os.environ.get("CONSOLE_SCREENSHOT_DIR") or var_dir / "shots"),
        }
    finally:
        live.stop(server)


@pytest.fixture(scope="module")
def browser(stack):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def signed_in(browser, stack):
    """A browser context whose officer has signed in (password and TOTP) once."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    base = stack["server"].base_url
    page.goto(base + "/sign-in/")
    page.get_by_label("Username").fill(OFFICER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/sign-in/code/")
    enter_code(page, base, stack["secret"])
    page.close()
    yield context
    context.close()


@pytest.fixture
def page(signed_in):
    page = signed_in.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on(
        "console",
        lambda message: page.errors.append(message.text) if message.type == "error" else None,
    )
    yield page
    page.close()
    assert page.errors == [], page.errors  # no script error and no CSP violation


def shot(page, stack, name: str) -> None:
    directory = stack["shots"]
    directory.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def window_of(chart) -> timedelta:
    return instant(chart.get_attribute("data-x-max")) - instant(chart.get_attribute("data-x-min"))


def legend_value(scope, label: str):
    """The legend's row of one series (label and the value under the pointer)."""
    return scope.locator(f'.u-legend tr.u-series:has(.u-label:text-is("{label}"))')


def settled_window(page, chart, expected: timedelta, tolerance: timedelta) -> timedelta:
    """The chart's visible window once it is ``expected`` long (uPlot sets it on the event
    that asked for it; this waits out a swap or a redraw)."""
    for _ in range(50):
        if chart.get_attribute("data-x-min") and abs(window_of(chart) - expected) < tolerance:
            break
        page.wait_for_timeout(100)
    return window_of(chart)


def test_the_market_chart_draws_answers_the_pointer_and_zooms(page, stack):
    base = stack["server"].base_url
    page.goto(base + "/markets/TSLA-PERP/")
    chart = page.get_by_test_id("market-chart")
    expect(chart).to_have_attribute("data-chart-drawn", "true")
    expect(chart.locator("canvas")).to_have_count(1)
    expect(page.get_by_test_id("market-chart-table")).not_to_have_attribute("open", "")
    day = settled_window(page, chart, timedelta(hours=24), timedelta(minutes=2))
    assert abs(day - timedelta(hours=24)) < timedelta(minutes=2), day
    for label in ("reference", "band lower", "band upper", "book price"):
        expect(legend_value(page, label)).to_have_count(1)

    over = chart.locator(".u-over")
    box = over.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    at_tick = re.compile(r"^\d+\.\d{2}$")  # TSLA-PERP's tick is 0.01
    expect(legend_value(page, "reference").locator(".u-value")).to_have_text(at_tick)
    expect(legend_value(page, "book price").locator(".u-value")).to_have_text(at_tick)
    expect(legend_value(page, "UTC").locator(".u-value")).to_have_text(
        re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
    )
    expect(page.get_by_test_id("chart-readout")).to_contain_text("state open")
    page.mouse.move(box["x"] + box["width"] * 0.995, box["y"] + box["height"] * 0.5)
    expect(page.get_by_test_id("chart-readout")).to_contain_text("last change open → halted at")
    shot(page, stack, "30-market-chart")

    # drag across a fifth of the plot: the window narrows to it
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5, steps=8)
    page.mouse.up()
    zoomed = settled_window(page, chart, timedelta(hours=4.8), timedelta(minutes=50))
    assert timedelta(hours=4) < zoomed < timedelta(hours=5.6), zoomed
    expect(legend_value(page, "reference").locator(".u-value")).to_have_text(at_tick)
    over.dblclick()  # and back out to the whole window
    day = settled_window(page, chart, timedelta(hours=24), timedelta(minutes=2))
    assert abs(day - timedelta(hours=24)) < timedelta(minutes=2), day

    page.get_by_test_id("range-6").click()
    page.wait_for_url("**/markets/TSLA-PERP/?hours=6#market-chart")
    expect(
        page.get_by_role("heading", name="Reference, band and book price, last 6 h")
    ).to_be_visible()
    chart = page.get_by_test_id("market-chart")
    expect(chart).to_have_attribute("data-chart-drawn", "true")
    six = settled_window(page, chart, timedelta(hours=6), timedelta(minutes=1))
    assert abs(six - timedelta(hours=6)) < timedelta(minutes=1), six
    expect(page.get_by_role("heading", name="State changes, last 6 h")).to_be_visible()

    page.get_by_test_id("range-72").click()
    page.wait_for_url("**/markets/TSLA-PERP/?hours=72#market-chart")
    expect(page.get_by_test_id("range-72")).to_have_attribute("aria-current", "true")
    chart = page.get_by_test_id("market-chart")
    expect(chart).to_have_attribute("data-chart-drawn", "true")
    three_days = settled_window(page, chart, timedelta(hours=72), timedelta(minutes=2))
    assert abs(three_days - timedelta(hours=72)) < timedelta(minutes=2), three_days
    expect(page.get_by_test_id("chart-downsampled")).to_contain_text("4320 samples")
    data = json.loads(page.locator("#market-chart-data").text_content())
    assert len(data["t"]) <= 2000
    shot(page, stack, "31-market-chart-72h")


def hover_until(page, chart, pattern: re.Pattern) -> str:
    """Move the pointer across the plot until the readout matches (a bar with counts)."""
    box = chart.locator(".u-over").bounding_box()
    readout = chart.locator("xpath=..").locator("[data-chart-readout]")
    for step in range(200, 0, -1):  # from the right: today's bars are last
        page.mouse.move(box["x"] + box["width"] * step / 200, box["y"] + box["height"] * 0.9)
        text = readout.inner_text()
        if pattern.search(text):
            return text
    raise AssertionError(f"no bar answered the pointer: {readout.inner_text()!r}")


def test_the_rejects_chart_draws_and_answers_the_pointer(page, stack):
    page.goto(stack["server"].base_url + "/pretrade/")
    card = page.get_by_test_id("rejects-chart")
    chart = card.locator("[data-chart]")
    expect(chart).to_have_attribute("data-chart-drawn", "true")
    expect(chart.locator("canvas")).to_have_count(1)
    assert window_of(chart) == timedelta(hours=24)  # the UTC day
    for reason in ("PRICE_BAND", "MARGIN", "MAX_ORDER_QUANTITY"):
        expect(legend_value(card, reason)).to_have_count(1)
    text = hover_until(page, chart, re.compile(r"[1-9]\d* rejects"))
    assert re.match(r"^\d\d:\d\d–\d\d:\d\d UTC · \d+ rejects$", text), text
    counts = card.locator(".u-legend tr.u-series .u-value").all_inner_texts()
    assert any(re.fullmatch(r"[1-9]\d*", value) for value in counts), counts
    shot(page, stack, "32-rejects-chart")


def test_the_denials_chart_draws_and_answers_the_pointer(page, stack):
    page.goto(stack["server"].base_url + "/decisions/")
    card = page.get_by_test_id("denials-chart")
    chart = card.locator("[data-chart]")
    expect(chart).to_have_attribute("data-chart-drawn", "true")
    expect(chart.locator("canvas")).to_have_count(1)
    for code in ("CN", "IR", "US-NY", "—"):
        expect(legend_value(card, code)).to_have_count(1)
    text = hover_until(page, chart, re.compile(r"[1-9]\d* denials"))
    assert re.match(r"^\d{4}-\d\d-\d\d UTC · \d+ denials$", text), text
    shot(page, stack, "33-denials-chart")


def test_without_script_the_tables_stand_in(browser, signed_in, stack):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    context.add_cookies(signed_in.cookies())
    page = context.new_page()
    try:
        base = stack["server"].base_url
        page.goto(base + "/markets/TSLA-PERP/?hours=1")
        table = page.get_by_test_id("market-chart-table")
        expect(table).to_have_attribute("open", "")
        expect(table.locator("tbody tr")).to_have_count(60)
        expect(table.locator("tbody tr").first).to_contain_text(re.compile(r"\d+\.\d{2}"))
        expect(page.locator(".uplot")).to_have_count(0)
        expect(page.get_by_test_id("market-chart")).to_be_hidden()  # no empty frame
        expect(page.get_by_test_id("chart-readout")).to_be_hidden()
        for path, chart_id in (("/pretrade/", "rejects-chart"), ("/decisions/", "denials-chart")):
            page.goto(base + path)
            card = page.get_by_test_id(chart_id)
            expect(card.locator("details[data-chart-table]")).to_have_attribute("open", "")
            expect(card.locator("tbody tr").first).to_be_visible()
            expect(card.locator("tbody tr").first).not_to_contain_text("None in this period")
        shot(page, stack, "34-charts-without-script")
    finally:
        context.close()


def test_the_violation_listener_hears_a_violation(signed_in, stack):
    """The control: a style attribute set from outside the policy is reported, so the
    silence of the tests above means something."""
    page = signed_in.new_page()
    heard = []
    page.on("console", lambda message: heard.append(message.text))
    try:
        page.goto(stack["server"].base_url + "/markets/TSLA-PERP/")
        page.evaluate(
            "() => { const d = document.createElement('div');"
            " d.innerHTML = '<p style=\"color: red\">x</p>'; document.body.appendChild(d); }"
        )
        page.wait_for_timeout(300)
    finally:
        page.close()
    assert any("securitypolicyviolation style-src-attr" in text for text in heard), heard
