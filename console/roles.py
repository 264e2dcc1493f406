"""Who may see and do what in the console.

DESIGN.md, "Console": compliance officer, risk officer, auditor (read-only), administrator.
Roles are Django groups of these names (seeded by ``core.migrations.0003_console_roles``);
every view names the roles it admits and the check runs on the server for every request
(``officer_required``). Nobody gets a role implicitly, not even a superuser: what an officer
may do is visible in one place, the groups.

An anonymous visitor, or one who gave a password but no second factor yet, is sent to
sign-in; a signed-in officer without a fitting role gets the 403 page.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import wraps

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

COMPLIANCE_OFFICER = "compliance_officer"
RISK_OFFICER = "risk_officer"
AUDITOR = "auditor"
ADMINISTRATOR = "administrator"

ROLES = (COMPLIANCE_OFFICER, RISK_OFFICER, AUDITOR, ADMINISTRATOR)
ROLE_LABELS = {
    COMPLIANCE_OFFICER: "Compliance officer",
    RISK_OFFICER: "Risk officer",
    AUDITOR: "Auditor",
    ADMINISTRATOR: "Administrator",
}

READERS = ROLES
"""Every role reads every page; the auditor only reads."""


def roles_of(user) -> frozenset[str]:
    """The console roles of ``user``, read once per request and kept on the user object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_console_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._console_roles = cached
    return cached


def is_signed_in(user) -> bool:
    """Password *and* second factor: django-otp's ``is_verified`` is only true once a TOTP
    code was accepted in this session."""
    return bool(getattr(user, "is_authenticated", False) and user.is_verified())


def may(user, roles: Iterable[str]) -> bool:
    return is_signed_in(user) and bool(roles_of(user) & set(roles))


def set_roles(user, roles: Iterable[str]) -> None:
    """Replace ``user``'s console roles (other groups are left alone)."""
    wanted = set(roles)
    unknown = wanted - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; roles are {', '.join(ROLES)}")
    user.groups.remove(*Group.objects.filter(name__in=set(ROLES) - wanted))
    user.groups.add(*Group.objects.filter(name__in=wanted))
    user.__dict__.pop("_console_roles", None)


def sign_in_redirect(request: HttpRequest) -> HttpResponse:
    target = reverse("console:sign-in")
    if request.method == "GET" and not request.headers.get("HX-Request"):
        target += "?" + urlencode({"next": request.get_full_path()})
    if request.headers.get("HX-Request"):
        # A poll whose session ended: make htmx load the sign-in page, not swap it in.
        response = HttpResponse(status=401)
        response["HX-Redirect"] = target
        return response
    return redirect(target)


def officer_required(*roles: str):
    """Admit signed-in officers holding one of ``roles`` (default: any console role)."""
    admitted = frozenset(roles or READERS)

    def decorate(view):
        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs):
            if not is_signed_in(request.user):
                return sign_in_redirect(request)
            if not roles_of(request.user) & admitted:
                raise PermissionDenied("Your role does not allow this page or action.")
            return view(request, *args, **kwargs)

        guarded.console_roles = admitted
        return guarded

    return decorate


def officer_actor(user) -> str:
    """How an officer is named in the audit chain and in every service's ``actor``
    (API keys are ``key:<name>``, migrations ``seed:...``)."""
    return f"officer:{user.get_username()}"
