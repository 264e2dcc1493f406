"""Sign-in (password, then TOTP; enrolment on first sign-in) and sign-out.

The flow and its reasons are in ``console.sign_in``; these views only parse, call it,
and move the browser on.
"""

from __future__ import annotations

import django_otp
from django.contrib.auth import get_user_model, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from console import sign_in
from console.forms import CodeForm, SignInForm
from console.qr import qr_data_uri
from console.roles import is_signed_in
from core import clock

NEXT_KEY = "console.next"


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("console:dashboard")


def _pending_user(request: HttpRequest):
    pending = sign_in.PendingSignIn.load(request.session)
    if pending is None:
        return None
    return get_user_model().objects.filter(pk=pending.user_id, is_active=True).first()


@never_cache
@csrf_protect
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def sign_in_view(request: HttpRequest) -> HttpResponse:
    if is_signed_in(request.user):
        return redirect(_safe_next(request, request.GET.get("next")))
    form = SignInForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            user = sign_in.check_password(
                request, form.cleaned_data["username"], form.cleaned_data["password"]
            )
        except sign_in.SignInRefused as refused:
            error = refused.message
        else:
            next_url = _safe_next(request, request.POST.get("next"))
            request.session.cycle_key()
            sign_in.PendingSignIn(user.pk, clock.now()).store(request.session)
            request.session[NEXT_KEY] = next_url
            if sign_in.confirmed_device(user) is None:
                return redirect("console:enrol")
            return redirect("console:verify")
    return render(
        request,
        "console/sign_in.html",
        {"form": form, "error": error, "next": request.GET.get("next", "")},
        status=401 if error else 200,
    )


def _complete(request: HttpRequest, user, device) -> HttpResponse:
    next_url = request.session.get(NEXT_KEY) or reverse("console:dashboard")
    sign_in.PendingSignIn.clear(request.session)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    django_otp.login(request, device)
    return redirect(next_url)


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def verify_view(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        return redirect("console:sign-in")
    device = sign_in.confirmed_device(user)
    if device is None:
        return redirect("console:enrol")
    form = CodeForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            sign_in.verify_code(user, device, form.cleaned_data["code"])
        except sign_in.SignInRefused as refused:
            error = refused.message
            if refused.locked_until is not None:
                sign_in.PendingSignIn.clear(request.session)
        else:
            return _complete(request, user, device)
    return render(
        request,
        "console/verify.html",
        {"form": form, "error": error, "username": user.get_username()},
        status=401 if error else 200,
    )


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def enrol_view(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        return redirect("console:sign-in")
    if sign_in.confirmed_device(user) is not None:
        return redirect("console:verify")
    device = sign_in.enrolment_device(user)
    form = CodeForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            sign_in.verify_code(user, device, form.cleaned_data["code"], enrolling=True)
        except sign_in.SignInRefused as refused:
            error = refused.message
            if refused.locked_until is not None:
                sign_in.PendingSignIn.clear(request.session)
        else:
            return _complete(request, user, device)
    uri = device.config_url
    return render(
        request,
        "console/enrol.html",
        {
            "form": form,
            "error": error,
            "username": user.get_username(),
            "qr": qr_data_uri(uri),
            "secret": sign_in.base32_secret(device),
        },
        status=401 if error else 200,
    )


@require_POST
@csrf_protect
def sign_out_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        sign_in.record_sign_out(request.user.get_username())
    logout(request)
    return redirect("console:sign-in")
