"""Episodes: now and then the demo's price makes a move that trips a breaker, so the board and
the market history show the safety machinery working (issue 18).

Three kinds, each a price path laid over the fair walk for both the underlying's feed and the
venue's book (they move together: a book that left the feed behind would read as an oracle
divergence, ``close_only``, and hide the breaker):

- ``limit_state``: the price climbs (or falls) over 8 steps to just through a LULD band edge,
  stays there 6 s and comes back: the market is in the limit state for a few seconds and
  reopens without a pause (RULES.md §1: back inside within 15 s);
- ``luld_pause``: the same climb, but the price stays through the edge for 20 s: after 15 s in
  the limit state the market pauses for 5 minutes;
- ``velocity_pause``: a 6% drop (or spike) within a second, then a recovery over 20 steps:
  the velocity logic (RULES.md §6: more than 5% within 1 s) pauses the market for 10 s.

The climb is gradual (under 1% a step) so a band episode never trips the velocity logic by
itself. The band edge is re-read at every step, because the reference -- and with it the
band -- may move while the price presses on it. Only the feed's equity and crypto perps have
episodes: not the market index (a drop there would be a market-wide breaker, not a demo), and
not a tokenized T-bill.

Whether an episode starts at a step is a pure function of (seed, instrument, step); one
starts on average every ``DEMO_FEED_EPISODE_MINUTES`` per instrument, and the feed plays one
LULD pause a minute after it starts, so a fresh demo has a breaker in its history within
minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from console.demo_feed.markets import Band
from console.demo_feed.walk import STEP_SECONDS, step_random

EPISODE_PRODUCT_CLASSES = frozenset({"equity_perp", "crypto_perp", "crypto_spot"})
FIRST_EPISODE_AFTER_STEPS = 60
BAND_OVERSHOOT = Decimal("0.003")
"""How far through the band edge a band episode pushes the price (0.3%)."""
VELOCITY_MOVE = Decimal("0.06")
"""A velocity episode's move within one second: above the 5% threshold."""


class EpisodeKind(StrEnum):
    LIMIT_STATE = "limit_state"
    LULD_PAUSE = "luld_pause"
    VELOCITY_PAUSE = "velocity_pause"


@dataclass(frozen=True, slots=True)
class Timeline:
    """Steps to reach the target, steps held there, steps to come back to the fair price."""

    ramp: int
    hold: int
    back: int

    @property
    def steps(self) -> int:
        return self.ramp + self.hold + self.back


TIMELINES = {
    EpisodeKind.LIMIT_STATE: Timeline(ramp=8, hold=6, back=8),
    EpisodeKind.LULD_PAUSE: Timeline(ramp=8, hold=20, back=10),
    EpisodeKind.VELOCITY_PAUSE: Timeline(ramp=1, hold=3, back=20),
}
KIND_WEIGHTS = (
    (EpisodeKind.LIMIT_STATE, 4),
    (EpisodeKind.LULD_PAUSE, 3),
    (EpisodeKind.VELOCITY_PAUSE, 3),
)


@dataclass(frozen=True, slots=True)
class Episode:
    symbol: str
    kind: EpisodeKind
    direction: int
    """+1: up through the upper edge (or a spike); -1: down (or a flash crash)."""
    started_step: int

    @property
    def timeline(self) -> Timeline:
        return TIMELINES[self.kind]

    @property
    def last_step(self) -> int:
        return self.started_step + self.timeline.steps

    def is_over(self, step: int) -> bool:
        return step > self.last_step

    def target(self, fair: Decimal, band: Band | None) -> Decimal:
        """Where the price is pushed to: through the band edge, or 6% away."""
        if self.kind is EpisodeKind.VELOCITY_PAUSE:
            return fair * (1 + self.direction * VELOCITY_MOVE)
        if band is None:
            return fair
        edge = band.upper if self.direction > 0 else band.lower
        return edge * (1 + self.direction * BAND_OVERSHOOT)

    def price(self, step: int, fair: Decimal, band: Band | None) -> Decimal:
        """The episode's price at ``step`` (the fair price outside the episode)."""
        elapsed = step - self.started_step
        timeline = self.timeline
        if elapsed <= 0 or elapsed > timeline.steps:
            return fair
        if elapsed <= timeline.ramp:
            share = Decimal(elapsed) / timeline.ramp
        elif elapsed <= timeline.ramp + timeline.hold:
            share = Decimal(1)
        else:
            share = 1 - Decimal(elapsed - timeline.ramp - timeline.hold) / timeline.back
        return fair + (self.target(fair, band) - fair) * share

    def is_gap(self, step: int) -> bool:
        """The step of a velocity episode's sudden move: printed as two prints."""
        return self.kind is EpisodeKind.VELOCITY_PAUSE and step == self.started_step + 1


def has_episodes(product_class: str, is_market_index: bool) -> bool:
    return product_class in EPISODE_PRODUCT_CLASSES and not is_market_index


def _kind_and_direction(seed: int, symbol: str, step: int) -> tuple[EpisodeKind, int]:
    draw = step_random(seed, symbol, step, "episode-kind")
    kinds = [kind for kind, _ in KIND_WEIGHTS]
    kind = draw.choices(kinds, weights=[weight for _, weight in KIND_WEIGHTS])[0]
    if kind is EpisodeKind.VELOCITY_PAUSE:
        direction = -1 if draw.random() < 0.75 else 1  # flash crashes are the common kind
    else:
        direction = 1 if draw.random() < 0.5 else -1
    return kind, direction


def episode_starting(seed: int, symbol: str, step: int, mean_minutes: float) -> Episode | None:
    """The episode that starts at ``step`` for ``symbol``, if one does: on average one every
    ``mean_minutes`` (a Bernoulli draw per step, so the gaps are about exponential)."""
    if mean_minutes <= 0:
        return None
    chance = STEP_SECONDS / (60 * mean_minutes)
    if step_random(seed, symbol, step, "episode").random() >= chance:
        return None
    kind, direction = _kind_and_direction(seed, symbol, step)
    return Episode(symbol, kind, direction, step)


@dataclass(frozen=True, slots=True)
class PendingEpisode:
    """An episode to play as soon as its market is open, from ``not_before`` on."""

    symbol: str
    kind: EpisodeKind
    direction: int
    not_before: int

    def start(self, step: int) -> Episode:
        return Episode(self.symbol, self.kind, self.direction, step)


def first_episode(seed: int, symbols: list[str], start_step: int) -> PendingEpisode | None:
    """The LULD pause played a minute after the feed starts, on an instrument the seed picks."""
    if not symbols:
        return None
    draw = step_random(seed, "", start_step, "first-episode")
    symbol = draw.choice(sorted(symbols))
    direction = 1 if draw.random() < 0.5 else -1
    return PendingEpisode(
        symbol, EpisodeKind.LULD_PAUSE, direction, start_step + FIRST_EPISODE_AFTER_STEPS
    )
