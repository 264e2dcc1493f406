"""The SDN CSV parser on the real July 2021 list, and the malformed files it must refuse
whole (``ListFormatError`` naming the file and the line)."""

from __future__ import annotations

import shutil

import pytest

from compliance.screening.sdn import (
    ListFormatError,
    country_codes,
    load_address_dir,
    load_sdn_dir,
    read_dob,
)
from tests.screening.conftest import ADDRESS_DIR, SDN_DIR

pytestmark = pytest.mark.once


def test_the_real_list_parses_whole(sdn_list):
    assert len(sdn_list) == 8976
    types = {entry.sdn_type for entry in sdn_list.entries}
    assert types == {"individual", "entity", "vessel", "aircraft"}


def test_wisser_is_read_with_his_dob_and_country(sdn_list):
    wisser = sdn_list.by_ent_num[11366]
    assert wisser.name == "WISSER, Gerhard"
    assert wisser.sdn_type == "individual"
    assert wisser.dobs == ("1939-07-02",)
    assert wisser.dob_years == frozenset({1939})
    assert wisser.country_codes == frozenset({"DE"})


def test_remarks_split_across_sdn_comments_are_joined(sdn_list):
    entry = sdn_list.by_ent_num[29703]
    assert ("ETH", "0x8576acc5c05d6ce88f4e49bf65bdf0c62f91353c") in (
        entry.digital_currency_addresses
    )


def test_weak_aliases_come_from_the_remarks(sdn_list):
    bank = sdn_list.by_ent_num[306]
    assert [(a.name, a.weak) for a in bank.aliases] == [
        ("NATIONAL BANK OF CUBA", False),
        ("BNC", True),
    ]


@pytest.mark.parametrize(
    ("text", "iso", "years"),
    [
        ("02 Jul 1939", "1939-07-02", {1939}),
        ("Jul 1956", "1956-07", {1956}),
        ("circa 1965", "1965~", {1963, 1964, 1965, 1966, 1967}),
        ("1984 to 1986", "1984/1986", {1984, 1985, 1986}),
        ("circa 1979-1982", "1979/1982~", set(range(1977, 1985))),
    ],
)
def test_dob_forms(text, iso, years):
    assert read_dob(text) == (iso, frozenset(years))


@pytest.mark.parametrize(
    ("place", "codes"),
    [
        ("Lohne, Germany", {"DE"}),
        ("Pyongyang, Korea, North", {"KP"}),
        ("Al-Madinah al-Munawwarah, (Medina) Saudi Arabia", {"SA"}),
        ("Kaesong, DPRK", {"KP"}),
        ("Tamaulipas", set()),
    ],
)
def test_country_codes_of_places(place, codes):
    assert country_codes(place) == frozenset(codes)


@pytest.fixture
def sdn_copy(tmp_path):
    target = tmp_path / "sdn"
    shutil.copytree(SDN_DIR, target)
    return target


def _append(path, line):
    text = path.read_bytes().rstrip(b"\x1a")
    path.write_bytes(text + line.encode() + b"\r\n")


def test_a_row_with_the_wrong_field_count_names_file_and_line(sdn_copy):
    _append(sdn_copy / "sdn.csv", '99999,"SOMEONE, New","individual"')
    with pytest.raises(ListFormatError, match=r"sdn\.csv, line 8977: expected 12 fields"):
        load_sdn_dir(sdn_copy)


def test_an_alias_of_an_unknown_entry_is_refused(sdn_copy):
    _append(sdn_copy / "alt.csv", '99999,1,"aka","NOBODY",-0- ')
    with pytest.raises(ListFormatError, match=r"alt\.csv, line 11911: ent_num 99999"):
        load_sdn_dir(sdn_copy)


def test_an_empty_list_is_refused(sdn_copy):
    for name in ("sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv"):
        (sdn_copy / name).write_bytes(b"")
    with pytest.raises(ListFormatError, match=r"sdn\.csv: the list has no entries"):
        load_sdn_dir(sdn_copy)


@pytest.fixture
def address_copy(tmp_path):
    target = tmp_path / "addresses"
    shutil.copytree(ADDRESS_DIR, target)
    return target


def test_bad_json_in_an_address_file_names_file_and_line(address_copy):
    (address_copy / "sanctioned_addresses_ETH.json").write_text('[\n"0xabc",\n')
    with pytest.raises(ListFormatError, match=r"sanctioned_addresses_ETH\.json, line 3"):
        load_address_dir(address_copy)


def test_a_bad_address_is_refused(address_copy):
    (address_copy / "sanctioned_addresses_XBT.json").write_text('["1Boat ok"]')
    with pytest.raises(ListFormatError, match=r"sanctioned_addresses_XBT\.json, item 1"):
        load_address_dir(address_copy)
