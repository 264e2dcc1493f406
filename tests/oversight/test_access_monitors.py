"""Monitors: the pure rules on aggregated rows, the SQL that feeds them on real decisions,
and the nightly integrity checks (a broken audit chain raises a critical alert)."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from compliance.models import AccessDecision
from oversight.models import Alert
from oversight.monitors import access as monitors

NOW = datetime(2026, 11, 24, 21, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)
_ids = itertools.count()


def decision(
    *,
    account="",
    ip="203.0.113.7",
    effect="deny",
    country="CN",
    anonymizer=False,
    at=NOW - timedelta(minutes=5),
    rule="prc-rwa-2026",
    signal="ip_geolocation",
    product="rwa_token",
    action="open",
):
    return AccessDecision(
        decision_id=f"d-{next(_ids)}",
        decided_at=at,
        account_id=account,
        client_ip=ip,
        product_class=product,
        action=action,
        effect=effect,
        deciding_rule=rule if effect != "allow" else "",
        deciding_jurisdiction=country if effect != "allow" and country else "",
        deciding_signal=signal if effect != "allow" else "",
        reasons=[],
        signals={
            "ip": {"country": country, "subdivision": None, "anonymizer": anonymizer},
            "profile_known": bool(account),
        },
        policy_version="rb1.p1",
        requested_by="key:test",
    )


# --- the rules, pure -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "raised"),
    [(4, False), (5, True), (40, True)],
    ids=["below-threshold-quiet", "at-threshold-raises", "far-above-raises"],
)
def test_repeat_offenders_are_those_denied_at_least_n_times(count, raised):
    findings = monitors.repeat_offenders([("account", "acc-1", count)], threshold=5, window=HOUR)
    assert bool(findings) is raised
    if raised:
        (finding,) = findings
        assert finding.key == "access.repeat-denials:account:acc-1"
        assert finding.detail["denials"] == count and finding.severity == "warning"


@pytest.mark.parametrize(
    ("countries", "raised"),
    [({"SG"}, False), ({"SG", "HK"}, False), ({"SG", "HK", "CN"}, True)],
    ids=["one-country", "two-countries-quiet", "three-countries-raise"],
)
def test_one_account_from_many_countries(countries, raised):
    findings = monitors.many_countries({"acc-1": countries}, threshold=3, window=HOUR)
    assert bool(findings) is raised
    if raised:
        assert findings[0].detail["countries"] == sorted(countries)


def test_anonymizer_use_is_a_warning_for_accounts_and_information_for_visitors():
    account, visitor = monitors.anonymizer_use(
        [("account", "acc-1", 2), ("ip", "198.51.100.7", 1)], window=HOUR
    )
    assert (account.severity, visitor.severity) == ("warning", "info")
    assert account.key == "access.anonymizer:account:acc-1"


# --- the service over real rows -------------------------------------------------------------


@pytest.mark.django_db
def test_access_monitors_find_the_patterns_in_the_last_window():
    AccessDecision.objects.bulk_create(
        [
            *(decision(account="acc-prober", ip=f"114.114.114.{i}") for i in range(5)),
            *(decision(ip="223.5.5.5") for _ in range(6)),  # anonymous, one address
            decision(account="acc-quiet"),
            *(decision(account="acc-old", at=NOW - timedelta(hours=2)) for _ in range(9)),
            *(
                decision(account="acc-traveller", effect="allow", country=country)
                for country in ("SG", "HK", "JP", "SG")
            ),
            decision(account="acc-traveller", effect="allow", country=None),
            decision(account="acc-vpn", effect="review", anonymizer=True, country=None),
            decision(ip="198.51.100.7", effect="review", anonymizer=True, country=None),
        ]
    )
    found = monitors.run_access_monitors(now=NOW)
    keys = set(Alert.objects.values_list("dedup_key", flat=True))
    assert keys == {
        "access.repeat-denials:account:acc-prober",
        "access.repeat-denials:ip:223.5.5.5",
        "access.many-countries:acc-traveller",
        "access.anonymizer:account:acc-vpn",
        "access.anonymizer:ip:198.51.100.7",
    }
    assert found == 5
    traveller = Alert.objects.get(dedup_key="access.many-countries:acc-traveller")
    assert traveller.detail["countries"] == ["HK", "JP", "SG"]

    monitors.run_access_monitors(now=NOW + timedelta(minutes=1))  # the next scheduled run
    assert Alert.objects.count() == 5
    assert set(Alert.objects.values_list("occurrences", flat=True)) == {2}
    # One incident per kind of finding, whichever account or address (a demo's visitors
    # opened one incident per address): three, not five.
    from oversight.models import Incident

    assert sorted(Incident.objects.values_list("kind", "alert_count")) == [
        ("access.anonymizer", 2),
        ("access.many_countries", 1),
        ("access.repeat_denials", 2),
    ]


@pytest.mark.django_db
def test_thresholds_come_from_settings(settings):
    settings.MONITOR_REPEAT_DENIALS = 2
    settings.MONITOR_WINDOW_MINUTES = 10
    AccessDecision.objects.bulk_create(
        [
            decision(account="acc-1", ip="114.114.114.1"),
            decision(account="acc-1", ip="114.114.114.2", at=NOW - timedelta(minutes=2)),
            decision(account="acc-2", ip="114.114.114.3", at=NOW - timedelta(minutes=30)),
            decision(account="acc-2", ip="114.114.114.4", at=NOW - timedelta(minutes=2)),
        ]
    )
    monitors.run_access_monitors(now=NOW)
    assert list(Alert.objects.values_list("dedup_key", flat=True)) == [
        "access.repeat-denials:account:acc-1"
    ]
