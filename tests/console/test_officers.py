"""``manage.py enrol_officer`` and the demo officers of ``make run``."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from console.officers import current_code, ensure_demo_officers
from console.roles import roles_of
from core.models import AuditEntry

pytestmark = pytest.mark.django_db


def enrol(*args: str) -> str:
    out = io.StringIO()
    call_command("enrol_officer", *args, stdout=out)
    return out.getvalue()


def test_enrol_creates_an_officer_with_roles_and_a_device():
    output = enrol("dana", "--role", "risk_officer", "--role", "auditor", "--password", "pw-123456")
    user = get_user_model().objects.get(username="dana")
    assert user.check_password("pw-123456") and user.is_staff
    assert roles_of(user) == {"risk_officer", "auditor"}
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed
    uri = re.search(r"otpauth://\S+", output).group(0)
    query = parse_qs(urlparse(uri).query)
    assert query["issuer"] == ["Gatehouse"] and len(query["secret"][0]) == 32
    assert re.search(r"current code: \d{6}", output)
    assert AuditEntry.objects.get(action="console.officer_enrolled").object_id == "dana"


def test_re_enrolling_keeps_the_device_unless_asked():
    enrol("erin")
    first = TOTPDevice.objects.get(user__username="erin").key
    output = enrol("erin", "--role", "administrator")
    assert "password:" not in output
    assert TOTPDevice.objects.get(user__username="erin").key == first
    enrol("erin", "--new-device")
    assert TOTPDevice.objects.get(user__username="erin").key != first


def test_enrol_refuses_an_unknown_role():
    with pytest.raises(CommandError):
        enrol("frank", "--role", "superhero")


def test_current_code_is_what_the_device_accepts():
    enrol("gail")
    device = TOTPDevice.objects.get(user__username="gail")
    assert device.verify_token(current_code(device))


def test_demo_officers():
    get_user_model().objects.create_user(username="officer", password="x")
    credentials = ensure_demo_officers({"username": "officer", "password": "x"})
    checker = get_user_model().objects.get(username="checker")
    assert checker.check_password(credentials["checker_password"])
    for user in (checker, get_user_model().objects.get(username="officer")):
        assert roles_of(user) == {"compliance_officer", "risk_officer", "administrator"}
    again = ensure_demo_officers(credentials)
    assert again["checker_password"] == credentials["checker_password"]
