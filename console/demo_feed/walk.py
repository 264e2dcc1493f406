"""The fair price of each demo instrument: a random walk with drift and occasional jumps.

A step multiplies the price by ``exp(r)``, with ``r`` the drift over the step, plus a normal
move whose size is the product class's volatility scaled to the step (``sigma * sqrt(dt)``),
plus, rarely, a jump of half to one and a half times the class's jump size, up or down. Equity
perps move about 12 bp a minute (a lively large-cap day: ~2.4% over 6.5 hours) with a jump of
about 1% twice an hour, crypto about 25 bp with a jump of about 1.5% every ten minutes (the
venue's 24x7 reference moves in steps of 1% or more, so these are what move it), the
tokenized T-bill hardly at all but drifting up with its yield.

Why this shape: prices stay positive by construction, moves scale with the price, and the
randomness of a step is a pure function of (seed, instrument, step) -- ``step_random`` -- so a
walk is reproducible from any starting price, restarts do not replay other instruments' draws,
and tests state invariants without a clock. The price is kept as a whole number of ticks, so
it is always on the instrument's tick; the only floats are the random draws themselves, turned
into Decimals before any arithmetic on prices (CONVENTIONS.md, "Money").
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

STEP_SECONDS = 1
"""One step of the demo's market: ticks go out once a second."""

_MINUTE = Decimal(60)
_DAY = Decimal(86400)
_HOUR = Decimal(3600)


@dataclass(frozen=True, slots=True)
class WalkParameters:
    volatility_per_minute: Decimal
    """Standard deviation of the log return over one minute (0.0012 is 12 bp)."""
    drift_per_day: Decimal
    """Expected log return over a day (a T-bill token's yield accrues through it)."""
    jumps_per_hour: Decimal
    """How many jumps happen in an hour, on average."""
    jump_size: Decimal
    """A jump moves the price by 0.5x to 1.5x this, up or down (log return)."""


WALKS: dict[str, WalkParameters] = {
    "equity_perp": WalkParameters(
        Decimal("0.0012"), Decimal("0.0003"), Decimal(2), Decimal("0.01")
    ),
    "crypto_perp": WalkParameters(
        Decimal("0.0025"), Decimal("0.0005"), Decimal(6), Decimal("0.015")
    ),
    "crypto_spot": WalkParameters(
        Decimal("0.0025"), Decimal("0.0005"), Decimal(6), Decimal("0.015")
    ),
    "rwa_token": WalkParameters(Decimal("0.00002"), Decimal("0.00012"), Decimal(0), Decimal(0)),
    "stablecoin": WalkParameters(Decimal("0.000005"), Decimal(0), Decimal(0), Decimal(0)),
}


def step_random(seed: int, symbol: str, step: int, purpose: str) -> random.Random:
    """The random source of one step of one instrument for one purpose. Seeded from a string
    (hashed with SHA-512 by ``random``), so it is the same in every process and run."""
    return random.Random(f"{seed}|{symbol}|{step}|{purpose}")


def to_ticks(price: Decimal, tick_size: Decimal) -> int:
    """The nearest whole number of ticks, at least one (a price is never zero)."""
    return max(1, int((price / tick_size).to_integral_value(rounding=ROUND_HALF_EVEN)))


def step_return(
    seed: int, symbol: str, step: int, params: WalkParameters, step_seconds: int = STEP_SECONDS
) -> Decimal:
    """The log return of ``symbol``'s walk at ``step``: drift, a normal move, maybe a jump."""
    draw = step_random(seed, symbol, step, "walk")
    seconds = Decimal(step_seconds)
    log_return = params.drift_per_day * seconds / _DAY
    log_return += (
        params.volatility_per_minute * (seconds / _MINUTE).sqrt() * Decimal(draw.gauss(0.0, 1.0))
    )
    jump_chance = params.jumps_per_hour * seconds / _HOUR
    if Decimal(draw.random()) < jump_chance:
        size = params.jump_size * (Decimal("0.5") + Decimal(draw.random()))
        log_return += size if draw.random() < 0.5 else -size
    return log_return


def walk_step(
    seed: int,
    symbol: str,
    step: int,
    price_ticks: int,
    params: WalkParameters,
    step_seconds: int = STEP_SECONDS,
) -> int:
    """The price, in ticks, after ``step``: ``price_ticks * exp(step_return)``, rounded to the
    nearest tick and never below one. Rounding each step is unbiased while the step's move
    spans several ticks, as it does for every demo instrument."""
    moved = Decimal(price_ticks) * step_return(seed, symbol, step, params, step_seconds).exp()
    return max(1, int(moved.to_integral_value(rounding=ROUND_HALF_EVEN)))


def walk(
    seed: int, symbol: str, first_step: int, price_ticks: int, params: WalkParameters
) -> Iterator[int]:
    """The walk from ``price_ticks`` before ``first_step``: the price after each step."""
    step = first_step
    while True:
        price_ticks = walk_step(seed, symbol, step, price_ticks, params)
        yield price_ticks
        step += 1
