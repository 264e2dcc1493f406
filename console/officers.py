"""Officer accounts: creating and enrolling them (``manage.py enrol_officer``), resetting a
second factor, and the demo officers of ``make run``."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from console.roles import ADMINISTRATOR, COMPLIANCE_OFFICER, RISK_OFFICER, set_roles
from console.sign_in import DEVICE_NAME
from core import audit

DEMO_ROLES = (COMPLIANCE_OFFICER, RISK_OFFICER, ADMINISTRATOR)
DEMO_CHECKER = "checker"


def enrol_officer(
    *,
    username: str,
    roles: Iterable[str],
    actor: str,
    password: str | None = None,
    new_device: bool = False,
) -> tuple[object, TOTPDevice, str | None]:
    """Create or update an officer with these roles and a confirmed TOTP device. Returns
    (user, device, password set or None). A new device replaces the old one only when
    asked: re-running for an enrolled officer must not lock them out of their phone."""
    roles = tuple(roles)
    with transaction.atomic():
        user, created = get_user_model().objects.get_or_create(username=username)
        if password is None and created:
            password = secrets.token_urlsafe(12)
        if password is not None:
            user.set_password(password)
        user.is_staff = True
        user.save()
        set_roles(user, roles)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
        replaced = device is None or new_device
        if replaced:
            TOTPDevice.objects.filter(user=user).delete()
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
        audit.record(
            actor=actor,
            action="console.officer_enrolled" if created else "console.officer_updated",
            object_type="user",
            object_id=username,
            after={
                "roles": sorted(roles),
                "password_set": password is not None,
                "new_device": replaced,
            },
        )
    return user, device, password


def reset_second_factor(*, username: str, actor: str) -> int:
    """Remove an officer's TOTP devices: their next sign-in enrols a new one (a lost phone).
    Returns how many devices were removed."""
    with transaction.atomic():
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            return 0
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        audit.record(
            actor=actor,
            action="console.second_factor_reset",
            object_type="user",
            object_id=username,
            after={"devices_removed": removed},
        )
    return removed


def current_code(device: TOTPDevice) -> str:
    """The device's code right now, for the demo and the enrol command's hint."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def ensure_demo_officers(credentials: dict, *, actor: str = "system:demo") -> dict:
    """For ``make run``: give the demo officer (``officer``, created by ``console.demo``) the
    demo roles, and create a second officer, ``checker``, with the same roles so a change
    proposed by one can be approved by the other. Both enrol their authenticator with a QR
    code at first sign-in. Returns ``credentials`` with ``checker_username`` and
    ``checker_password`` added (kept when already there)."""
    users = get_user_model().objects
    officer = users.filter(username=credentials.get("username", "officer")).first()
    with transaction.atomic():
        if officer is not None:
            set_roles(officer, DEMO_ROLES)
        checker = users.filter(username=DEMO_CHECKER).first()
        if checker is None or "checker_password" not in credentials:
            password = secrets.token_urlsafe(12)
            checker, created = users.get_or_create(username=DEMO_CHECKER)
            checker.set_password(password)
            checker.is_staff = True
            checker.save()
            audit.record(
                actor=actor,
                action="console.officer_enrolled" if created else "console.officer_updated",
                object_type="user",
                object_id=DEMO_CHECKER,
                after={"roles": sorted(DEMO_ROLES), "password_set": True},
            )
            credentials = {
                **credentials,
                "checker_username": DEMO_CHECKER,
                "checker_password": password,
            }
        set_roles(checker, DEMO_ROLES)
    return credentials
