"""The console's URLs, served at the site root (``settings.urls`` includes them last, so
``/api/``, ``/admin/``, ``/healthz`` and ``/readyz`` keep theirs).

The admin is switched to django-otp's ``OTPAdminSite`` here: staff users have passwords,
and the admin's own login form must not be a way around the console's second factor.
"""

from django.contrib import admin
from django.urls import include, path
from django_otp.admin import OTPAdminSite

from console.views import accounts, auth, dashboard, jobs, officers, proposals, records

admin.site.__class__ = OTPAdminSite

app_name = "console"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("sign-in/", auth.sign_in_view, name="sign-in"),
    path("sign-in/code/", auth.verify_view, name="verify"),
    path("sign-in/enrol/", auth.enrol_view, name="enrol"),
    path("sign-out/", auth.sign_out_view, name="sign-out"),
    path("markets/board", dashboard.market_board, name="market-board"),
    path("markets/<str:symbol>/", dashboard.market_detail, name="market"),
    path("proposals/", proposals.proposals, name="proposals"),
    path("proposals/new/<str:kind>/", proposals.propose, name="propose"),
    path("proposals/<int:proposal_id>/", proposals.proposal_detail, name="proposal"),
    path("proposals/<int:proposal_id>/approve", proposals.approve, name="proposal-approve"),
    path("proposals/<int:proposal_id>/reject", proposals.reject, name="proposal-reject"),
    path("proposals/<int:proposal_id>/review", proposals.review, name="proposal-review"),
    path("audit/", records.audit_log, name="audit"),
    path("audit/<int:seq>/", records.audit_entry, name="audit-entry"),
    path("schedules/", records.schedules, name="schedules"),
    path("schedules/<int:task_id>/propose", records.propose_schedule, name="schedule-propose"),
    path("officers/", officers.officers, name="officers"),
    path("officers/<str:username>/unlock", officers.unlock, name="officer-unlock"),
    path(
        "officers/<str:username>/reset-second-factor",
        officers.reset_second_factor,
        name="officer-reset",
    ),
    path("jobs/start/<str:kind>", jobs.start, name="job-start"),
    path("jobs/<int:job_id>/", jobs.job_detail, name="job"),
    path("jobs/<int:job_id>/status", jobs.job_status, name="job-status"),
    path("accounts/", accounts.accounts, name="accounts"),
    path("accounts/<str:account_id>/", accounts.account_detail, name="account"),
    path("", include("console.compliance.urls")),
    path("", include("console.risk.urls")),
    path("", include("console.custody.urls")),
]
