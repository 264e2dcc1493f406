"""Telling people about alerts: email through Django's mail backends and a signed webhook.

What notifies (issue 18): an alert that opens an incident, or raises its incident's
severity (``Alert.notify``, decided when it is raised). A repeat folded into an alert, or an
alert that joins an incident at its severity, does not: ten markets going stale together
are one message, and an instrument flipping all afternoon is one message, not one per
flip. The console shows the rest.

Each notifying alert is told once per channel. ``dispatch`` writes one ``AlertDelivery`` per
configured channel (unique per alert and channel, recording where it goes), and ``deliver``
sends it under a lease: the worker that wins the conditional update that sets
``claimed_until`` is the only one sending, so a task delivered twice by the broker, or a
sweep racing a retry, does not send twice. A worker that dies between sending and marking
the delivery lets its lease expire and the delivery is sent again — the one duplicate no
sender can rule out, which is why the webhook carries ``X-Gatehouse-Delivery`` for the
receiver to de-duplicate on.

The webhook body is JSON, signed with the service's Ed25519 key (the one that signs audit
checkpoints and reports; public key at ``/api/v1/signing/public-key``) over a domain tag,
the timestamp and the body, so a receiver can reject forgeries and replays without a shared
secret to distribute.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q

from core import signing
from core.clock import isoformat_z
from oversight.alerts import severity_rank
from oversight.models import Alert, AlertDelivery

logger = logging.getLogger("gatehouse.notifications")

WEBHOOK_DOMAIN = b"gatehouse/alert-webhook/v1\x00"
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 12
STALLED_AFTER = timedelta(minutes=2)
SWEEP_LOOKBACK = timedelta(days=2)


class DeliveryFailed(Exception):
    """A channel refused or did not answer; the delivery will be tried again."""


def _recipients() -> list[str]:
    value = getattr(settings, "ALERT_EMAIL_RECIPIENTS", []) or []
    if isinstance(value, str):
        value = value.split(",")
    return sorted({address.strip() for address in value if address.strip()})


def configured_channels() -> dict[str, str]:
    """Channel → target, for the channels that are switched on in settings."""
    channels = {}
    recipients = _recipients()
    if recipients:
        channels["email"] = ",".join(recipients)
    url = (getattr(settings, "ALERT_WEBHOOK_URL", "") or "").strip()
    if url:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"ALERT_WEBHOOK_URL must be http(s), not {url!r}")
        channels["webhook"] = url
    return channels


def _min_severity() -> str:
    return getattr(settings, "ALERT_NOTIFY_MIN_SEVERITY", "warning")


def dispatch(*, alert_id: int, now: datetime) -> list[int]:
    """Create the alert's deliveries (once per channel) and return the ids still to send."""
    alert = Alert.objects.filter(pk=alert_id).first()
    if (
        alert is None
        or not alert.notify
        or severity_rank(alert.severity) < severity_rank(_min_severity())
    ):
        return []
    with transaction.atomic():
        for channel, target in configured_channels().items():
            AlertDelivery.objects.get_or_create(
                alert=alert,
                channel=channel,
                defaults={"target": target, "created_at": now, "next_attempt_at": now},
            )
    return list(
        AlertDelivery.objects.filter(alert=alert, status="pending").values_list("id", flat=True)
    )


def sweep(*, now: datetime) -> list[int]:
    """Deliveries whose task was lost (broker down when the alert was raised, a worker
    killed, retries exhausted): dispatch recent alerts that have none and return the
    pending deliveries that nobody is working on."""
    minimum = severity_rank(_min_severity())
    channels = set(configured_channels())
    recent = Alert.objects.filter(
        first_seen__gte=now - SWEEP_LOOKBACK, notify=True
    ).prefetch_related("deliveries")
    for alert in recent:
        if severity_rank(alert.severity) >= minimum and not channels <= {
            delivery.channel for delivery in alert.deliveries.all()
        }:
            dispatch(alert_id=alert.pk, now=now)
    stalled = AlertDelivery.objects.filter(
        status="pending", next_attempt_at__lte=now - STALLED_AFTER
    ).filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    return list(stalled.values_list("id", flat=True))


def alert_payload(alert: Alert) -> dict:
    return {
        "id": alert.pk,
        "key": alert.dedup_key,
        "kind": alert.kind,
        "severity": alert.severity,
        "title": alert.title,
        "detail": alert.detail,
        "status": alert.status,
        "occurrences": alert.occurrences,
        "first_seen": isoformat_z(alert.first_seen),
        "last_seen": isoformat_z(alert.last_seen),
        "incident": alert.incident_id,
    }


def webhook_message(timestamp: str, body: bytes) -> bytes:
    """What the webhook signature covers: domain tag, timestamp, a dot, the exact body."""
    return WEBHOOK_DOMAIN + timestamp.encode() + b"." + body


def verify_webhook_signature(
    public_key: Ed25519PublicKey, *, timestamp: str, body: bytes, signature_hex: str
) -> bool:
    """For receivers (and tests): does ``X-Gatehouse-Signature`` sign this body?"""
    return signing.verify(public_key, webhook_message(timestamp, body), signature_hex)


def _send_email(alert: Alert, recipients: str) -> None:
    detail = orjson.dumps(alert.detail, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    body = (
        f"{alert.title}\n\n"
        f"severity: {alert.severity}\nkind: {alert.kind}\nkey: {alert.dedup_key}\n"
        f"first seen: {isoformat_z(alert.first_seen)}\nalert id: {alert.pk}\n"
        f"incident: {alert.incident_id} (later alerts of the same cause join it without "
        "another message; see the console)\n\n"
        f"{detail.decode()}\n"
    )
    message = EmailMessage(
        subject=f"[Gatehouse {alert.severity}] {alert.title}",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients.split(","),
        headers={"X-Gatehouse-Alert": str(alert.pk)},
    )
    message.send(fail_silently=False)


def _post_webhook(alert: Alert, delivery: AlertDelivery, now: datetime) -> None:
    if urlsplit(delivery.target).scheme not in ("http", "https"):
        raise DeliveryFailed(f"not an http(s) URL: {delivery.target}")
    body = orjson.dumps({"event": "alert.raised", "alert": alert_payload(alert)})
    timestamp = str(int(now.timestamp()))
    signature = signing.get_signer().sign(webhook_message(timestamp, body))
    request = urllib.request.Request(delivery.target, data=body, method="POST")  # noqa: S310 (scheme checked above)
    request.add_header("Content-Type", "application/json")
    request.add_header("X-Gatehouse-Delivery", str(delivery.pk))
    request.add_header("X-Gatehouse-Timestamp", timestamp)
    request.add_header("X-Gatehouse-Key-Id", signature.key_id)
    request.add_header("X-Gatehouse-Signature", signature.signature_hex)
    timeout = settings.ALERT_WEBHOOK_TIMEOUT  # seconds, parsed by env.float in settings
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"webhook answered HTTP {error.code}") from error
    except (urllib.error.URLError, OSError) as error:
        raise DeliveryFailed(f"webhook unreachable: {error}") from error


def _claim(delivery_id: int, now: datetime) -> bool:
    return bool(
        AlertDelivery.objects.filter(pk=delivery_id, status="pending")
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + LEASE)
    )


def deliver(*, delivery_id: int, now: datetime) -> AlertDelivery:
    """Send one delivery unless it was sent already or another worker holds its lease.
    Raises ``DeliveryFailed`` when the channel failed and another attempt should follow."""
    if not _claim(delivery_id, now):
        return AlertDelivery.objects.get(pk=delivery_id)
    delivery = AlertDelivery.objects.select_related("alert").get(pk=delivery_id)
    attempts = delivery.attempts + 1
    try:
        if delivery.channel == "email":
            _send_email(delivery.alert, delivery.target)
        else:
            _post_webhook(delivery.alert, delivery, now)
    except Exception as error:
        give_up = attempts >= MAX_ATTEMPTS
        AlertDelivery.objects.filter(pk=delivery_id).update(
            attempts=attempts,
            last_error=str(error)[:2000],
            status="failed" if give_up else "pending",
            next_attempt_at=now + timedelta(seconds=min(600, 2**attempts)),
            claimed_until=None,
        )
        if give_up:
            logger.error("alert delivery %s failed for good: %s", delivery_id, error)
            return AlertDelivery.objects.get(pk=delivery_id)
        raise DeliveryFailed(str(error)) from error
    AlertDelivery.objects.filter(pk=delivery_id).update(
        attempts=attempts, status="delivered", delivered_at=now, claimed_until=None, last_error=""
    )
    return AlertDelivery.objects.get(pk=delivery_id)
