"""Address normalisation by shape, and the O(1) index over the shipped 2024 address lists
and the 2021 SDN remarks' addresses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance.screening.addresses import AddressHit, AddressIndex, normalise_address

pytestmark = pytest.mark.once

LISTED_ETH = "0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1"
LISTED_BECH32 = "bc1q05aktddf9ce4p7hh3stgsf253m4vweu7nkhtmw"
LISTED_BASE58 = "123WBUDmSJv4GctdVEz6Qq6z8nXSKrJ4KX"
LISTED_CASHADDR = "qpf2cphc5dkuclkqur7lhj2yuqq9pk3hmukle77vhq"
REMARKS_ETH = "0x7F367cC41522cE07553e823bf3be79A889DEbe1B"


@pytest.mark.parametrize(
    ("asset", "address", "canonical"),
    [
        ("ETH", "  0xAbC0000000000000000000000000000000000DeF ", "0x" + "abc" + "0" * 34 + "def"),
        ("USDT", LISTED_ETH.upper().replace("0X", "0x"), LISTED_ETH.lower()),
        ("XBT", LISTED_BECH32.upper(), LISTED_BECH32),
        ("XBT", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", None),
        ("XBT", "TB1QRP33G0Q5C5TXSP9ARYSRX4K6ZDKFS4NCE4XJ0GDCCCEFVPYSXF3Q0SL5K7", None),
        ("XBT", LISTED_BASE58, LISTED_BASE58),
        ("BCH", "bitcoincash:" + LISTED_CASHADDR, LISTED_CASHADDR),
        ("BCH", LISTED_CASHADDR.upper(), LISTED_CASHADDR),
        ("TRX", "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre", "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre"),
    ],
    ids=["evm-lower", "evm-any-asset", "bech32-upper", "bip173-vector", "bip173-testnet",
         "base58-exact", "cashaddr-prefix", "cashaddr-upper", "tron-exact"],
)  # fmt: skip
def test_normalise_by_shape(asset, address, canonical):
    expected = canonical if canonical is not None else address.lower()
    assert normalise_address(asset, address) == expected


def test_base58_case_is_part_of_the_address():
    assert normalise_address("XBT", LISTED_BASE58.lower()) != LISTED_BASE58


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("0xabc def", "whitespace"),
        ("0xabcé", "printable ASCII"),
        ("bc1Q05aktddf9ce4p7hh3stgsf253m4vweu7nkhtmw", "mixes upper and lower case"),
    ],
)
def test_malformed_addresses_are_refused(address, message):
    with pytest.raises(ValueError, match=message):
        normalise_address("XBT", address)


@given(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1))
def test_normalise_address_is_idempotent(text):
    try:
        once = normalise_address("XBT", text)
    except ValueError:
        return
    assert normalise_address("XBT", once) == once


@pytest.mark.parametrize(
    "spelling",
    [LISTED_ETH, LISTED_ETH.lower(), "0x" + LISTED_ETH[2:].upper()],
    ids=["as-listed", "lower", "upper"],
)
def test_a_listed_eth_address_matches_in_any_case(address_index, spelling):
    assert address_index.lookup(spelling, "ETH") == (AddressHit("ETH", LISTED_ETH, None),)


def test_an_address_matches_whatever_asset_it_is_asked_with(address_index):
    assert address_index.lookup(LISTED_ETH, "USDC") == address_index.lookup(LISTED_ETH)


def test_remarks_addresses_carry_their_entry(address_index, sdn_list):
    entries = {hit.entry_id for hit in address_index.lookup(REMARKS_ETH.lower())}
    listing = {
        e.ent_num for e in sdn_list.entries if ("ETH", REMARKS_ETH) in e.digital_currency_addresses
    }
    assert listing and listing <= entries


def test_an_unlisted_address_is_clear(address_index):
    unlisted = "0x" + "0" * 39 + "1"
    assert address_index.lookup(unlisted) == ()
    assert unlisted not in address_index


def test_lookup_refuses_malformed_input(address_index):
    with pytest.raises(ValueError):
        address_index.lookup("not an address")
    assert "not an address" not in address_index


def test_duplicates_are_one_hit_and_len_counts_distinct_addresses():
    index = AddressIndex(
        [
            ("ETH", LISTED_ETH, 1),
            ("ETH", LISTED_ETH.lower(), 1),
            ("ETH", LISTED_ETH, 1),
            ("USDT", LISTED_ETH, None),
        ]
    )
    assert len(index) == 1
    assert index.lookup(LISTED_ETH) == (
        AddressHit("ETH", LISTED_ETH, 1),
        AddressHit("ETH", LISTED_ETH.lower(), 1),
        AddressHit("USDT", LISTED_ETH, None),
    )


def test_the_shipped_lists_index_every_address(address_index, sdn_list):
    assert LISTED_BECH32 in address_index
    assert LISTED_CASHADDR in address_index
    assert len(address_index) > 600


def test_a_base58_address_with_a_1_after_letters_is_not_taken_for_bech32():
    lookalike = "Ltc1zyxwvutsrqpnmlkjhgfedca"
    assert normalise_address("LTC", lookalike) == lookalike
