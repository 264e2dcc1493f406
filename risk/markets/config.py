"""The market controller's configuration: every number the breakers and references use,
in one immutable object, so the same controller runs live (built from the database) and in
replay (built from the database or the shipped defaults).

Shipped defaults beyond those of the pure modules:

- ``absurd_factor`` = 10: a tick more than ten times above or below the current reference is
  refused as ``ABSURD_PRICE`` (RULES.md §5: "some thin markets printed near zero"). A real
  crash of 90% in one print is rarer than a fat-fingered or broken print, and the band and
  velocity breakers still catch moves inside the factor.
- ``continuous_band`` = 10%: the band of ``24x7`` instruments (issue 6, "Bands").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType

from risk.markets.bands import DEFAULT_CONTINUOUS_PERCENTAGE
from risk.markets.market_wide import DEFAULT_MARKET_WIDE_PARAMETERS, MarketWideParameters
from risk.markets.oracle_health import DEFAULT_ORACLE_PARAMETERS, OracleParameters
from risk.markets.reference_price import ReferenceParameters
from risk.markets.sessions import DEFAULTS, SessionName, SessionParameters
from risk.markets.state import DEFAULT_LULD_TIMING, LuldTiming
from risk.markets.velocity import DEFAULT_VELOCITY_PARAMETERS, VelocityParameters

DEFAULT_ABSURD_FACTOR = Decimal(10)
DEFAULT_REFERENCE = ReferenceParameters(absurd_factor=DEFAULT_ABSURD_FACTOR)


@dataclass(frozen=True, slots=True)
class MarketConfig:
    session_parameters: Mapping[SessionName, SessionParameters] = field(
        default_factory=lambda: MappingProxyType(dict(DEFAULTS))
    )
    reference: ReferenceParameters = DEFAULT_REFERENCE
    velocity: VelocityParameters = DEFAULT_VELOCITY_PARAMETERS
    oracle: OracleParameters = DEFAULT_ORACLE_PARAMETERS
    luld_timing: LuldTiming = DEFAULT_LULD_TIMING
    market_wide: MarketWideParameters = DEFAULT_MARKET_WIDE_PARAMETERS
    continuous_band: Decimal = DEFAULT_CONTINUOUS_PERCENTAGE
    version: int = 0
    """The ``sessions`` policy version it was loaded at (``core.policy``); 0 in replay."""

    def session_params(self, name: SessionName) -> SessionParameters:
        """A session without a row falls back to the shipped default, never to nothing."""
        return self.session_parameters.get(name) or DEFAULTS[name]

    def reference_for(self, max_leverage: Decimal | None) -> ReferenceParameters:
        """The reference parameters with the instrument's own leverage (discovery bounds)."""
        return _with_leverage(self.reference, max_leverage)


@lru_cache(maxsize=256)
def _with_leverage(base: ReferenceParameters, max_leverage: Decimal | None) -> ReferenceParameters:
    return replace(base, max_leverage=max_leverage)


DEFAULT_MARKET_CONFIG = MarketConfig()


def load_market_config(version: int = 0) -> MarketConfig:
    """The configuration officers edit (session parameters rows, ``risk.models``) over the
    shipped defaults, stamped with the ``sessions`` version read before it. Reads the
    database: call it from a snapshot builder, not per request."""
    from risk.markets import selectors

    sessions = dict(DEFAULTS) | selectors.session_parameters()
    return MarketConfig(session_parameters=MappingProxyType(sessions), version=version)
