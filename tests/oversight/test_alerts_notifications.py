"""Alert notifications: email through Django's mail backend, a signed webhook against a real
HTTP server that fails first and then accepts; each channel told once per alert."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail

from core import signing
from oversight import alerts, notifications
from oversight.models import AlertDelivery

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 21, 10, tzinfo=UTC)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookServer:
    """A real HTTP server on 127.0.0.1: answers from a script of status codes (then 200)
    and records every request."""

    statuses: list[int]
    received: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks/gatehouse"

    def start(self) -> WebhookServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.received.append(Received(dict(self.headers.items()), body))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    server = WebhookServer(statuses=[500]).start()
    yield server
    server.stop()


def assert_signed(received: Received) -> None:
    headers = {name.lower(): value for name, value in received.headers.items()}
    signer = signing.get_signer()
    assert headers["x-gatehouse-key-id"] == signer.key_id
    assert notifications.verify_webhook_signature(
        signer.public_key,
        timestamp=headers["x-gatehouse-timestamp"],
        body=received.body,
        signature_hex=headers["x-gatehouse-signature"],
    )
    assert not notifications.verify_webhook_signature(
        signer.public_key,
        timestamp=headers["x-gatehouse-timestamp"],
        body=received.body.replace(b"critical", b"info"),
        signature_hex=headers["x-gatehouse-signature"],
    )


def critical(key="segregation.shortfall:USDC"):
    return alerts.raise_alert(
        key=key,
        kind="custody.segregation_shortfall",
        severity="critical",
        title="USDC client money short by 1,000.00",
        detail={"asset": "USDC", "shortfall": "1000.00"},
        now=NOW,
    )


def test_email_goes_once_to_the_configured_recipients(settings):
    settings.ALERT_EMAIL_RECIPIENTS = ["compliance@venue.example", "risk@venue.example"]
    settings.ALERT_WEBHOOK_URL = ""
    alert = critical()
    (delivery_id,) = notifications.dispatch(alert_id=alert.pk, now=NOW)
    assert notifications.dispatch(alert_id=alert.pk, now=NOW) == [delivery_id]
    notifications.deliver(delivery_id=delivery_id, now=NOW)
    notifications.deliver(delivery_id=delivery_id, now=NOW)  # the task ran twice
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["compliance@venue.example", "risk@venue.example"]
    assert message.subject.startswith("[Gatehouse critical]") and "1000.00" in message.body
    delivery = AlertDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.attempts == 1


def test_the_webhook_is_retried_after_a_failure_and_delivered_once(settings, webhook):
    settings.ALERT_EMAIL_RECIPIENTS = []
    settings.ALERT_WEBHOOK_URL = webhook.url
    alert = critical()
    (delivery_id,) = notifications.dispatch(alert_id=alert.pk, now=NOW)

    with pytest.raises(notifications.DeliveryFailed, match="HTTP 500"):
        notifications.deliver(delivery_id=delivery_id, now=NOW)
    failed = AlertDelivery.objects.get(pk=delivery_id)
    assert failed.status == "pending" and failed.attempts == 1 and "500" in failed.last_error
    assert failed.claimed_until is None and failed.next_attempt_at > NOW

    notifications.deliver(delivery_id=delivery_id, now=NOW + timedelta(seconds=2))
    notifications.deliver(delivery_id=delivery_id, now=NOW + timedelta(seconds=3))  # a redelivery

    assert len(webhook.received) == 2  # the failed attempt and the delivery
    delivered = AlertDelivery.objects.get(pk=delivery_id)
    assert delivered.status == "delivered" and delivered.attempts == 2
    body = json.loads(webhook.received[-1].body)
    assert body["event"] == "alert.raised" and body["alert"]["id"] == alert.pk
    assert body["alert"]["severity"] == "critical"
    assert_signed(webhook.received[-1])


def test_a_delivery_leased_by_another_worker_is_not_sent_again(settings, webhook):
    settings.ALERT_WEBHOOK_URL = webhook.url
    alert = critical()
    (delivery_id,) = notifications.dispatch(alert_id=alert.pk, now=NOW)
    AlertDelivery.objects.filter(pk=delivery_id).update(
        claimed_until=NOW + notifications.LEASE
    )  # another worker is sending it right now
    notifications.deliver(delivery_id=delivery_id, now=NOW + timedelta(seconds=1))
    assert webhook.received == []


def test_each_alert_is_told_once_per_channel_whatever_the_repeats(settings, webhook):
    settings.ALERT_EMAIL_RECIPIENTS = ["compliance@venue.example"]
    settings.ALERT_WEBHOOK_URL = webhook.url
    alert = critical()
    critical()  # a repeat in the window: no new alert, no new delivery
    first = notifications.dispatch(alert_id=alert.pk, now=NOW)
    again = notifications.dispatch(alert_id=alert.pk, now=NOW)
    assert sorted(first) == sorted(again)
    assert AlertDelivery.objects.filter(alert=alert).count() == 2


def test_alerts_below_the_notification_severity_are_not_sent(settings):
    settings.ALERT_EMAIL_RECIPIENTS = ["compliance@venue.example"]
    settings.ALERT_NOTIFY_MIN_SEVERITY = "warning"
    info = alerts.raise_alert(
        key="access.anonymizer:ip:198.51.100.7",
        kind="access.anonymizer",
        severity="info",
        title="anonymous visitor on a VPN",
        detail={},
        now=NOW,
    )
    assert notifications.dispatch(alert_id=info.pk, now=NOW) == []
    assert not AlertDelivery.objects.exists()


def test_the_sweep_dispatches_alerts_whose_task_was_lost_and_retries_stalled_ones(settings):
    settings.ALERT_EMAIL_RECIPIENTS = ["compliance@venue.example"]
    alert = critical()  # the notify task never ran (no worker, on_commit not run in tests)
    assert notifications.sweep(now=NOW) == []  # dispatched now, not yet stalled
    delivery = AlertDelivery.objects.get(alert=alert)
    assert notifications.sweep(now=NOW + timedelta(minutes=5)) == [delivery.pk]
    notifications.deliver(delivery_id=delivery.pk, now=NOW + timedelta(minutes=5))
    assert notifications.sweep(now=NOW + timedelta(minutes=10)) == []
    assert len(mail.outbox) == 1


def test_a_delivery_that_keeps_failing_is_given_up(settings):
    settings.ALERT_WEBHOOK_URL = "http://127.0.0.1:9/nothing-listens-here"
    alert = critical()
    (delivery_id,) = notifications.dispatch(alert_id=alert.pk, now=NOW)
    moment = NOW
    for _ in range(notifications.MAX_ATTEMPTS - 1):
        with pytest.raises(notifications.DeliveryFailed):
            notifications.deliver(delivery_id=delivery_id, now=moment)
        moment += timedelta(minutes=1)
    final = notifications.deliver(delivery_id=delivery_id, now=moment)
    assert final.status == "failed" and final.attempts == notifications.MAX_ATTEMPTS
