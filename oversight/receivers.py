"""What oversight listens to: the ledger's announcements (reconciliation breaks,
segregation shortfalls, large withdrawals) and the markets' recorded transitions become
alerts (the parts never import oversight); a raised alert queues its notification."""

from __future__ import annotations

from oversight import tasks
from oversight.alerts import alert_raised
from oversight.monitors import custody
from oversight.monitors.pretrade import announce_market_events
from risk.markets.signals import market_events_recorded


def connect() -> None:
    custody.connect()
    market_events_recorded.connect(on_market_events, dispatch_uid="alerts-market-events")
    alert_raised.connect(on_alert_raised, dispatch_uid="alerts-notify")


def on_alert_raised(sender, *, alert_id, **kwargs) -> None:
    tasks.notify_alert.delay(alert_id)


def on_market_events(sender, *, events, now, **kwargs) -> None:
    announce_market_events(events, now=now)
