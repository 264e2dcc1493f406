"""Console sign-in: password, then a TOTP code (django-otp), with a lockout per username.

Why it is built this way:

* The password step does not sign anyone in. It only records, in the session, that this
  browser knows the password of user N (for ``CONSOLE_SECOND_FACTOR_SECONDS``). Django's
  ``login()`` runs after the code is accepted, so no page, including the admin, ever sees a
  session that has a password and no second factor.
* Failures of either step count against the username typed (``SignInThrottle``, in the
  database, so every worker sees one count). ``CONSOLE_LOCKOUT_FAILURES`` failures lock the
  username for ``CONSOLE_LOCKOUT_MINUTES``; a locked username is refused even with the right
  password, and the answer does not say whether the password was right.
* The answers to an unknown username and a wrong password are the same, and a password is
  checked (and hashed) in both cases, so sign-in does not tell which usernames exist.
* Every sign-in, failure for a real officer, lock, enrolment and sign-out goes into the
  audit chain. Failures for names that are not users are counted but not audited: anyone
  could otherwise fill the chain with invented names.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from console.models import SignInThrottle
from core import audit, clock

DEVICE_NAME = "console"


class SignInRefused(Exception):
    """The step failed; ``message`` is what the officer is told."""

    def __init__(self, message: str, *, locked_until: datetime | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.locked_until = locked_until


def _lock_duration() -> timedelta:
    return timedelta(minutes=settings.CONSOLE_LOCKOUT_MINUTES)


def _locked_message(until: datetime) -> str:
    return (
        "Too many failed attempts: this username is locked until "
        f"{until:%H:%M} UTC. An administrator can unlock it earlier."
    )


def locked_until(username: str, now: datetime | None = None) -> datetime | None:
    now = now or clock.now()
    row = SignInThrottle.objects.filter(username=username).first()
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return row.locked_until
    return None


def _user_exists(username: str) -> bool:
    return get_user_model().objects.filter(username=username).exists()


def record_failure(username: str, *, stage: str) -> datetime | None:
    """Count one failure; returns the lock's end when this failure locked the username."""
    now = clock.now()
    with transaction.atomic():
        row, _ = SignInThrottle.objects.select_for_update().get_or_create(username=username)
        window_over = row.last_failure_at is None or now - row.last_failure_at > _lock_duration()
        lock_over = row.locked_until is not None and row.locked_until <= now
        if window_over or lock_over:
            row.failures, row.locked_until = 0, None
        row.failures += 1
        row.last_failure_at = now
        newly_locked = None
        if row.failures >= settings.CONSOLE_LOCKOUT_FAILURES and row.locked_until is None:
            row.locked_until = newly_locked = now + _lock_duration()
        row.save()
        if _user_exists(username):
            audit.record(
                actor=f"officer:{username}",
                action="console.sign_in_failed",
                object_type="user",
                object_id=username,
                after={"stage": stage, "failures": row.failures},
            )
            if newly_locked is not None:
                audit.record(
                    actor="console",
                    action="console.locked",
                    object_type="user",
                    object_id=username,
                    after={"failures": row.failures, "locked_until": newly_locked.isoformat()},
                )
    return newly_locked


def clear_failures(username: str) -> None:
    SignInThrottle.objects.filter(username=username).delete()


def unlock(*, username: str, actor: str) -> bool:
    """An administrator lifts a lock before it ends; returns whether there was one."""
    with transaction.atomic():
        deleted, _ = SignInThrottle.objects.filter(username=username).delete()
        audit.record(actor=actor, action="console.unlock", object_type="user", object_id=username)
    return bool(deleted)


def check_password(request, username: str, password: str):
    """The first step. Returns the user; raises SignInRefused (counted) otherwise."""
    username = username.strip()
    until = locked_until(username)
    if until is not None:
        raise SignInRefused(_locked_message(until), locked_until=until)
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        newly_locked = record_failure(username, stage="password")
        if newly_locked is not None:
            raise SignInRefused(_locked_message(newly_locked), locked_until=newly_locked)
        raise SignInRefused("The username or password is not right.")
    return user


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def enrolment_device(user) -> TOTPDevice:
    """The unconfirmed device an officer is enrolling, created on first sight; reloading the
    page shows the same secret rather than a new one."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def verify_code(user, device: TOTPDevice, code: str, *, enrolling: bool = False) -> None:
    """The second step: raises SignInRefused (counted against the username) unless ``code``
    is the device's current code. Enrolment confirms the device with its first good code."""
    username = user.get_username()
    until = locked_until(username)
    if until is not None:
        raise SignInRefused(_locked_message(until), locked_until=until)
    code = "".join(code.split())
    if not (code.isdigit() and device.verify_token(code)):
        newly_locked = record_failure(username, stage="enrolment" if enrolling else "code")
        if newly_locked is not None:
            raise SignInRefused(_locked_message(newly_locked), locked_until=newly_locked)
        raise SignInRefused("That code is not right (or was already used). Try the next one.")
    with transaction.atomic():
        if enrolling:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            audit.record(
                actor=f"officer:{username}",
                action="console.totp_enrolled",
                object_type="user",
                object_id=username,
                after={"device": device.persistent_id},
            )
        clear_failures(username)
        audit.record(
            actor=f"officer:{username}",
            action="console.sign_in",
            object_type="user",
            object_id=username,
        )


def record_sign_out(username: str) -> None:
    audit.record(
        actor=f"officer:{username}",
        action="console.sign_out",
        object_type="user",
        object_id=username,
    )


@dataclass(frozen=True)
class PendingSignIn:
    """What the session holds between the password and the code."""

    user_id: int
    at: datetime

    SESSION_KEY = "console.pending_sign_in"

    def store(self, session) -> None:
        session[self.SESSION_KEY] = {"user_id": self.user_id, "at": self.at.isoformat()}

    @classmethod
    def load(cls, session) -> PendingSignIn | None:
        raw = session.get(cls.SESSION_KEY)
        if not raw:
            return None
        pending = cls(raw["user_id"], datetime.fromisoformat(raw["at"]))
        age = clock.now() - pending.at
        if age > timedelta(seconds=settings.CONSOLE_SECOND_FACTOR_SECONDS):
            session.pop(cls.SESSION_KEY, None)
            return None
        return pending

    @classmethod
    def clear(cls, session) -> None:
        session.pop(cls.SESSION_KEY, None)


def base32_secret(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it when typed in, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
