"""The demo's price walk and its breaker episodes, as pure functions of (seed, instrument,
step): prices stay positive and on the tick, the walk is reproducible and scaled to the
product class, episodes start at the documented rate and push through the band edge."""

from __future__ import annotations

import math
import statistics
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.demo_feed import episodes
from console.demo_feed.episodes import Episode, EpisodeKind
from console.demo_feed.markets import Band
from console.demo_feed.walk import WALKS, step_return, walk, walk_step

D = Decimal
TICKS = [D("0.0001"), D("0.01"), D("0.5"), D("1")]

seeds = st.integers(min_value=0, max_value=2**32)
symbols = st.sampled_from(["AAPL-PERP", "BTC-PERP", "USTB-RWA", "X"])
steps = st.integers(min_value=0, max_value=2**40)
classes = st.sampled_from(sorted(WALKS))


@settings(max_examples=300, deadline=None)
@given(
    seed=seeds,
    symbol=symbols,
    step=steps,
    price_ticks=st.integers(min_value=1, max_value=10**9),
    product=classes,
)
def test_a_step_keeps_the_price_a_positive_whole_number_of_ticks(
    seed, symbol, step, price_ticks, product
):
    moved = walk_step(seed, symbol, step, price_ticks, WALKS[product])
    assert isinstance(moved, int) and moved >= 1
    assert moved == walk_step(seed, symbol, step, price_ticks, WALKS[product])  # pure


@settings(max_examples=50, deadline=None)
@given(seed=seeds, first=st.integers(min_value=0, max_value=2**36), tick=st.sampled_from(TICKS))
def test_a_walk_from_one_tick_never_reaches_zero(seed, first, tick):
    """The smallest price there is, on the most volatile class: still at least one tick."""
    path = walk(seed, "BTC-PERP", first, 1, WALKS["crypto_perp"])
    prices = [next(path) * tick for _ in range(200)]
    assert all(price >= tick and price % tick == 0 for price in prices)


def test_each_step_draws_from_seed_instrument_and_step_alone():
    params = WALKS["equity_perp"]
    a = step_return(7, "AAPL-PERP", 1000, params)
    assert a == step_return(7, "AAPL-PERP", 1000, params)
    assert a != step_return(8, "AAPL-PERP", 1000, params)
    assert a != step_return(7, "NVDA-PERP", 1000, params)
    assert a != step_return(7, "AAPL-PERP", 1001, params)


VOLATILITY_ROWS = [
    # class, one-minute volatility it should show (bp), tolerance (bp)
    ("equity_perp", 12, 3),
    ("crypto_perp", 25, 6),
    ("rwa_token", 0.2, 0.1),
]


@pytest.mark.parametrize(("product", "expected_bp", "tolerance_bp"), VOLATILITY_ROWS)
def test_the_walk_moves_as_much_as_its_product_class_says(product, expected_bp, tolerance_bp):
    """Two hours of one-second steps, measured as minute returns without the jumps."""
    params = WALKS[product]
    returns = [
        float(step_return(3, "X", step, params) - params.drift_per_day / 86400)
        for step in range(7200)
    ]
    minute_returns = [sum(returns[i : i + 60]) for i in range(0, 7200, 60)]
    # jumps are rare and large: a robust estimate (median absolute deviation) ignores them
    median = statistics.median(minute_returns)
    mad = statistics.median(abs(r - median) for r in minute_returns)
    measured_bp = mad * 1.4826 * 10_000
    assert abs(measured_bp - expected_bp) <= tolerance_bp, measured_bp


def test_the_t_bill_token_drifts_up_with_its_yield():
    path = walk(0, "USTB-RWA", 0, 1_000_000, WALKS["rwa_token"])  # 100.0000 at 0.0001
    prices = [next(path) for _ in range(86_400)]  # a day
    growth = math.log(prices[-1] / 1_000_000)
    assert 0 < growth < 0.001  # ~1.2 bp of yield a day, plus noise of ~0.2 bp a minute


# --- episodes ---------------------------------------------------------------------------

BAND = Band(D("218.50"), D("241.50"))
FAIR = D("230")
EPISODE_ROWS = [
    # kind, direction, price at the peak, steps through the edge
    (EpisodeKind.LIMIT_STATE, 1, BAND.upper * D("1.003"), 6),
    (EpisodeKind.LULD_PAUSE, 1, BAND.upper * D("1.003"), 20),
    (EpisodeKind.LULD_PAUSE, -1, BAND.lower * D("0.997"), 20),
    (EpisodeKind.VELOCITY_PAUSE, -1, FAIR * D("0.94"), None),
]


@pytest.mark.parametrize(("kind", "direction", "peak", "held"), EPISODE_ROWS)
def test_an_episode_pushes_the_price_to_its_target_and_back(kind, direction, peak, held):
    episode = Episode("AAPL-PERP", kind, direction, started_step=100)
    path = [episode.price(step, FAIR, BAND) for step in range(100, episode.last_step + 2)]
    assert path[0] == path[-2] == path[-1] == FAIR  # back at the fair price by the last step
    assert all(price != FAIR for price in path[1:-2])
    assert (max if direction > 0 else min)(path) == peak
    if held is not None:
        through = [p for p in path if p >= BAND.upper or p <= BAND.lower]
        assert len(through) == held + 1  # the ramp's last step reaches the target
        # limit state shorter than 15 s, or longer: the difference between its two kinds
        assert (held + 1 < 15) == (kind is EpisodeKind.LIMIT_STATE)
    assert episode.is_over(episode.last_step + 1) and not episode.is_over(episode.last_step)


@pytest.mark.parametrize("kind", [EpisodeKind.LIMIT_STATE, EpisodeKind.LULD_PAUSE])
def test_a_band_episode_climbs_too_slowly_to_trip_the_velocity_logic(kind):
    episode = Episode("AAPL-PERP", kind, 1, started_step=0)
    path = [episode.price(step, FAIR, BAND) for step in range(episode.last_step + 1)]
    moves = [abs(b / a - 1) for a, b in pairwise(path)]
    assert max(moves) < D("0.01")


def test_a_velocity_episode_moves_more_than_five_percent_in_its_gap_step():
    episode = Episode("BTC-PERP", EpisodeKind.VELOCITY_PAUSE, -1, started_step=0)
    assert episode.is_gap(1) and not episode.is_gap(0) and not episode.is_gap(2)
    before, after = episode.price(0, FAIR, BAND), episode.price(1, FAIR, BAND)
    assert after < before * D("0.95")


def test_a_band_episode_follows_a_band_that_moves():
    episode = Episode("AAPL-PERP", EpisodeKind.LULD_PAUSE, 1, started_step=0)
    moved = Band(BAND.lower * D("1.01"), BAND.upper * D("1.01"))
    assert episode.price(10, FAIR, moved) >= moved.upper


@settings(max_examples=200, deadline=None)
@given(seed=seeds, symbol=symbols, step=steps)
def test_whether_an_episode_starts_is_pure(seed, symbol, step):
    first = episodes.episode_starting(seed, symbol, step, 20)
    assert first == episodes.episode_starting(seed, symbol, step, 20)
    if first is not None:
        assert first.started_step == step and first.direction in (1, -1)


def test_episodes_start_at_the_configured_rate():
    starts = [
        episode
        for step in range(120_000)
        if (episode := episodes.episode_starting(1, "AAPL-PERP", step, 20)) is not None
    ]
    expected = 120_000 / (20 * 60)  # 100
    assert 0.75 * expected <= len(starts) <= 1.25 * expected
    kinds = {episode.kind for episode in starts}
    assert kinds == set(EpisodeKind)
    assert episodes.episode_starting(1, "AAPL-PERP", 5, 0) is None  # 0: no episodes


ELIGIBLE_ROWS = [
    ("equity_perp", False, True),
    ("equity_perp", True, False),  # the market index: a drop would be a market-wide breaker
    ("crypto_perp", False, True),
    ("rwa_token", False, False),
]


@pytest.mark.parametrize(("product", "index", "eligible"), ELIGIBLE_ROWS)
def test_which_instruments_have_episodes(product, index, eligible):
    assert episodes.has_episodes(product, index) is eligible


def test_the_first_episode_is_a_luld_pause_a_minute_after_the_start():
    pending = episodes.first_episode(0, ["NVDA-PERP", "AAPL-PERP"], 1_000)
    assert pending is not None and pending.kind is EpisodeKind.LULD_PAUSE
    assert pending.symbol in {"NVDA-PERP", "AAPL-PERP"} and pending.not_before == 1_060
    assert pending == episodes.first_episode(0, ["AAPL-PERP", "NVDA-PERP"], 1_000)
    assert episodes.first_episode(0, [], 1_000) is None
