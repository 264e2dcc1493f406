"""Officers: who has which role, who is enrolled, who is locked out. Administrators unlock
a username or reset a lost second factor; both are audited."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from console import officers as officer_services
from console import selectors, sign_in
from console.roles import ADMINISTRATOR, AUDITOR, ROLE_LABELS, officer_actor, officer_required


@require_GET
@officer_required(ADMINISTRATOR, AUDITOR)
def officers(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "console/officers.html",
        {"officers": selectors.officers(), "role_labels": ROLE_LABELS},
    )


@require_POST
@officer_required(ADMINISTRATOR)
def unlock(request: HttpRequest, username: str) -> HttpResponse:
    sign_in.unlock(username=username, actor=officer_actor(request.user))
    messages.success(request, f"{username} is unlocked.")
    return redirect("console:officers")


@require_POST
@officer_required(ADMINISTRATOR)
def reset_second_factor(request: HttpRequest, username: str) -> HttpResponse:
    if username == request.user.get_username():
        messages.error(request, "Another administrator must reset your own second factor.")
        return redirect("console:officers")
    removed = officer_services.reset_second_factor(
        username=username, actor=officer_actor(request.user)
    )
    messages.success(
        request, f"{username}: {removed} device(s) removed; they enrol again at next sign-in."
    )
    return redirect("console:officers")
