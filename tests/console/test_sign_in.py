"""Sign-in: password then TOTP, enrolment on first sign-in, lockout, sign-out, cookies and
the Content-Security-Policy. A password alone never reaches a page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from console.models import SignInThrottle
from core import clock
from core.models import AuditEntry
from tests.console.conftest import PASSWORD
from tests.core.test_settings import prod_env as prod_env  # the fixture, reused
from tests.core.test_settings import run_django

pytestmark = pytest.mark.django_db


def code_of(device: TOTPDevice, step_offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time += step_offset * device.step
    return f"{totp.token():06d}"


def wrong_code(device: TOTPDevice) -> str:
    good = {code_of(device, offset) for offset in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in good)


def password_step(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post("/sign-in/", {"username": username, "password": password, **extra})


def actions_for(username: str) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_id=username, object_type="user")
        .order_by("seq")
        .values_list("action", flat=True)
    )


@pytest.fixture
def officer(make_officer):
    return make_officer("alice", "compliance_officer")


def test_anonymous_is_sent_to_sign_in():
    response = Client().get("/rules/")
    assert response.status_code == 302
    assert response["Location"] == "/sign-in/?next=%2Frules%2F"


def test_htmx_poll_of_an_anonymous_session_redirects_the_whole_page():
    response = Client().get("/markets/board", HTTP_HX_REQUEST="true")
    assert response.status_code == 401
    assert response["HX-Redirect"] == "/sign-in/"


def test_password_alone_never_reaches_a_page(officer):
    client = Client()
    response = password_step(client, "alice")
    assert response.status_code == 302 and response["Location"] == "/sign-in/code/"
    for path in ["/", "/rules/", "/audit/", "/markets/board"]:
        assert client.get(path).status_code in (302, 401), path
    admin = client.get("/admin/")
    assert admin.status_code == 302 and "/admin/login/" in admin["Location"]
    assert "_auth_user_id" not in client.session


def test_password_then_code_signs_in_and_is_audited(officer):
    client = Client()
    password_step(client, "alice", next="/rules/")
    response = client.post("/sign-in/code/", {"code": code_of(officer.test_device)})
    assert response.status_code == 302 and response["Location"] == "/rules/"
    assert client.get("/rules/").status_code == 200
    assert actions_for("alice") == ["console.sign_in"]
    assert AuditEntry.objects.get(action="console.sign_in").actor == "officer:alice"


def test_an_offsite_next_is_ignored(officer):
    client = Client()
    password_step(client, "alice", next="https://evil.example/")
    response = client.post("/sign-in/code/", {"code": code_of(officer.test_device)})
    assert response["Location"] == "/"


def test_a_code_cannot_be_used_twice(officer, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    code = code_of(officer.test_device)
    first, second = Client(), Client()
    password_step(first, "alice")
    assert first.post("/sign-in/code/", {"code": code}).status_code == 302
    password_step(second, "alice")
    assert second.post("/sign-in/code/", {"code": code}).status_code == 401


def test_a_wrong_code_is_refused_and_counted(officer, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    client = Client()
    password_step(client, "alice")
    response = client.post("/sign-in/code/", {"code": wrong_code(officer.test_device)})
    assert response.status_code == 401
    assert b"not right" in response.content
    assert client.get("/").status_code == 302
    assert SignInThrottle.objects.get(username="alice").failures == 1
    entry = AuditEntry.objects.get(action="console.sign_in_failed")
    assert entry.after == {"stage": "code", "failures": 1}
    # the right code still works, and clears the count
    assert client.post("/sign-in/code/", {"code": code_of(officer.test_device)}).status_code == 302
    assert not SignInThrottle.objects.filter(username="alice").exists()


def test_wrong_password_and_unknown_user_get_the_same_answer(officer):
    wrong = password_step(Client(), "alice", "not the password")
    unknown = password_step(Client(), "mallory", "whatever")
    assert wrong.status_code == unknown.status_code == 401
    message = b"The username or password is not right."
    assert message in wrong.content and message in unknown.content
    assert actions_for("alice") == ["console.sign_in_failed"]
    assert actions_for("mallory") == []  # counted, but invented names do not fill the chain
    assert SignInThrottle.objects.get(username="mallory").failures == 1


def test_lockout_after_five_failures_then_released_after_fifteen_minutes(officer, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with clock.use_clock(clock.ManualClock(start)) as moving:
        for _ in range(4):
            password_step(Client(), "alice", "nope")
        client = Client()
        password_step(client, "alice")  # right password...
        client.post("/sign-in/code/", {"code": wrong_code(officer.test_device)})  # ...5th: code
        assert actions_for("alice")[-1] == "console.locked"
        locked = password_step(Client(), "alice")  # even the right password is refused now
        assert locked.status_code == 401 and b"locked until 09:15 UTC" in locked.content
        moving.advance(timedelta(minutes=14))
        assert password_step(Client(), "alice").status_code == 401
        moving.advance(timedelta(minutes=1, seconds=1))
        client = Client()
        assert password_step(client, "alice")["Location"] == "/sign-in/code/"
        assert (
            client.post("/sign-in/code/", {"code": code_of(officer.test_device)}).status_code == 302
        )
    entry = AuditEntry.objects.get(action="console.locked")
    assert entry.after["failures"] == 5


def test_a_lock_reached_at_the_code_step_ends_the_pending_sign_in(officer, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.CONSOLE_LOCKOUT_FAILURES = 2
    client = Client()
    password_step(client, "alice")
    client.post("/sign-in/code/", {"code": wrong_code(officer.test_device)})
    response = client.post("/sign-in/code/", {"code": wrong_code(officer.test_device)})
    assert b"locked" in response.content
    assert (
        client.post("/sign-in/code/", {"code": code_of(officer.test_device)})["Location"]
        == "/sign-in/"
    )


def test_the_password_step_expires(officer):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with clock.use_clock(clock.ManualClock(start)) as moving:
        client = Client()
        password_step(client, "alice")
        moving.advance(timedelta(seconds=301))
        response = client.post("/sign-in/code/", {"code": code_of(officer.test_device)})
    assert response["Location"] == "/sign-in/"


def test_first_sign_in_enrols_with_a_qr_code(make_officer):
    make_officer("bob", "auditor", enrolled=False)
    client = Client()
    assert password_step(client, "bob")["Location"] == "/sign-in/enrol/"
    page = client.get("/sign-in/enrol/")
    html = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in html
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', html).group(1)
    device = TOTPDevice.objects.get(user__username="bob")
    assert not device.confirmed
    assert client.get("/sign-in/enrol/").content.decode().count(secret) == 1  # same secret
    response = client.post("/sign-in/enrol/", {"code": code_of(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert actions_for("bob") == ["console.totp_enrolled", "console.sign_in"]
    assert client.get("/").status_code == 200


def test_an_enrolled_officer_is_never_shown_the_enrolment(officer):
    client = Client()
    password_step(client, "alice")
    assert client.get("/sign-in/enrol/")["Location"] == "/sign-in/code/"


def test_sign_out_is_a_post_and_is_audited(officer):
    client = Client()
    password_step(client, "alice")
    client.post("/sign-in/code/", {"code": code_of(officer.test_device)})
    assert client.get("/sign-out/").status_code == 405
    assert client.post("/sign-out/")["Location"] == "/sign-in/"
    assert client.get("/").status_code == 302
    assert actions_for("alice")[-1] == "console.sign_out"


def test_cookies_are_http_only_and_same_site(officer):
    client = Client()
    client.get("/sign-in/")
    csrf = client.cookies["csrftoken"]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"
    password_step(client, "alice")
    session = client.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"


def test_production_cookies_are_secure(prod_env):
    result = run_django(
        "settings.prod",
        prod_env,
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_HTTPONLY)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-4:] == ["True", "True", "True", "True"]


def test_console_pages_carry_a_strict_content_security_policy(officer_client):
    client, _ = officer_client("auditor")
    for path in ["/sign-in/", "/", "/rules/"]:
        response = (Client() if path == "/sign-in/" else client).get(path)
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        html = response.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
        assert not re.search(r"\son[a-z]+=", html), "inline event handler"
        assert ' style="' not in html
    assert "Content-Security-Policy" not in Client().get("/api/v1/nothing")


def test_the_admin_needs_the_second_factor_too(make_officer):
    staff = make_officer("stella", "administrator")
    staff.is_staff = True
    staff.save()
    from tests.console.conftest import signed_in_client

    assert signed_in_client(staff).get("/admin/").status_code == 200
    password_only = Client()
    password_only.force_login(staff)  # a session with no verified device
    assert password_only.get("/admin/").status_code == 302
    login_page = Client().get("/admin/login/").content.decode()
    assert 'name="otp_token"' in login_page
