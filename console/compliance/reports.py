"""The reports page: every generated report, newest first, with its files to download and
whether it still verifies (``oversight.report_verification.verify_report``: the signed
manifest, every file's digest, and the database's own record of them).

Downloads are served from the reports directory, read-only, and only for names the report
recorded (``oversight.reports.report_file``), so a crafted name cannot leave the directory.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console import jobs
from console.job_kinds import REPORT
from console.paging import page_of
from console.roles import officer_required
from core.errors import NotFound
from oversight import reports as report_services
from oversight.models import REPORT_KINDS
from oversight.report_verification import verify_report

REPORTS_PER_PAGE = 20
"""Each report on the page is verified from disk: keep the page short."""


@require_GET
@officer_required()
def reports(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    found = report_services.list_reports(kind=kind if kind in REPORT_KINDS else None)
    page = page_of(found.prefetch_related("files"), request.GET, size=REPORTS_PER_PAGE)
    return render(
        request,
        "console/reports.html",
        {
            "page": page,
            "kind": kind,
            "kinds": REPORT_KINDS,
            "rows": [{"report": r, "verification": verify_report(r)} for r in page.rows],
            "panel": jobs.panel(request.user, REPORT),
        },
    )


@require_GET
@officer_required()
def report_file(request: HttpRequest, report_id: int, name: str) -> FileResponse:
    try:
        report = report_services.get_report(report_id)
        recorded, handle = report_services.report_file(report, name)
    except NotFound as missing:
        raise Http404(missing.message) from None
    response = FileResponse(
        handle, content_type=recorded.media_type, as_attachment=True, filename=name
    )
    response["X-Content-SHA256"] = recorded.sha256
    return response
