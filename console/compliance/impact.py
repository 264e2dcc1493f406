"""A rule draft's page and its impact (issue 18): what the draft would have changed over
the last ``RULE_IMPACT_WINDOW_DAYS`` of access and pre-trade decisions, measured in the
background (``compliance.impact``) while the page polls a small fragment (htmx, no script
of its own: the CSP forbids it) until the result is in. The checker sees the same
fragment on the proposal's page before approving (``panel``, registered with the kind).

Starting a measurement is a compliance officer's action, audited under their name; the
task is queued after the commit, and a broker that cannot take it fails the measurement at
once, saying so, rather than leaving it "running" in silence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from compliance import tasks
from compliance.impact import measure
from compliance.impact.inputs import SKIP_REASONS
from compliance.impact.tally import DIMENSIONS, Tally
from compliance.models import RuleImpact, RuleRevision
from console.compliance import selectors
from console.roles import COMPLIANCE_OFFICER, officer_actor, officer_required, roles_of
from console.selectors import proposal_awaiting
from core import clock
from core.errors import GatehouseError
from core.registry import decision_sources

logger = logging.getLogger("gatehouse.console")

LOST_AFTER = timedelta(minutes=10)
"""A running measurement with no progress for this long has lost its worker."""

DIMENSION_LABELS = {
    "source": "Source",
    "jurisdiction": "Jurisdiction",
    "product": "Product",
    "action": "Action",
    "signal": "Signal",
}
EXAMPLE_PAGES = {"access": "console:decision", "pretrade": "console:pretrade-decision"}
"""The console page of a flipped decision, by the source it came from."""


class ImpactWindowForm(forms.Form):
    days = forms.IntegerField(
        min_value=1,
        max_value=measure.MAX_WINDOW_DAYS,
        required=False,
        label="Days back",
        help_text="The window of past decisions to replay (RULE_IMPACT_WINDOW_DAYS by default).",
    )


@dataclass(frozen=True)
class Example:
    label: str
    url: str
    at: str


@dataclass(frozen=True)
class Row:
    value: str
    effect_from: str
    effect_to: str
    count: int
    approximate: int
    examples: list[Example]


@dataclass
class ImpactPanel:
    """What the fragment shows for one draft."""

    draft: RuleRevision
    impact: RuleImpact | None
    may_measure: bool
    stale: str = ""
    lost: bool = False
    tally: Tally | None = None
    dimensions: list[tuple[str, list[Row]]] = field(default_factory=list)
    skipped: list[tuple[str, int]] = field(default_factory=list)
    sources: list[tuple[str, int]] = field(default_factory=list)
    later_than_window: datetime | None = None
    form: ImpactWindowForm | None = None
    next_url: str = ""

    @property
    def polling(self) -> bool:
        return self.impact is not None and self.impact.status == measure.RUNNING

    @property
    def percent(self) -> int:
        if self.impact is None or not self.impact.total:
            return 100 if self.impact is not None and self.impact.status == measure.DONE else 0
        return min(100, self.impact.processed * 100 // self.impact.total)

    @property
    def is_draft(self) -> bool:
        return self.draft.status == "draft"


def _example(raw: dict) -> Example:
    page = EXAMPLE_PAGES.get(raw["source"])
    key = raw["key"]
    url = reverse(page, args=[int(key) if raw["source"] == "pretrade" else key]) if page else ""
    label = f"order #{key}" if raw["source"] == "pretrade" else key[:12]
    return Example(label=label, url=url, at=raw["at"][:19].replace("T", " "))


def panel_for(draft: RuleRevision, user, *, next_url: str = "") -> ImpactPanel:
    """The impact fragment's content for ``draft``: its latest measurement, whether that is
    stale or its worker lost, and the counts in the page's words."""
    impact = measure.latest_of(draft)
    found = ImpactPanel(
        draft=draft,
        impact=impact,
        may_measure=COMPLIANCE_OFFICER in roles_of(user) and draft.status == "draft",
        next_url=next_url,
    )
    if found.may_measure:
        found.form = ImpactWindowForm(initial={"days": settings.RULE_IMPACT_WINDOW_DAYS})
    if impact is None:
        return found
    if draft.status == "draft":
        found.stale = measure.staleness(
            impact, digest=measure.draft_digest(draft), rulebook=measure.latest_rulebook()
        )
    found.lost = found.polling and clock.now() - impact.progressed_at > LOST_AFTER
    if draft.effective_from is not None and draft.effective_from >= impact.window_end:
        found.later_than_window = draft.effective_from
    labels = {name: source.label for name, source in decision_sources.items().items()}
    found.sources = [
        (labels.get(name, name), count) for name, count in (impact.totals or {}).items()
    ]
    if impact.result:
        tally = Tally(impact.result)
        found.tally = tally
        found.skipped = [
            (SKIP_REASONS.get(reason, reason), count) for reason, count in tally.skipped.items()
        ]
        for dimension in DIMENSIONS:
            rows = [
                Row(
                    labels.get(row.value, row.value) if dimension == "source" else row.value,
                    row.effect_from,
                    row.effect_to,
                    row.count,
                    row.approximate,
                    [_example(example) for example in row.examples],
                )
                for row in tally.rows(dimension)
            ]
            found.dimensions.append((DIMENSION_LABELS[dimension], rows))
    return found


def _draft_or_404(rule_id: str, revision: int) -> RuleRevision:
    found = selectors.draft(rule_id, revision)
    if found is None:
        raise Http404(f"no revision {revision} of rule {rule_id}")
    return found


def _page(request: HttpRequest, draft: RuleRevision, impact: ImpactPanel, status: int = 200):
    return render(
        request,
        "console/rule_revision.html",
        {
            "r": draft,
            "impact": impact,
            "proposal": proposal_awaiting(f"rule:{draft.rule_id}#r{draft.revision}"),
            "own": draft.created_by == officer_actor(request.user),
            "may_decide": COMPLIANCE_OFFICER in roles_of(request.user),
        },
        status=status,
    )


@require_GET
@officer_required()
def rule_revision(request: HttpRequest, rule_id: str, revision: int) -> HttpResponse:
    """One revision of a rule; for a draft, its impact and the decision on it."""
    draft = _draft_or_404(rule_id, revision)
    return _page(request, draft, panel_for(draft, request.user, next_url=request.path))


@require_GET
@officer_required()
def impact_fragment(request: HttpRequest, rule_id: str, revision: int) -> HttpResponse:
    """The impact alone, for htmx to poll while it is measured."""
    draft = _draft_or_404(rule_id, revision)
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    return render(
        request,
        "console/_rule_impact.html",
        {"impact": panel_for(draft, request.user, next_url=next_url)},
    )


def queue(impact_id: int) -> None:
    """Queue the measurement's task after the commit; a broker that refuses it fails the
    measurement now, with the reason, instead of leaving it running for ever."""

    def send() -> None:
        try:
            tasks.measure_rule_impact.delay(impact_id)
        except Exception as error:  # the broker is down: say so on the page
            logger.warning("rule impact %s could not be queued: %s", impact_id, error)
            measure.fail(impact_id, f"could not be queued: {error}")

    transaction.on_commit(send)


@require_POST
@officer_required(COMPLIANCE_OFFICER)
def measure_impact(request: HttpRequest, rule_id: str, revision: int) -> HttpResponse:
    """Measure (again, or resume) a draft's impact over the window the form names."""
    draft = _draft_or_404(rule_id, revision)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("console:rule-revision", args=[rule_id, revision])
    form = ImpactWindowForm(request.POST)
    if not form.is_valid():
        found = panel_for(draft, request.user, next_url=next_url)
        found.form = form
        return _page(request, draft, found, status=400)
    try:
        impact, created = measure.request_measurement(
            rule_id=rule_id,
            revision=revision,
            actor=officer_actor(request.user),
            days=form.cleaned_data.get("days"),
        )
    except GatehouseError as error:
        messages.error(request, error.message)
        return redirect(next_url)
    queue(impact.pk)
    if created:
        messages.success(request, f"Measuring the impact of {rule_id} revision {revision}.")
    else:
        messages.info(request, "That measurement is under way; its task was queued again.")
    return redirect(next_url)


def proposal_panel(payload, user, proposal_path: str) -> dict | None:
    """What the checker sees on a rule change's proposal page: the draft's impact."""
    revision = payload.get("revision")
    if not revision:
        return None
    draft = RuleRevision.objects.filter(rule_id=payload.get("rule_id"), revision=revision).first()
    if draft is None:
        return None
    return {
        "template": "console/_rule_impact.html",
        "impact": panel_for(draft, user, next_url=proposal_path),
    }
