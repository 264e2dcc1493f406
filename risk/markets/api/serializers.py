"""Input and output of the markets API. Prices and limits are decimal strings, never JSON
numbers (API.md, "Conventions"): a float has already lost the digits we are asked to check."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import StrictSerializer
from core.errors import ValidationFailed
from risk.markets.market_wide import EQUITY_LIKE_PRODUCT_CLASSES
from risk.markets.services import plain
from risk.markets.sessions import XNYS
from risk.models import CALENDARS, CORPORATE_ACTION_KINDS, KILL_SWITCH_SCOPES, PRODUCT_CLASSES

SYMBOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
MAX_PLACES = 10
MAX_INTEGER_DIGITS = 18


def check_symbol(symbol: str) -> str:
    """Symbols become Redis hash tags (``{inst:<SYMBOL>}``): no braces, no spaces."""
    if not SYMBOL.match(symbol):
        raise ValidationFailed(
            "symbol: letters, digits, '.', '_' or '-', at most 40",
            fields={"symbol": ["Letters, digits, '.', '_' or '-', at most 40 characters."]},
        )
    return symbol


def parse_positive_decimal(data) -> Decimal:
    """The one way a price or limit is read from JSON; raises ValueError with the message."""
    if not isinstance(data, str):
        raise ValueError('Must be a decimal string, e.g. "101.25".')
    try:
        value = Decimal(data.strip())
    except InvalidOperation:
        raise ValueError("Not a decimal number.") from None
    if not value.is_finite():
        raise ValueError("Not a finite decimal number.")
    if value <= 0:
        raise ValueError("Must be positive.")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_PLACES:
        raise ValueError(f"At most {MAX_PLACES} decimal places.")
    if value.adjusted() >= MAX_INTEGER_DIGITS:
        raise ValueError(f"At most {MAX_INTEGER_DIGITS} digits before the point.")
    return value


@extend_schema_field(OpenApiTypes.STR)
class PositiveDecimalString(serializers.Field):
    def to_internal_value(self, data):
        try:
            return parse_positive_decimal(data)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value):
        return None if value is None else plain(value)


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBoolean(serializers.Field):
    """``true`` or ``false``; "yes", 1 or "true" as a string are not booleans."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            raise serializers.ValidationError("Must be true or false.")
        return data

    def to_representation(self, value):
        return bool(value)


@extend_schema_field({"type": "integer", "enum": [1, 2]})
class TierField(serializers.Field):
    def to_internal_value(self, data):
        if isinstance(data, bool) or data not in (1, 2) or not isinstance(data, int):
            raise serializers.ValidationError("Must be 1 or 2 (the LULD tier).")
        return data

    def to_representation(self, value):
        return int(value)


class MarketStateSerializer(serializers.Serializer):
    """GET /markets/{symbol}/state (API.md), for the schema; rendered by ``MarketView``."""

    symbol = serializers.CharField()
    state = serializers.ChoiceField(
        choices=["open", "limit_state", "paused", "halted", "close_only"]
    )
    session = serializers.ChoiceField(
        choices=[
            "regular",
            "pre_market",
            "after_hours",
            "overnight",
            "weekend",
            "holiday",
            "continuous",
        ]
    )
    reference_price = serializers.CharField(allow_null=True)
    band = serializers.DictField(child=serializers.CharField(), allow_null=True)
    until = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField(allow_null=True)


class InstrumentSerializer(StrictSerializer):
    symbol = serializers.CharField(read_only=True)
    product_class = serializers.ChoiceField(choices=PRODUCT_CLASSES)
    underlying = serializers.CharField(max_length=40)
    calendar = serializers.ChoiceField(choices=CALENDARS)
    tier = TierField()
    tick_size = PositiveDecimalString()
    lot_size = PositiveDecimalString()
    max_leverage = PositiveDecimalString()
    max_order_quantity = PositiveDecimalString()
    max_order_notional = PositiveDecimalString()
    max_position_notional = PositiveDecimalString()
    open_interest_cap = PositiveDecimalString()
    is_market_index = StrictBoolean()
    version = serializers.IntegerField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    state = MarketStateSerializer(read_only=True, allow_null=True)

    def validate(self, attrs):
        """Tick and lot consistency: quantities are whole lots, leverage at least 1x, the
        index on the NYSE calendar. Caps, tick and lot are positive (the fields refuse zero).
        A per-order notional above the position cap is allowed: an order may close a
        position and open one the other way, up to twice the position cap."""
        errors: dict[str, list[str]] = {}
        lot = attrs["lot_size"]
        for name in ("max_order_quantity", "open_interest_cap"):
            if attrs[name] % lot != 0:
                errors[name] = [f"Must be a whole number of lots ({plain(lot)})."]
        if attrs["max_leverage"] < 1:
            errors["max_leverage"] = ["Must be at least 1."]
        if attrs["is_market_index"] and (
            attrs["calendar"] != XNYS or attrs["product_class"] not in EQUITY_LIKE_PRODUCT_CLASSES
        ):
            errors["is_market_index"] = [
                "The market index must be an equity-like instrument on the XNYS calendar."
            ]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class SessionParametersSerializer(StrictSerializer):
    session = serializers.CharField(read_only=True)
    band_multiplier = PositiveDecimalString()
    leverage_cap_fraction = PositiveDecimalString()
    position_limit_fraction = PositiveDecimalString()
    reference_time_constant_seconds = PositiveDecimalString(allow_null=True)
    oracle_max_age_seconds = PositiveDecimalString(allow_null=True)
    version = serializers.IntegerField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def validate(self, attrs):
        errors = {
            name: ["Must be at most 1 (a fraction of the regular-session value)."]
            for name in ("leverage_cap_fraction", "position_limit_fraction")
            if attrs[name] > 1
        }
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)


class KillSwitchSerializer(StrictSerializer):
    scope = serializers.ChoiceField(choices=KILL_SWITCH_SCOPES)
    target = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    engaged = StrictBoolean()
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    version = serializers.IntegerField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    updated_by = serializers.CharField(read_only=True)


class CorporateActionSerializer(StrictSerializer):
    id = serializers.IntegerField(read_only=True)
    symbol = serializers.CharField(read_only=True)
    corporate_action = serializers.ChoiceField(choices=CORPORATE_ACTION_KINDS, source="kind")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    detail = serializers.CharField(max_length=500)
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True)


class MarketEventSerializer(serializers.Serializer):
    instrument = serializers.CharField()
    at = serializers.DateTimeField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    reason = serializers.CharField()
    until = serializers.DateTimeField(allow_null=True)
    detail = serializers.CharField()
    actor = serializers.CharField()
