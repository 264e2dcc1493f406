"""Reads of the jurisdiction gate for the console's pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from compliance.models import (
    AccessDecision,
    AccountProfile,
    AccountProfileVersion,
    RulebookVersion,
    RuleImpact,
    RuleRevision,
    ScreeningCase,
)
from oversight.models import ALERT_SEVERITIES, Alert, AlertEvent, Incident

RESTRICTIVE_EFFECTS = ("deny", "close_only", "review")


@dataclass(frozen=True)
class RulebookSummary:
    version: int
    active_rules: int
    drafts: int


def rulebook_summary() -> RulebookSummary:
    counts = RuleRevision.objects.aggregate(
        active=Count("id", filter=Q(status="active")), drafts=Count("id", filter=Q(status="draft"))
    )
    latest = RulebookVersion.objects.order_by("-version").values_list("version", flat=True).first()
    return RulebookSummary(latest or 0, counts["active"], counts["drafts"])


def active_rules() -> QuerySet[RuleRevision]:
    return RuleRevision.objects.filter(status="active").order_by("rule_id")


def drafts() -> QuerySet[RuleRevision]:
    return RuleRevision.objects.filter(status="draft").order_by("created_at", "rule_id")


def rule_history(rule_id: str) -> QuerySet[RuleRevision]:
    return RuleRevision.objects.filter(rule_id=rule_id).order_by("-revision")


def draft(rule_id: str, revision: int) -> RuleRevision | None:
    return RuleRevision.objects.filter(rule_id=rule_id, revision=revision).first()


def latest_impacts(drafts: list[RuleRevision]) -> dict[int, RuleImpact]:
    """Each draft's latest impact measurement, in one query (the rules page's column)."""
    found: dict[int, RuleImpact] = {}
    rows = RuleImpact.objects.filter(draft__in=drafts)
    for impact in rows.order_by("draft_id", "-requested_at", "-id"):
        found.setdefault(impact.draft_id, impact)
    return found


def active_revision(rule_id: str) -> RuleRevision | None:
    return RuleRevision.objects.filter(rule_id=rule_id, status="active").first()


@dataclass(frozen=True)
class JurisdictionRestrictions:
    jurisdiction: str
    deny: int
    close_only: int
    review: int

    @property
    def total(self) -> int:
        return self.deny + self.close_only + self.review


def restrictions_by_jurisdiction(*, since: datetime) -> list[JurisdictionRestrictions]:
    """Access decisions that were not ``allow`` since ``since``, per deciding jurisdiction
    (one grouped query); a decision decided by a signal with no jurisdiction (anonymizer,
    no profile) counts under "—"."""
    rows = (
        AccessDecision.objects.filter(decided_at__gte=since, effect__in=RESTRICTIVE_EFFECTS)
        .values("deciding_jurisdiction", "effect")
        .annotate(n=Count("id"))
    )
    found: dict[str, dict[str, int]] = {}
    for row in rows:
        code = row["deciding_jurisdiction"] or "—"
        found.setdefault(code, dict.fromkeys(RESTRICTIVE_EFFECTS, 0))[row["effect"]] = row["n"]
    result = [JurisdictionRestrictions(code, **counts) for code, counts in found.items()]
    return sorted(result, key=lambda r: (-r.total, r.jurisdiction))


def denials_per_day(*, since: datetime, until: datetime) -> list[tuple[object, str, int]]:
    """Access decisions answered ``deny`` in [since, until), per UTC day and deciding
    jurisdiction ("—" for a signal without one): (day, jurisdiction, denials) rows of one
    grouped query, days times jurisdictions however many decisions there were."""
    rows = (
        AccessDecision.objects.filter(effect="deny", decided_at__gte=since, decided_at__lt=until)
        .annotate(day=TruncDate("decided_at", tzinfo=UTC))
        .values_list("day", "deciding_jurisdiction")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [(day, jurisdiction or "—", n) for day, jurisdiction, n in rows]


def open_incidents_by_severity() -> dict[str, int]:
    """The dashboard's figures: incidents not yet resolved, by severity (an incident of ten
    markets going stale counts once)."""
    rows = Incident.objects.exclude(status="resolved").values("severity").annotate(n=Count("id"))
    counts = dict.fromkeys(reversed(ALERT_SEVERITIES), 0)
    for row in rows.order_by():
        counts[row["severity"]] = row["n"]
    return counts


def access_decisions(
    *,
    account_id: str = "",
    client_ip: str = "",
    rule: str = "",
    effect: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AccessDecision]:
    decisions = AccessDecision.objects.order_by("-decided_at", "-id")
    if account_id:
        decisions = decisions.filter(account_id=account_id)
    if client_ip:
        decisions = decisions.filter(client_ip=client_ip)
    if rule:
        decisions = decisions.filter(deciding_rule=rule)
    if effect:
        decisions = decisions.filter(effect=effect)
    if since:
        decisions = decisions.filter(decided_at__gte=since)
    if until:
        decisions = decisions.filter(decided_at__lt=until)
    return decisions


def access_decision(decision_id: str) -> AccessDecision | None:
    return AccessDecision.objects.filter(decision_id=decision_id).first()


def accounts(*, search: str = "") -> QuerySet[AccountProfile]:
    found = AccountProfile.objects.order_by("account_id")
    if search:
        found = found.filter(account_id__icontains=search)
    return found


def account(account_id: str) -> AccountProfile | None:
    return AccountProfile.objects.filter(account_id=account_id).first()


def account_history(account_id: str) -> QuerySet[AccountProfileVersion]:
    return AccountProfileVersion.objects.filter(account_id=account_id).order_by("-version")


def account_alerts(account_id: str) -> QuerySet[Alert]:
    """Alerts whose detail names the account (the monitors put ``account_id`` there)."""
    return Alert.objects.filter(detail__account_id=account_id).order_by("-first_seen")


def incidents(
    *, severity: str = "", status: str = "", kind: str = "", instrument: str = ""
) -> QuerySet[Incident]:
    """Incidents, most recently active first, optionally of one severity, status or kind,
    or holding an alert about one instrument."""
    found = Incident.objects.order_by("-last_seen", "-id")
    if severity:
        found = found.filter(severity=severity)
    if status:
        found = found.filter(status=status)
    if kind:
        found = found.filter(kind=kind)
    if instrument:
        found = found.filter(
            pk__in=Alert.objects.filter(instrument=instrument).values("incident_id")
        )
    return found


def incident_summary() -> tuple[dict[tuple[str, str], int], list[str]]:
    """How many incidents of each (status, severity), and the kinds there are (for the
    filter): the page's summary in one query."""
    rows = (
        Incident.objects.values_list("status", "severity", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[tuple[str, str], int] = {}
    kinds = set()
    for status, severity, kind, n in rows:
        counts[status, severity] = counts.get((status, severity), 0) + n
        kinds.add(kind)
    return counts, sorted(kinds)


def incident(incident_id: int) -> Incident | None:
    return Incident.objects.filter(pk=incident_id).first()


def incident_alerts(incident: Incident) -> QuerySet[Alert]:
    return incident.alerts.order_by("-last_seen", "-id")


def incident_history(incident: Incident, limit: int = 200) -> list[AlertEvent]:
    """What happened to the incident's alerts, newest first (raised, assigned,
    acknowledged, resolved), with the alert each step was about."""
    return list(AlertEvent.objects.filter(alert__incident=incident).order_by("-at", "-id")[:limit])


def screening_cases(account_id: str) -> QuerySet[ScreeningCase]:
    """An account's screening cases, newest first (open, cleared and confirmed)."""
    return ScreeningCase.objects.filter(account_id=account_id).select_related("list_version")
