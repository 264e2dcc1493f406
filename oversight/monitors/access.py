"""Monitors: patterns in access decisions that an officer should see.

The rules are pure functions from aggregated rows to ``Finding``s (who, how many, how bad),
so they are exact to test; ``run_access_monitors`` only counts in SQL — never loading the
decisions themselves — and raises one alert per finding. Each access monitor looks back over
its window and de-duplicates on the same window, so running it every minute keeps one alert
per subject per window whose ``occurrences`` says for how many runs the pattern held.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count
from django.db.models.fields.json import KT

from compliance.models import AccessDecision
from oversight.alerts import raise_alert

logger = logging.getLogger("gatehouse.monitors")


@dataclass(frozen=True, slots=True)
class Finding:
    key: str
    kind: str
    severity: str
    title: str
    detail: dict


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Defaults chosen for a venue of a few thousand active accounts; settings override."""

    repeat_denials: int = 5
    countries_per_window: int = 3
    window: timedelta = timedelta(hours=1)

    @classmethod
    def from_settings(cls) -> Thresholds:
        return cls(
            repeat_denials=int(getattr(settings, "MONITOR_REPEAT_DENIALS", 5)),
            countries_per_window=int(getattr(settings, "MONITOR_COUNTRIES_PER_HOUR", 3)),
            window=timedelta(minutes=int(getattr(settings, "MONITOR_WINDOW_MINUTES", 60))),
        )


def _minutes(window: timedelta) -> int:
    return int(window.total_seconds() // 60)


def repeat_offenders(
    denials: Iterable[tuple[str, str, int]], *, threshold: int, window: timedelta
) -> list[Finding]:
    """Rows of (subject type ``account`` or ``ip``, subject, denials in the window): the same
    account or address denied again and again is probing the gate (VPN hopping, retries)."""
    return [
        Finding(
            key=f"access.repeat-denials:{subject_type}:{subject}",
            kind="access.repeat_denials",
            severity="warning",
            title=f"{subject_type} {subject} denied {count} times in {_minutes(window)} min",
            detail={
                "subject_type": subject_type,
                "subject": subject,
                "denials": count,
                "threshold": threshold,
                "window_minutes": _minutes(window),
            },
        )
        for subject_type, subject, count in sorted(denials)
        if count >= threshold
    ]


def many_countries(
    countries_by_account: Mapping[str, Iterable[str]], *, threshold: int, window: timedelta
) -> list[Finding]:
    """One account from ``threshold`` or more countries within the window: no one travels
    that fast, so the account is shared or its traffic is being routed around the gate."""
    findings = []
    for account_id in sorted(countries_by_account):
        countries = sorted(set(countries_by_account[account_id]))
        if len(countries) >= threshold:
            findings.append(
                Finding(
                    key=f"access.many-countries:{account_id}",
                    kind="access.many_countries",
                    severity="warning",
                    title=(
                        f"account {account_id} seen from {len(countries)} countries "
                        f"in {_minutes(window)} min"
                    ),
                    detail={
                        "account_id": account_id,
                        "countries": countries,
                        "threshold": threshold,
                        "window_minutes": _minutes(window),
                    },
                )
            )
    return findings


def anonymizer_use(uses: Iterable[tuple[str, str, int]], *, window: timedelta) -> list[Finding]:
    """Rows of (subject type, subject, decisions from an anonymizing network). A known
    account hiding its location is a warning; an anonymous visitor doing so is information."""
    return [
        Finding(
            key=f"access.anonymizer:{subject_type}:{subject}",
            kind="access.anonymizer",
            severity="warning" if subject_type == "account" else "info",
            title=f"{subject_type} {subject} used an anonymizing network ({count} checks)",
            detail={
                "subject_type": subject_type,
                "subject": subject,
                "checks": count,
                "window_minutes": _minutes(window),
            },
        )
        for subject_type, subject, count in sorted(uses)
        if count > 0
    ]


def _counts(decisions, column: str, threshold: int) -> list[tuple[str, int]]:
    """(subject, count) per account or address, counted and filtered by the database."""
    rows = (
        decisions.exclude(**{f"{column}__isnull": True})
        .values(column)
        .annotate(n=Count("id"))
        .filter(n__gte=threshold)
        .values_list(column, "n")
    )
    return [(str(subject), count) for subject, count in rows]


def access_findings(*, now: datetime, thresholds: Thresholds) -> list[Finding]:
    """Aggregate the last window of access decisions in SQL and apply the rules."""
    recent = AccessDecision.objects.filter(
        decided_at__gt=now - thresholds.window, decided_at__lte=now
    )
    repeat = thresholds.repeat_denials
    denied = recent.filter(effect="deny")
    denials = [
        ("account", subject, n)
        for subject, n in _counts(denied.exclude(account_id=""), "account_id", repeat)
    ]
    denials += [("ip", subject, n) for subject, n in _counts(denied, "client_ip", repeat)]
    # JSON null (an unlocated address) is excluded by the lookup, so SQLite's "null" text
    # and PostgreSQL's NULL never count as a country.
    located = (
        recent.exclude(account_id="")
        .exclude(signals__ip__country=None)
        .annotate(country=KT("signals__ip__country"))
    )
    travellers = (
        located.values("account_id")
        .annotate(countries=Count("country", distinct=True))
        .filter(countries__gte=thresholds.countries_per_window)
        .values_list("account_id", flat=True)
    )
    countries: dict[str, set[str]] = {}
    for account_id, country in (
        located.filter(account_id__in=list(travellers))
        .values_list("account_id", "country")
        .distinct()
    ):
        countries.setdefault(account_id, set()).add(country)
    hidden = recent.filter(signals__ip__anonymizer=True)
    anonymized = [
        ("account", subject, n)
        for subject, n in _counts(hidden.exclude(account_id=""), "account_id", 1)
    ]
    anonymized += [
        ("ip", subject, n) for subject, n in _counts(hidden.filter(account_id=""), "client_ip", 1)
    ]
    return [
        *repeat_offenders(denials, threshold=thresholds.repeat_denials, window=thresholds.window),
        *many_countries(
            countries, threshold=thresholds.countries_per_window, window=thresholds.window
        ),
        *anonymizer_use(anonymized, window=thresholds.window),
    ]


INCIDENT_TITLES = {
    "access.repeat_denials": "Accounts and addresses denied again and again",
    "access.many_countries": "Accounts seen from several countries",
    "access.anonymizer": "Anonymizing networks used",
}
"""Each kind of finding is one incident while its findings keep coming, whichever account or
address they name (``oversight.incidents``; a demo's visitors opened one per address); each
alert keeps its subject."""


def run_access_monitors(*, now: datetime, thresholds: Thresholds | None = None) -> int:
    """Raise (or count a repeat of) one alert per finding; returns how many findings."""
    thresholds = thresholds or Thresholds.from_settings()
    findings = access_findings(now=now, thresholds=thresholds)
    for finding in findings:
        raise_alert(
            key=finding.key,
            kind=finding.kind,
            cause=finding.kind,
            cause_title=INCIDENT_TITLES.get(finding.kind, ""),
            severity=finding.severity,
            title=finding.title,
            detail=finding.detail,
            now=now,
            window=thresholds.window,
            raised_by="system:monitors",
        )
    return len(findings)


# --- Nightly integrity checks -------------------------------------------------------------
