"""Decimal strings to minor units and back: exact, strict, never rounded."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custody.errors import InvalidAmount, UnknownAsset
from custody.money import AMOUNT_MAX, ASSETS, Asset, asset, from_minor, to_minor


@pytest.mark.parametrize(
    ("asset_or_scale", "text", "minor"),
    [
        pytest.param("USD", "1000.25", 100025, id="usd_two_places"),
        pytest.param("USD", "1000.2", 100020, id="usd_fewer_places_are_padded"),
        pytest.param("USD", "1000", 100000, id="usd_whole_number"),
        pytest.param("USDC", "0.000001", 1, id="usdc_one_minor_unit"),
        pytest.param("USDT", "12.5", 12_500_000, id="usdt_scale_6"),
        pytest.param("USTB", "3.141592", 3_141_592, id="rwa_treasury_token_scale_6"),
        pytest.param("BTC", "21000000", 21_000_000 * 10**8, id="btc_supply"),
        pytest.param("BTC", "0.00000001", 1, id="btc_one_satoshi"),
        pytest.param("ETH", "1.000000001", 10**9 + 1, id="eth_booked_in_gwei"),
        pytest.param(ASSETS["USD"], "7.00", 700, id="asset_object"),
        pytest.param(0, "42", 42, id="bare_scale_zero"),
        pytest.param(2, "007.10", 710, id="leading_zeros_are_plain_decimal"),
    ],
)
def test_to_minor_parses_plain_decimals(asset_or_scale, text, minor):
    assert to_minor(asset_or_scale, text) == minor


@pytest.mark.parametrize(
    ("text", "why"),
    [
        pytest.param("1.001", "3 decimal places", id="more_places_than_scale_is_refused"),
        pytest.param("1.000", "3 decimal places", id="trailing_zeros_beyond_scale_too"),
        pytest.param("", "not a plain decimal", id="empty"),
        pytest.param(" 1", "not a plain decimal", id="leading_space"),
        pytest.param("1 ", "not a plain decimal", id="trailing_space"),
        pytest.param("1\n", "not a plain decimal", id="trailing_newline"),
        pytest.param("+1", "not a plain decimal", id="plus_sign"),
        pytest.param("1e3", "not a plain decimal", id="exponent"),
        pytest.param("1E-2", "not a plain decimal", id="negative_exponent"),
        pytest.param(".5", "not a plain decimal", id="no_whole_part"),
        pytest.param("5.", "not a plain decimal", id="no_fraction_digits"),
        pytest.param("1,000.00", "not a plain decimal", id="thousands_separator"),
        pytest.param("1_000", "not a plain decimal", id="underscore"),
        pytest.param("NaN", "not a plain decimal", id="nan"),
        pytest.param("Infinity", "not a plain decimal", id="infinity"),
        pytest.param("\u0661\u0662", "not a plain decimal", id="arabic_indic_digits"),
        pytest.param("0x10", "not a plain decimal", id="hex"),
        pytest.param("--1", "not a plain decimal", id="double_minus"),
        pytest.param("1" * 81, "81-character string", id="absurdly_long"),
        pytest.param("0", "greater than zero", id="zero_not_allowed_by_default"),
        pytest.param("0.00", "greater than zero", id="zero_with_places"),
        pytest.param("-1.00", "must not be negative", id="negative_not_allowed_by_default"),
        pytest.param("-0", "must not be negative", id="minus_zero"),
    ],
)
def test_to_minor_refuses(text, why):
    with pytest.raises(InvalidAmount, match=why) as refused:
        to_minor("USD", text)
    assert refused.value.code == "VALIDATION_ERROR"
    assert refused.value.fields == {"amount": [refused.value.message]}


@pytest.mark.parametrize("value", [1.5, 150, None, b"1.50", True], ids=repr)
def test_to_minor_refuses_non_strings(value):
    with pytest.raises(InvalidAmount, match="must be a decimal string"):
        to_minor("USD", value)


def test_to_minor_accepts_decimal_through_the_same_grammar():
    assert to_minor("USD", Decimal("1.50")) == 150
    assert to_minor("USD", Decimal("1E+2")) == 10000
    with pytest.raises(InvalidAmount, match="3 decimal places"):
        to_minor("USD", Decimal("1.005"))
    with pytest.raises(InvalidAmount, match="not a plain decimal"):
        to_minor("USD", Decimal("NaN"))


def test_zero_and_negative_only_when_asked():
    assert to_minor("USD", "0", allow_zero=True) == 0
    assert to_minor("USD", "-1.50", allow_negative=True) == -150
    with pytest.raises(InvalidAmount, match="greater than zero"):
        to_minor("USD", "-0.00", allow_negative=True)


def test_the_largest_amount_is_the_signed_64_bit_bound():
    assert AMOUNT_MAX == 2**63 - 1  # a bigint column holds every amount and counter
    assert to_minor(0, str(AMOUNT_MAX)) == AMOUNT_MAX
    with pytest.raises(InvalidAmount, match="largest bookable amount"):
        to_minor(0, str(AMOUNT_MAX + 1))


def test_error_names_the_field():
    with pytest.raises(InvalidAmount) as refused:
        to_minor("USD", "x", field="balances[0].amount")
    assert refused.value.field == "balances[0].amount"


@pytest.mark.parametrize(
    ("asset_or_scale", "minor", "text"),
    [
        pytest.param("USD", 100025, "1000.25", id="usd"),
        pytest.param("USD", 5, "0.05", id="usd_cents"),
        pytest.param("USD", -150, "-1.50", id="negative"),
        pytest.param("USD", 0, "0.00", id="zero"),
        pytest.param("ETH", 1, "0.000000001", id="one_gwei"),
        pytest.param(0, 42, "42", id="scale_zero_has_no_point"),
    ],
)
def test_from_minor_renders_exactly_scale_places(asset_or_scale, minor, text):
    assert from_minor(asset_or_scale, minor) == text


@pytest.mark.parametrize("value", [1.5, Decimal(1), True, "1"], ids=repr)
def test_from_minor_refuses_non_int(value):
    with pytest.raises(TypeError):
        from_minor("USD", value)


def test_unknown_asset_is_a_validation_error():
    with pytest.raises(UnknownAsset, match="unknown asset 'DOGE'") as refused:
        to_minor("DOGE", "1")
    assert refused.value.code == "VALIDATION_ERROR"
    assert asset("USDC") == Asset("USDC", 6)


def test_scales_are_defined_once():
    assert {code: item.scale for code, item in ASSETS.items()} == {
        "USDC": 6,
        "USDT": 6,
        "USD": 2,
        "BTC": 8,
        "ETH": 9,
        "USTB": 6,
    }


@given(
    code=st.sampled_from(sorted(ASSETS)),
    minor=st.integers(min_value=-AMOUNT_MAX, max_value=AMOUNT_MAX),
)
def test_round_trip_is_exact(code, minor):
    text = from_minor(code, minor)
    assert to_minor(code, text, allow_zero=True, allow_negative=True) == minor
