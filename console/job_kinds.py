"""The kinds of long work the console starts (``console.jobs``): each a form for its
parameters, the roles that may start it, and its work — the owning part's own service,
telling the job how far it has got.

- ``report.generate``: a regulatory report for a period that has ended, one progress step
  per section (``oversight.reports``); a new version when one exists.
- ``por.publish``: a proof-of-reserves publication of one asset or of every asset with
  client accounts, a step per asset (``custody.publication``).
- ``sanctions.rescreen``: every account screened again against the list in force, in
  chunks, the cursor kept on the job so a run taken over after a lost worker carries on
  (``compliance.rescreen``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from compliance import rescreen, sanctions, screening_cases
from compliance.models import AccountProfile, ScreeningCase
from console.jobs import JobKind, Progress, register
from console.models import BackgroundJob
from console.roles import COMPLIANCE_OFFICER, RISK_OFFICER
from core import clock
from core.errors import GatehouseError
from custody import publication
from custody.money import ASSETS, from_minor
from oversight import reports
from oversight.models import REPORT_KINDS

REPORT = "report.generate"
PROOF_OF_RESERVES = "por.publish"
RESCREEN = "sanctions.rescreen"
RESCREEN_CHUNK = 200
"""Accounts per progress step of an officer's re-screen: small enough to move the bar."""


# --- a regulatory report -----------------------------------------------------------------


class ReportJobForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k, k) for k in REPORT_KINDS], initial="daily")
    period = forms.DateField(
        help_text="A UTC day that has ended.", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        cleaned = super().clean()
        kind, period = cleaned.get("kind"), cleaned.get("period")
        if kind and period and reports.period_bounds(kind, period)[1] > clock.now():
            self.add_error("period", "Only a period that has ended can be reported.")
        if period:
            cleaned["period"] = period.isoformat()  # the job's parameters are JSON
        return cleaned


def _generate_report(job: BackgroundJob, progress: Progress) -> dict[str, Any]:
    report = reports.generate_report(
        kind=job.params["kind"],
        period=date.fromisoformat(job.params["period"]),
        generated_by=job.started_by,
        now=clock.now(),
        progress=progress,
    )
    return {
        "report_id": report.pk,
        "kind": report.kind,
        "period": report.period.isoformat(),
        "version": report.version,
        "manifest_sha256": report.manifest_sha256,
    }


register(
    JobKind(
        kind=REPORT,
        label="Report generation",
        roles=frozenset({COMPLIANCE_OFFICER, RISK_OFFICER}),
        form=ReportJobForm,
        run=_generate_report,
        page="console:reports",
        queue="reports",
    )
)


# --- proof of reserves -------------------------------------------------------------------


class ProofOfReservesJobForm(forms.Form):
    asset = forms.ChoiceField(
        required=False,
        choices=[("", "every asset with client accounts"), *((a, a) for a in sorted(ASSETS))],
    )


def _publish(job: BackgroundJob, progress: Progress) -> dict[str, Any]:
    assets = [job.params["asset"]] if job.params.get("asset") else publication.client_assets()
    published = []
    for done, asset in enumerate(assets):
        progress(done, len(assets), f"building and signing the {asset} tree")
        item = publication.publish(asset=asset, actor=job.started_by)
        published.append(
            {
                "asset": asset,
                "publication_id": item.publication_id,
                "total": from_minor(asset, int(item.total)),
                "leaf_count": item.leaf_count,
            }
        )
    return {"publications": published}


register(
    JobKind(
        kind=PROOF_OF_RESERVES,
        label="Proof-of-reserves publication",
        roles=frozenset({COMPLIANCE_OFFICER}),
        form=ProofOfReservesJobForm,
        run=_publish,
        page="console:custody",
        queue="reports",
    )
)


# --- a sanctions re-screen ---------------------------------------------------------------


class RescreenJobForm(forms.Form):
    """Every account against the list in force; no parameters."""


def _rescreen(job: BackgroundJob, progress: Progress) -> dict[str, Any]:
    try:
        lists = sanctions.loaded()
    except sanctions.ScreeningUnavailable:
        raise GatehouseError(
            "no sanctions list is loaded: there is nothing to screen against"
        ) from None
    total = AccountProfile.objects.count()
    cursor, done = job.cursor, job.progress_done if job.cursor else 0
    progress(done, total, f"screening against {lists.label}")
    while True:
        count, last = rescreen.screen_accounts(lists, after=cursor, chunk=RESCREEN_CHUNK)
        if last is not None:
            cursor, done = last, done + count
            progress(done, max(total, done), f"screened up to {last}", cursor=cursor)
        if count < RESCREEN_CHUNK:
            break
    return {
        "accounts": done,
        "list_version": lists.label,
        "open_cases": ScreeningCase.objects.filter(status=screening_cases.OPEN).count(),
    }


register(
    JobKind(
        kind=RESCREEN,
        label="Sanctions re-screen",
        roles=frozenset({COMPLIANCE_OFFICER}),
        form=RescreenJobForm,
        run=_rescreen,
        page="console:screening",
    )
)
