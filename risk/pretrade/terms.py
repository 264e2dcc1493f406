"""The pre-trade check's policy snapshot: every instrument's terms and market definition
and the market configuration, immutable and stamped with the ``instruments`` and
``sessions`` policy versions it was built from. The account step rejects a decision made
with older versions than announced (``core.policy``), and the check rebuilds it with
``holder.at_least`` and asks again; it never queries the ORM otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from types import MappingProxyType

from core import policy
from core.decimals import plain
from core.policy import SnapshotHolder
from core.redis_client import instrument_key
from risk.markets.config import MarketConfig, load_market_config
from risk.markets.record import InstrumentDefinition, parse_market_hash
from risk.markets.view import compute_view, view_from_publication
from risk.models import Instrument
from risk.pretrade.checks import QUOTE_SCALE, AccountStanding, InstrumentTerms, MarketConditions


@dataclass(frozen=True, slots=True)
class PretradeSnapshot:
    versions: Mapping[str, int]
    instruments: Mapping[str, InstrumentTerms]
    definitions: Mapping[str, InstrumentDefinition]
    config: MarketConfig

    @property
    def version(self) -> str:
        return f"i{self.versions[policy.INSTRUMENTS]}.s{self.versions[policy.SESSIONS]}"

    def terms(self, symbol: str) -> InstrumentTerms | None:
        return self.instruments.get(symbol)

    def product_class(self, symbol: str) -> str | None:
        terms = self.instruments.get(symbol)
        return None if terms is None else terms.product_class

    @staticmethod
    def lots(terms: InstrumentTerms, quantity: Decimal) -> int:
        return int((quantity / terms.lot_size).to_integral_value(ROUND_CEILING))

    @staticmethod
    def open_interest_cap_lots(terms: InstrumentTerms) -> int:
        return int((terms.open_interest_cap / terms.lot_size).to_integral_value(ROUND_FLOOR))

    @staticmethod
    def quote_amount(micro: int) -> str:
        return plain(Decimal(micro) / QUOTE_SCALE)

    @staticmethod
    def with_kill(terms: InstrumentTerms) -> InstrumentTerms:
        return replace(terms, kill_switch=True)

    @staticmethod
    def standing(compliance, account_id: str) -> AccountStanding:
        profile = compliance.profiles.get(account_id)
        if profile is None:
            return AccountStanding(known=False)
        return AccountStanding(known=True, status=profile.status)

    def market_conditions(
        self, terms: InstrumentTerms, fields: dict[str, str], now: datetime, client=None
    ) -> tuple[MarketConditions, bool]:
        """The market at ``now`` from the instrument's stored publication while it is still
        exact; else from the whole record, read here (one more round trip; same answer)."""
        definition = self.definitions[terms.symbol]
        view = view_from_publication(terms.symbol, fields, definition, now, self.config)
        if view is None:
            if client is not None:
                fields = client.hgetall(instrument_key(terms.symbol, "market"))
            record = parse_market_hash(terms.symbol, fields, with_windows=False)
            if record.definition is None:
                record = record.with_changes(definition=definition)
            view = compute_view(record, now, self.config)
        band = view.band
        params = view.session_params
        return (
            MarketConditions(
                state=view.state.value,
                reference_price=view.reference_price,
                band_lower=None if band is None else band.lower,
                band_upper=None if band is None else band.upper,
                session=view.session.value,
                leverage_cap_fraction=params.leverage_cap_fraction,
                position_limit_fraction=params.position_limit_fraction,
                reason=view.reason,
            ),
            view.kill_switch,
        )


COMPONENTS = (policy.INSTRUMENTS, policy.SESSIONS)


def build(previous: PretradeSnapshot | None) -> PretradeSnapshot:
    versions = policy.versions_in_database()
    instruments, definitions = {}, {}
    for row in Instrument.objects.all():
        instruments[row.symbol] = InstrumentTerms(
            symbol=row.symbol,
            product_class=row.product_class,
            tick_size=row.tick_size.normalize(),
            lot_size=row.lot_size.normalize(),
            max_leverage=row.max_leverage,
            max_order_quantity=row.max_order_quantity,
            max_order_notional=row.max_order_notional,
            max_position_notional=row.max_position_notional,
            open_interest_cap=row.open_interest_cap,
        )
        definitions[row.symbol] = InstrumentDefinition(
            symbol=row.symbol,
            product_class=row.product_class,
            calendar=row.calendar,
            tier=row.tier,
            tick_size=row.tick_size.normalize(),
            max_leverage=row.max_leverage,
            is_market_index=row.is_market_index,
            version=row.version,
        )
    return PretradeSnapshot(
        versions={name: versions[name] for name in COMPONENTS},
        instruments=MappingProxyType(instruments),
        definitions=MappingProxyType(definitions),
        config=load_market_config(versions[policy.SESSIONS]),
    )


holder: SnapshotHolder[PretradeSnapshot] = SnapshotHolder(build, COMPONENTS)
