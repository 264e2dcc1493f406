"""Seed the per-session parameters from ``risk.markets.sessions.DEFAULTS`` (RULES.md §4) as version 1
of each row, record version 1 of instruments created before history existed, and schedule the
market sweeper every second on the realtime queue."""

from django.db import migrations
from django.utils import timezone

SEEDED_BY = "seed:RULES.md §4"
SWEEPER_TASK = "risk.tasks.realtime_sweep_markets"
INSTRUMENT_FIELDS = (
    "product_class",
    "underlying",
    "calendar",
    "tier",
    "tick_size",
    "lot_size",
    "max_leverage",
    "max_order_quantity",
    "max_order_notional",
    "max_position_notional",
    "open_interest_cap",
    "is_market_index",
)


def seed_sessions(apps, schema_editor):
    from risk.markets.sessions import DEFAULTS

    SessionParameter = apps.get_model("risk", "SessionParameter")
    SessionParameterVersion = apps.get_model("risk", "SessionParameterVersion")
    now = timezone.now()
    for name, params in DEFAULTS.items():
        values = params.to_dict()
        SessionParameter.objects.update_or_create(
            session=name.value,
            defaults={
                "band_multiplier": params.band_multiplier,
                "leverage_cap_fraction": params.leverage_cap_fraction,
                "position_limit_fraction": params.position_limit_fraction,
                "reference_time_constant_seconds": values["reference_time_constant"] or None,
                "oracle_max_age_seconds": values["oracle_max_age"] or None,
                "version": 1,
                "updated_at": now,
                "updated_by": SEEDED_BY,
            },
        )
        SessionParameterVersion.objects.get_or_create(
            session=name.value,
            version=1,
            defaults={"values": values, "changed_at": now, "changed_by": SEEDED_BY},
        )


def backfill_instrument_versions(apps, schema_editor):
    Instrument = apps.get_model("risk", "Instrument")
    InstrumentVersion = apps.get_model("risk", "InstrumentVersion")
    for instrument in Instrument.objects.all():
        fields = {name: getattr(instrument, name) for name in INSTRUMENT_FIELDS}
        fields = {
            name: value if isinstance(value, bool | int) else str(value)
            for name, value in fields.items()
        }
        InstrumentVersion.objects.get_or_create(
            symbol=instrument.symbol,
            version=instrument.version,
            defaults={
                "fields": fields,
                "changed_at": instrument.updated_at,
                "changed_by": instrument.updated_by,
            },
        )


def schedule_sweeper(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="sweep markets: announce transitions, sample prices",
        defaults={
            "task": SWEEPER_TASK,
            "interval": every_second,
            "queue": "realtime",
            "expires": None,
            "enabled": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0002_markets"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(seed_sessions, migrations.RunPython.noop),
        migrations.RunPython(backfill_instrument_versions, migrations.RunPython.noop),
        migrations.RunPython(schedule_sweeper, migrations.RunPython.noop),
    ]
