"""Tables of the markets part: instruments with their history, the per-session parameters,
scheduled corporate-action halts, kill switches, and the durable record of market events and
price samples. Live market state is not here: it lives in one Redis hash per instrument
(``risk.markets.store``), and these tables are its durable shadow and its inputs."""

from django.db import models
from django.db.models import F, Q

PRODUCT_CLASSES = ("equity_perp", "crypto_perp", "rwa_token", "crypto_spot", "stablecoin")
CALENDARS = ("XNYS", "24x7")
SESSION_NAMES = (
    "regular",
    "pre_market",
    "after_hours",
    "overnight",
    "weekend",
    "holiday",
    "continuous",
)
MARKET_STATUSES = ("open", "limit_state", "paused", "halted", "close_only")
CORPORATE_ACTION_KINDS = ("split", "dividend", "earnings", "merger", "other")
KILL_SWITCH_SCOPES = ("global", "account", "instrument")


def _choices(values):
    return [(value, value) for value in values]


def _decimal(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=28, decimal_places=10, **kwargs)


class Instrument(models.Model):
    """A tradable contract with the contract's per-order and platform limits.

    ``version`` grows on every change; the policy snapshot the hot path reads is rebuilt
    when any version changes. At most one instrument is the market index whose moves drive
    the market-wide breakers (RULES.md §2); the database enforces it.
    """

    symbol = models.CharField(max_length=40, unique=True)
    product_class = models.CharField(max_length=20, choices=_choices(PRODUCT_CLASSES))
    underlying = models.CharField(max_length=40)
    calendar = models.CharField(max_length=8, choices=_choices(CALENDARS))
    tier = models.PositiveSmallIntegerField(default=1)
    tick_size = _decimal()
    lot_size = _decimal()
    max_leverage = _decimal()
    max_order_quantity = _decimal()
    max_order_notional = _decimal()
    max_position_notional = _decimal()
    open_interest_cap = _decimal()
    is_market_index = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField()
    updated_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["symbol"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_market_index"],
                condition=Q(is_market_index=True),
                name="one_market_index",
            )
        ]

    def __str__(self) -> str:
        return self.symbol


class InstrumentVersion(models.Model):
    """Every version of every instrument's contract fields, never updated or deleted."""

    symbol = models.CharField(max_length=40, db_index=True)
    version = models.PositiveIntegerField()
    fields = models.JSONField()
    changed_at = models.DateTimeField()
    changed_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["symbol", "version"]
        constraints = [
            models.UniqueConstraint(fields=["symbol", "version"], name="instrument_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.symbol} v{self.version}"


class SessionParameter(models.Model):
    """What changes with the session (``risk.markets.sessions.SessionParameters``), as data an
    officer edits; seeded from ``risk.markets.sessions.DEFAULTS`` (RULES.md §4). Durations are in
    seconds; null means "none" (no EMA time constant, no feed expected)."""

    session = models.CharField(max_length=12, unique=True, choices=_choices(SESSION_NAMES))
    band_multiplier = _decimal()
    leverage_cap_fraction = _decimal()
    position_limit_fraction = _decimal()
    reference_time_constant_seconds = _decimal(null=True, blank=True)
    oracle_max_age_seconds = _decimal(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField()
    updated_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["session"]

    def __str__(self) -> str:
        return self.session


class SessionParameterVersion(models.Model):
    """Every version of every session's parameters."""

    session = models.CharField(max_length=12, db_index=True)
    version = models.PositiveIntegerField()
    values = models.JSONField()
    changed_at = models.DateTimeField()
    changed_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["session", "version"]
        constraints = [
            models.UniqueConstraint(fields=["session", "version"], name="session_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.session} v{self.version}"


class CorporateActionHalt(models.Model):
    """A halt scheduled in advance around a split, dividend or earnings release:
    [starts_at, ends_at). Cancelled windows are kept, marked, never deleted."""

    symbol = models.CharField(max_length=40, db_index=True)
    kind = models.CharField(max_length=12, choices=_choices(CORPORATE_ACTION_KINDS))
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    detail = models.CharField(max_length=500)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["symbol", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="corporate_action_window_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.symbol} {self.kind} {self.starts_at:%Y-%m-%d %H:%M}"


class MarketEvent(models.Model):
    """A change of a market's published state, written once: by an operator's halt or
    resume (``actor`` set), or by the sweeper announcing what the controller recorded.
    Unique on (instrument, at, to_status), so announcing twice writes one row."""

    instrument = models.CharField(max_length=40)
    at = models.DateTimeField()
    from_status = models.CharField(max_length=12, choices=_choices(MARKET_STATUSES))
    to_status = models.CharField(max_length=12, choices=_choices(MARKET_STATUSES))
    reason = models.CharField(max_length=60)
    until = models.DateTimeField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True, default="")
    actor = models.CharField(max_length=200, blank=True, default="")
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["at", "instrument"]
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "at", "to_status"], name="market_event_once"
            )
        ]
        indexes = [models.Index(fields=["instrument", "-at"], name="market_event_recent")]

    def __str__(self) -> str:
        return f"{self.instrument} {self.from_status}->{self.to_status} {self.reason}"


class KillSwitch(models.Model):
    """The current position of one kill switch: venue-wide (``global``, target ""), one
    account, or one instrument. History is in ``KillSwitchEvent`` and the audit chain."""

    scope = models.CharField(max_length=12, choices=_choices(KILL_SWITCH_SCOPES))
    target = models.CharField(max_length=100, blank=True, default="")
    engaged = models.BooleanField(default=False)
    reason = models.CharField(max_length=500, blank=True, default="")
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField()
    updated_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["scope", "target"]
        constraints = [models.UniqueConstraint(fields=["scope", "target"], name="kill_switch_once")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.target or '*'} {'engaged' if self.engaged else 'released'}"


class KillSwitchEvent(models.Model):
    """Every engagement and release, never updated or deleted."""

    scope = models.CharField(max_length=12, choices=_choices(KILL_SWITCH_SCOPES))
    target = models.CharField(max_length=100, blank=True, default="")
    engaged = models.BooleanField()
    reason = models.CharField(max_length=500, blank=True, default="")
    at = models.DateTimeField()
    actor = models.CharField(max_length=200)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.scope}:{self.target or '*'} {'engage' if self.engaged else 'release'}"


class PriceSample(models.Model):
    """Reference price, band and the venue's own price (the last ``book`` mark, when it is
    fresh) of one instrument, sampled once a minute for the console's chart. Never used for
    a decision."""

    instrument = models.CharField(max_length=40)
    at = models.DateTimeField()
    session = models.CharField(max_length=12)
    state = models.CharField(max_length=12)
    reference_price = _decimal(null=True, blank=True)
    band_lower = _decimal(null=True, blank=True)
    band_upper = _decimal(null=True, blank=True)
    book_price = _decimal(null=True, blank=True)

    class Meta:
        ordering = ["instrument", "at"]
        constraints = [
            models.UniqueConstraint(fields=["instrument", "at"], name="price_sample_once")
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.at:%Y-%m-%d %H:%M}"


class PretradeDecision(models.Model):
    """The durable record of one pre-trade decision, drained from the account buckets'
    streams. One per (account, order_id): the idempotency key of the contract."""

    account_id = models.CharField(max_length=100)
    order_id = models.CharField(max_length=100)
    instrument = models.CharField(max_length=40, db_index=True)
    side = models.CharField(max_length=4)
    quantity = models.CharField(max_length=40)
    price = models.CharField(max_length=40, blank=True, default="")
    order_type = models.CharField(max_length=6)
    reduce_only = models.BooleanField(default=False)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    decision = models.CharField(max_length=6, db_index=True)
    reason_codes = models.CharField(max_length=500, blank=True, default="", db_index=True)
    reasons = models.JSONField(default=list)
    reservation = models.JSONField(null=True, blank=True)
    policy_version = models.CharField(max_length=60)
    evaluated_at = models.DateTimeField(db_index=True)
    fingerprint = models.CharField(max_length=64)
    lots = models.BigIntegerField(default=0)
    margin_micro = models.BigIntegerField(default=0)
    reduces = models.BooleanField(default=False)

    class Meta:
        ordering = ["-evaluated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account_id", "order_id"], name="one_decision_per_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id}/{self.order_id} {self.decision}"


class OrderFill(models.Model):
    """A fill reported by the venue, made durable before it moves live state (positions are
    rebuilt from these after a Redis loss)."""

    account_id = models.CharField(max_length=100)
    fill_id = models.CharField(max_length=100)
    order_id = models.CharField(max_length=100, db_index=True)
    instrument = models.CharField(max_length=40)
    side = models.CharField(max_length=4)
    quantity = _decimal()
    price = _decimal()
    lots = models.BigIntegerField()
    filled_at = models.DateTimeField()

    class Meta:
        ordering = ["filled_at"]
        constraints = [
            models.UniqueConstraint(fields=["account_id", "fill_id"], name="one_fill_per_id")
        ]

    def __str__(self) -> str:
        return f"{self.account_id}/{self.order_id} fill {self.fill_id}"


class OrderCancel(models.Model):
    """A cancel that released a reservation (recorded for the resync and the audit trail)."""

    account_id = models.CharField(max_length=100)
    order_id = models.CharField(max_length=100)
    released_lots = models.BigIntegerField()
    cancelled_at = models.DateTimeField()

    class Meta:
        ordering = ["cancelled_at"]
        constraints = [
            models.UniqueConstraint(fields=["account_id", "order_id"], name="one_cancel_per_order")
        ]

    def __str__(self) -> str:
        return f"{self.account_id}/{self.order_id} cancelled"
