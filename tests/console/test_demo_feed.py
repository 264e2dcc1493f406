"""The demo feed's step against the real service: the same views the HTTP API serves, a real
database and a real Redis, a manual clock. Ticks are applied by session, a breaker episode
really puts a market into its limit state and pauses it (and the sweeper records it in the
market history), and the demo traders' orders are decided, filled and cancelled for real."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest

from compliance import decision_log
from compliance.models import AccessDecision
from console import demo
from console.demo_feed import keys as feed_keys_module
from console.demo_feed.episodes import EpisodeKind, PendingEpisode
from console.demo_feed.feed import DemoFeed, Tally, step_index
from console.demo_feed.keys import feed_keys
from console.demo_feed.markets import demo_instruments
from core import api_keys
from core.clock import ManualClock, use_clock
from risk.markets import sweeper
from risk.markets.live import live_controller
from risk.markets.record import parse_market_hash
from risk.models import MarketEvent, PretradeDecision
from risk.positions import resync
from risk.pretrade import decisions
from tests.risk.clock import et

pytestmark = pytest.mark.django_db

TUESDAY_10AM = et("2026-11-24 10:00")  # regular session
SATURDAY_NOON = et("2026-11-28 12:00")  # weekend: the underlying's market is shut


class InProcessVenue:
    """The feed's ``Venue`` over Django's test client: the API's own views, no socket."""

    def __init__(self, client) -> None:
        self.client = client

    def request(self, method, path, key, body=None):
        auth = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
        if method == "GET":
            response = self.client.get(path, **auth)
        else:
            response = self.client.post(path, body, format="json", **auth)
        return response.status_code, response.json()


def venue_at(moment, api, tmp_path, django_capture_on_commit_callbacks):
    clock = ManualClock(moment)
    with use_clock(clock), django_capture_on_commit_callbacks(execute=True):
        demo.load(tmp_path / "demo-credentials.json")
        resync.mark_synced()
    return clock


def make_feed(api, tmp_path, clock, *, orders: float = 0, episodes: float = 0) -> DemoFeed:
    feed = DemoFeed(
        InProcessVenue(api),
        feed_keys(tmp_path / "feed-keys.json", clock.now()),
        demo_instruments(),
        seed=0,
        order_seconds=orders,
        episode_minutes=episodes,
        run_id="t",
    )
    feed.start(clock.now())
    feed.pending = None  # each test chooses its own episode
    return feed


def run(feed: DemoFeed, clock: ManualClock, steps: int, django_capture_on_commit_callbacks):
    reports = []
    for _ in range(steps):
        clock.advance(timedelta(seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            reports.append(feed.step(clock.now()))
    return reports


def record(symbol: str):
    return parse_market_hash(symbol, live_controller().store.read(symbol))


@pytest.fixture
def regular(api, tmp_path, redis_conn, django_capture_on_commit_callbacks):
    return venue_at(TUESDAY_10AM, api, tmp_path, django_capture_on_commit_callbacks)


@pytest.fixture
def weekend(api, tmp_path, redis_conn, django_capture_on_commit_callbacks):
    return venue_at(SATURDAY_NOON, api, tmp_path, django_capture_on_commit_callbacks)


def test_in_the_regular_session_every_market_gets_its_feed_and_book(
    api, tmp_path, regular, django_capture_on_commit_callbacks
):
    with use_clock(regular):
        feed = make_feed(api, tmp_path, regular)
        reports = run(feed, regular, 5, django_capture_on_commit_callbacks)
        # 6 instruments x (external + book), and on the first step the close of Monday for
        # the 4 XNYS ones, which the demo loader already sent: refused as duplicates
        assert [r.ticks_sent for r in reports] == [16, 12, 12, 12, 12]
        assert [r.ticks_ignored for r in reports] == [4, 0, 0, 0, 0]
        assert all(not r.errors for r in reports)
        assert reports[-1].states == {symbol: "open" for symbol in demo.risk_demo.DEMO_PRICES}
        for symbol in ("AAPL-PERP", "BTC-PERP"):
            external = record(symbol).reference.external
            assert external.at == regular.now()
            assert external.price == feed.price(symbol)
        status, state = InProcessVenue(api).request(
            "GET", "/api/v1/markets/AAPL-PERP/state", feed.keys.marketdata
        )
        assert status == 200 and state["state"] == "open" and state["session"] == "regular"


def test_at_the_weekend_equity_markets_get_only_their_book(
    api, tmp_path, weekend, django_capture_on_commit_callbacks
):
    seeded_external = record("AAPL-PERP").reference.external
    with use_clock(weekend):
        feed = make_feed(api, tmp_path, weekend)
        reports = run(feed, weekend, 3, django_capture_on_commit_callbacks)
    # 4 XNYS books + 2 x (external + book) for the 24x7 instruments (+ Friday's close)
    assert [r.ticks_sent for r in reports] == [12, 8, 8]
    aapl = record("AAPL-PERP")
    assert aapl.reference.external == seeded_external  # no feed while the NYSE is shut
    assert aapl.reference.book.at == weekend.now()
    assert record("BTC-PERP").reference.external.at == weekend.now()
    assert reports[-1].states["AAPL-PERP"] == "open"


def test_a_luld_episode_puts_the_market_in_its_limit_state_then_pauses_it(
    api, tmp_path, regular, django_capture_on_commit_callbacks
):
    with use_clock(regular):
        feed = make_feed(api, tmp_path, regular)
        # five minutes of feed first: the LULD reference is the mean of the last five
        # minutes, so with a handful of prices an episode would drag it along
        warm_up = step_index(regular.now()) + 300
        feed.pending = PendingEpisode("AAPL-PERP", EpisodeKind.LULD_PAUSE, 1, warm_up)
        reports = run(feed, regular, 340, django_capture_on_commit_callbacks)[299:]
        states = [r.states["AAPL-PERP"] for r in reports]
        assert states[0] == "open"
        entered = states.index("limit_state")
        assert states[entered + 15] == "paused"  # 15 s in the limit state, then the pause
        assert set(states[entered : entered + 15]) == {"limit_state"}
        assert states[-1] == "paused"
        assert [e.kind for r in reports for e in r.episodes_started] == [EpisodeKind.LULD_PAUSE]
        state = api.get(
            "/api/v1/markets/AAPL-PERP/state",
            HTTP_AUTHORIZATION=f"Api-Key {feed.keys.marketdata}",
        ).json()
        assert state["state"] == "paused" and state["reason"] == "LULD_PAUSE"
        # no other breaker fired on the way: no oracle divergence, no velocity pause
        assert {r.states["BTC-PERP"] for r in reports} == {"open"}
        sweeper.sweep(regular.now())
    history = list(
        MarketEvent.objects.filter(instrument="AAPL-PERP").values_list("to_status", "reason")
    )
    assert history == [
        ("limit_state", "LULD_LIMIT_STATE_UPPER"),
        ("paused", "LULD_PAUSE"),
    ]


def test_a_velocity_episode_pauses_the_market_for_ten_seconds(
    api, tmp_path, weekend, django_capture_on_commit_callbacks
):
    with use_clock(weekend):
        feed = make_feed(api, tmp_path, weekend)
        feed.pending = PendingEpisode("BTC-PERP", EpisodeKind.VELOCITY_PAUSE, -1, 0)
        reports = run(feed, weekend, 30, django_capture_on_commit_callbacks)
        states = [r.states["BTC-PERP"] for r in reports]
        crash = states.index("paused")
        assert set(states[crash : crash + 10]) == {"paused"}
        assert states[crash + 10] == "open" and states[-1] == "open"
        sweeper.sweep(weekend.now())
    reasons = list(
        MarketEvent.objects.filter(instrument="BTC-PERP").values_list("reason", flat=True)
    )
    assert reasons[0] == "VELOCITY_PAUSE"


def test_random_episodes_start_only_on_eligible_open_markets(
    api, tmp_path, weekend, django_capture_on_commit_callbacks
):
    with use_clock(weekend):
        feed = make_feed(api, tmp_path, weekend, episodes=0.5)  # one every 30 s
        reports = run(feed, weekend, 90, django_capture_on_commit_callbacks)
    started = [e for r in reports for e in r.episodes_started]
    assert started
    assert {e.symbol for e in started} <= {"AAPL-PERP", "NVDA-PERP", "TSLA-PERP", "BTC-PERP"}
    assert all(not r.errors for r in reports)


def test_demo_traders_get_real_decisions_fills_and_cancels(
    api, tmp_path, weekend, django_capture_on_commit_callbacks
):
    with use_clock(weekend):
        feed = make_feed(api, tmp_path, weekend, orders=1)  # an order every step
        reports = run(feed, weekend, 80, django_capture_on_commit_callbacks)
        tally = Tally()
        for report in reports:
            tally.add(report)
        decisions.drain()
        decision_log.drain(claim_idle_ms=0)
    assert not tally.errors
    assert tally.decisions["accept"] >= 20 and tally.decisions["reject"] >= 10
    codes = set(tally.rejects)
    assert {"PRICE_OUTSIDE_BAND", "ORDER_QUANTITY_LIMIT"} <= codes
    assert codes & {"JURISDICTION_BLOCKED", "JURISDICTION_CLOSE_ONLY", "JURISDICTION_REVIEW"}
    assert tally.fills > 0 and tally.cancels > 0
    logged = Counter(PretradeDecision.objects.values_list("decision", flat=True))
    assert logged["accept"] == tally.decisions["accept"]
    assert logged["reject"] == tally.decisions["reject"]
    assert any(position != 0 for position in feed.positions.values())
    summary = tally.summary(80)
    assert "PRICE_OUTSIDE_BAND" in summary and "fills" in summary
    # The traders and some anonymous visitors ask the access gate too: its denials by
    # jurisdiction fill in (the dashboard's and the decisions page's chart).
    access = AccessDecision.objects.all()
    assert access.count() >= 80
    assert (
        access.filter(account_id__in=("", None)).exists()
        or access.filter(account_id__isnull=True).exists()
    )
    assert access.filter(effect="deny").exists() and access.filter(effect="allow").exists()


def test_a_feed_restarted_carries_on_from_the_venues_reference(
    api, tmp_path, regular, django_capture_on_commit_callbacks
):
    with use_clock(regular):
        first = make_feed(api, tmp_path, regular)
        run(first, regular, 3, django_capture_on_commit_callbacks)
        again = make_feed(api, tmp_path, regular)
    reference = first.quotes["NVDA-PERP"].reference
    assert again.price("NVDA-PERP") == reference
    assert again.last_step == step_index(regular.now()) - 1


def test_the_feed_keeps_its_keys_and_replaces_a_revoked_one(tmp_path, db, regular):
    keys_file = tmp_path / "keys.json"
    with use_clock(regular):
        keys = feed_keys(keys_file, regular.now())
        assert feed_keys(keys_file, regular.now()) == keys
        assert api_keys.resolve(keys.marketdata).scopes == frozenset({"marketdata"})
        assert api_keys.resolve(keys.pretrade).scopes == frozenset({"pretrade"})
        name = api_keys.resolve(keys.pretrade).name
        api_keys.revoke_api_key(name=name, actor="test")
        regular.advance(timedelta(seconds=1))
        fresh = feed_keys(keys_file, regular.now())
    assert fresh.pretrade != keys.pretrade and fresh.marketdata != keys.marketdata
    assert api_keys.resolve(keys.marketdata) is None  # the older pair is revoked
    assert api_keys.resolve(fresh.marketdata).name.startswith(
        feed_keys_module.MARKETDATA_KEY_PREFIX
    )
    assert oct(keys_file.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("symbol", ["AAPL-PERP", "USTB-RWA"])
def test_prices_sent_are_on_the_instruments_tick(
    api, tmp_path, weekend, django_capture_on_commit_callbacks, symbol
):
    with use_clock(weekend):
        feed = make_feed(api, tmp_path, weekend)
        run(feed, weekend, 2, django_capture_on_commit_callbacks)
    tick = next(i.tick_size for i in demo_instruments() if i.symbol == symbol)
    book = record(symbol).reference.book
    assert book.price % tick == 0 and book.price > Decimal(0)
