"""The shipped lists, parsed and indexed once for the whole screening suite (about a second),
never mutated by a test."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.screening.addresses import AddressIndex
from compliance.screening.names import NameIndex
from compliance.screening.sdn import SdnList, load_address_dir, load_sdn_dir

DATA = Path(__file__).resolve().parents[2] / "compliance" / "screening" / "data"
SDN_DIR = DATA / "ofac-sdn-2021-07"
ADDRESS_DIR = DATA / "ofac-addresses-2024-09-27"


@pytest.fixture(scope="session")
def sdn_list() -> SdnList:
    return load_sdn_dir(SDN_DIR)


@pytest.fixture(scope="session")
def name_index(sdn_list) -> NameIndex:
    return NameIndex.build(sdn_list.entries)


@pytest.fixture(scope="session")
def address_index(sdn_list) -> AddressIndex:
    listed = load_address_dir(ADDRESS_DIR)
    from_lists = ((asset, address, None) for asset, found in listed.items() for address in found)
    return AddressIndex((*sdn_list.address_triples(), *from_lists))
