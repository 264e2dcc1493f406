"""GeoIP2 lookups: the real shipped GeoLite2 build, and exact cases in databases written here.

The example addresses are RULES.md §7's, plus three found in the shipped 2018 build:
240e::1 (China Telecom IPv6, CN), 5.59.38.1 (Crimea, UA-43, registered to CZ) and
4.16.48.1 (Ontario, CA-ON, registered to US).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from compliance.access import decide
from compliance.geoip import (
    RECHECK_INTERVAL_NS,
    GeoIpDatabaseError,
    IpLocator,
    get_locator,
    probe,
    shipped_city_database,
)
from compliance.rulebook import compile_rulebook
from compliance.rules_seed import seed_rules
from compliance.signals import ProfileFacts

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RULEBOOK = compile_rulebook(seed_rules(), version="seed-test")


@pytest.fixture(scope="module")
def shipped() -> IpLocator:
    return get_locator()


@pytest.mark.parametrize(
    ("address", "country", "subdivision"),
    [
        ("114.114.114.114", "CN", "CN-JS"),
        ("223.5.5.5", "CN", "CN-ZJ"),
        ("240e::1", "CN", None),
        ("::ffff:114.114.114.114", "CN", "CN-JS"),
        ("203.198.7.66", "HK", "HK-HCW"),
        ("5.160.0.1", "IR", "IR-04"),
        ("175.45.176.1", "KP", None),
        ("81.2.69.142", "GB", "GB-ENG"),
        ("8.8.8.8", "US", None),
        ("1.1.1.1", "AU", "AU-VIC"),
        ("46.63.0.1", "UA", "UA-30"),
        ("5.59.38.1", "UA", "UA-43"),
        ("4.16.48.1", "CA", "CA-ON"),
    ],
)
def test_shipped_geolite2_locates(shipped, address, country, subdivision) -> None:
    facts = shipped.lookup(address)
    assert (facts.country, facts.subdivision, facts.located) == (country, subdivision, True)
    assert facts.ip == address
    assert not facts.is_anonymizer


@pytest.mark.parametrize(
    "address",
    ["10.0.0.1", "127.0.0.1", "::1", "192.0.2.1", "169.254.1.1", "5.145.149.142", "2.16.0.1"],
    ids=[
        "private",
        "loopback",
        "v6-loopback",
        "documentation",
        "link-local",
        "satellite-registrant-only",
        "no-country-record",
    ],
)
def test_private_reserved_and_countryless_addresses_are_unlocated(shipped, address) -> None:
    facts = shipped.lookup(address)
    assert not facts.located
    assert facts.country is None and facts.signals == ()


@pytest.mark.parametrize("address", ["not-an-ip", "", "1.2.3.4.5", "8.8.8.8/32", " 8.8.8.8"])
def test_invalid_address_raises_value_error(shipped, address) -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        shipped.lookup(address)


def resident(country: str, subdivision: str | None = None) -> ProfileFacts:
    return ProfileFacts(
        account_id="acc-1", residence_country=country, residence_subdivision=subdivision
    )


@pytest.mark.parametrize(
    ("address", "profile", "product", "action", "effect", "rule"),
    [
        ("114.114.114.114", None, "rwa_token", "open", "deny", "prc-rwa-2026"),
        ("223.5.5.5", resident("SG"), "rwa_token", "open", "deny", "prc-rwa-2026"),
        ("240e::1", resident("SG"), "rwa_token", "open", "deny", "prc-rwa-2026"),
        ("223.5.5.5", resident("CN"), "crypto_perp", "reduce", "close_only", "prc-wind-down"),
        ("223.5.5.5", resident("CN"), "crypto_perp", "withdraw", "allow", None),
        ("203.198.7.66", resident("HK"), "rwa_token", "open", "allow", None),
        ("5.160.0.1", resident("SG"), "crypto_spot", "open", "deny", "ofac-comprehensive"),
        ("5.160.0.1", resident("SG"), "crypto_spot", "reduce", "deny", "ofac-comprehensive"),
        ("5.160.0.1", resident("SG"), "crypto_spot", "withdraw", "review", "ofac-withdraw"),
        ("175.45.176.1", resident("SG"), "stablecoin", "deposit", "deny", "ofac-comprehensive"),
        ("175.45.176.1", resident("SG"), "stablecoin", "withdraw", "review", "ofac-withdraw"),
        ("5.59.38.1", resident("SG"), "crypto_spot", "open", "deny", "ofac-comprehensive"),
        ("46.63.0.1", resident("UA", "UA-30"), "crypto_spot", "open", "allow", None),
        ("8.8.8.8", resident("US"), "equity_perp", "open", "deny", "us-perps"),
        ("8.8.8.8", resident("US"), "rwa_token", "open", "deny", "us-rwa-securities"),
        ("81.2.69.142", resident("GB"), "crypto_perp", "open", "deny", "gb-retail-crypto-derivs"),
        ("4.16.48.1", resident("SG"), "equity_perp", "open", "deny", "ca-on-derivs"),
        ("1.1.1.1", resident("AU"), "crypto_perp", "open", "allow", None),
    ],
)
def test_decisions_through_the_shipped_geolite2(
    shipped, address, profile, product, action, effect, rule
) -> None:
    decision = decide(RULEBOOK, profile, shipped.lookup(address), product, action, NOW)
    assert decision.effect == effect
    if rule is None:
        assert decision.reasons == ()
    else:
        assert (decision.reasons[0].signal, decision.reasons[0].rule_id) == ("ip_geolocation", rule)
    if rule == "prc-rwa-2026":
        assert "银发〔2026〕42号" in decision.reasons[0].citation


# Databases written by the test (MaxMind format, with mmdb-writer).

TEST_CITY = {
    "198.51.100.0/24": {"country": {"iso_code": "UA"}, "subdivisions": [{"iso_code": "43"}]},
    "203.0.113.0/24": {"registered_country": {"iso_code": "US"}},
    "192.0.2.0/24": {"country": {"iso_code": "HK"}},
    "2001:db8::/32": {"country": {"iso_code": "CN"}},
}
TEST_ANONYMOUS = {
    "198.51.100.0/25": {"is_anonymous": True, "is_anonymous_vpn": True},
    "203.0.113.7/32": {"is_anonymous": True, "is_tor_exit_node": True},
    "192.0.2.8/32": {"is_anonymous": True, "is_hosting_provider": True},
}


def write_database(path: Path, networks: dict, database_type: str, ip_version: int = 6) -> Path:
    writer = MMDBWriter(
        ip_version=ip_version,
        ipv4_compatible=ip_version == 6,
        database_type=database_type,
        languages=["en"],
        description="Gatehouse test database",
    )
    for network, record in networks.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path


@pytest.fixture
def city(tmp_path: Path) -> Path:
    return write_database(tmp_path / "city.mmdb", TEST_CITY, "GeoIP2-City")


@pytest.fixture
def anonymous(tmp_path: Path) -> Path:
    return write_database(tmp_path / "anonymous.mmdb", TEST_ANONYMOUS, "GeoIP2-Anonymous-IP")


def test_subdivision_is_composed_to_iso_3166_2(city) -> None:
    facts = IpLocator(str(city)).lookup("198.51.100.200")
    assert (facts.country, facts.subdivision) == ("UA", "UA-43")
    assert decide(RULEBOOK, None, facts, "crypto_spot", "open", NOW).reasons[0].jurisdiction == (
        "UA-43"
    )


def test_registered_country_alone_is_no_location(city) -> None:
    facts = IpLocator(str(city)).lookup("203.0.113.50")
    assert not facts.located
    decision = decide(RULEBOOK, resident("SG"), facts, "crypto_spot", "open", NOW)
    assert [reason.signal for reason in decision.reasons] == ["ip_unlocated"]


def test_anonymous_ip_flags(city, anonymous) -> None:
    locator = IpLocator(str(city), str(anonymous))
    vpn = locator.lookup("198.51.100.9")
    assert vpn.is_anonymous_vpn and vpn.is_anonymizer and vpn.subdivision == "UA-43"
    tor = locator.lookup("203.0.113.7")
    assert tor.is_tor_exit_node and not tor.is_anonymous_vpn and not tor.located
    hosting = locator.lookup("192.0.2.8")
    assert hosting.is_hosting_provider and hosting.country == "HK"
    clean = locator.lookup("198.51.100.200")
    assert not clean.is_anonymizer
    decision = decide(RULEBOOK, resident("HK"), hosting, "rwa_token", "open", NOW)
    assert decision.effect == "review"
    assert decision.reasons[0].rule_id == "default-anonymizer"
    assert decide(RULEBOOK, resident("HK"), hosting, "rwa_token", "withdraw", NOW).effect == "allow"


def test_ipv6_address_in_an_ipv4_only_database_is_unlocated(tmp_path) -> None:
    path = write_database(
        tmp_path / "v4.mmdb",
        {"198.51.100.0/24": TEST_CITY["198.51.100.0/24"]},
        "GeoIP2-City",
        ip_version=4,
    )
    locator = IpLocator(str(path))
    assert not locator.lookup("2001:db8::1").located
    assert locator.lookup("198.51.100.1").subdivision == "UA-43"


def test_replaced_database_is_reloaded_at_most_once_a_second(tmp_path, city) -> None:
    clock = [10**12]
    locator = IpLocator(str(city), clock=lambda: clock[0])
    assert locator.lookup("198.51.100.1").country == "UA"
    replacement = {"198.51.100.0/24": {"country": {"iso_code": "PL"}}}
    write_database(tmp_path / "next.mmdb", replacement, "GeoIP2-City")
    os.replace(tmp_path / "next.mmdb", city)
    clock[0] += RECHECK_INTERVAL_NS - 1
    assert locator.lookup("198.51.100.1").country == "UA"
    clock[0] += 1
    assert locator.lookup("198.51.100.1").country == "PL"


def test_located_addresses_are_kept_boundedly_and_forgotten_on_replacement(
    tmp_path, city, anonymous
) -> None:
    clock = [10**12]
    locator = IpLocator(str(city), str(anonymous), clock=lambda: clock[0], cache_size=3)
    first = locator.lookup("198.51.100.1")
    assert locator.lookup("198.51.100.1") is first  # the cached facts, no second lookup
    for n in range(2, 8):
        locator.lookup(f"198.51.100.{n}")
    assert len(locator._located) == 3 and "198.51.100.1" not in locator._located
    assert locator.lookup("198.51.100.1") == first  # located again, same facts
    # Replacing the Anonymous-IP database alone also forgets every cached answer.
    assert first.is_anonymous_vpn
    flags = {"198.51.100.0/24": {"is_anonymous": True, "is_tor_exit_node": True}}
    write_database(tmp_path / "next-anon.mmdb", flags, "GeoIP2-Anonymous-IP")
    os.replace(tmp_path / "next-anon.mmdb", anonymous)
    clock[0] += RECHECK_INTERVAL_NS
    again = locator.lookup("198.51.100.1")
    assert again.is_tor_exit_node and not again.is_anonymous_vpn


def test_a_broken_replacement_keeps_the_open_database(tmp_path, city) -> None:
    clock = [10**12]
    locator = IpLocator(str(city), clock=lambda: clock[0])
    (tmp_path / "broken.mmdb").write_bytes(b"not a maxmind database")
    os.replace(tmp_path / "broken.mmdb", city)
    clock[0] += RECHECK_INTERVAL_NS
    assert locator.lookup("198.51.100.1").subdivision == "UA-43"
    with pytest.raises(GeoIpDatabaseError):
        IpLocator(str(city))


def test_wrong_kind_of_database_is_refused(tmp_path, anonymous) -> None:
    with pytest.raises(GeoIpDatabaseError, match="not City"):
        IpLocator(str(anonymous))
    with pytest.raises(GeoIpDatabaseError, match="cannot open"):
        IpLocator(str(tmp_path / "missing.mmdb"))


def test_probe_and_process_wide_locator(tmp_path, city, anonymous) -> None:
    probe(str(city), str(anonymous))
    assert get_locator(str(city), str(anonymous)) is get_locator(str(city), str(anonymous))
    assert get_locator() is get_locator(shipped_city_database())
    with pytest.raises(GeoIpDatabaseError):
        probe(str(tmp_path / "missing.mmdb"))
    os.remove(anonymous)
    with pytest.raises(GeoIpDatabaseError):
        probe(str(city), str(anonymous))
