"""Demo data for ``make run``: the markets and accounts (``risk.demo``), their balances
(``custody.demo``), an operator API key, the console's officers (a maker and a checker).
Loaded once; the credentials file in ``var/`` (development only) keeps the demo key and
passwords so a re-run can show them."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from console.officers import ensure_demo_officers
from core import api_keys, audit, clock
from core.models import ApiKey
from core.redis_client import REDIS_ERRORS
from custody.demo import load_demo_balances
from risk import demo as risk_demo

OPERATOR_KEY_NAME = "demo-operator"
OPERATOR_SCOPES = ["custody", "marketdata", "operator", "pretrade", "reference", "reports"]
OFFICER_USERNAME = "officer"


def load(credentials_file: Path) -> dict:
    """Load what is missing and return the demo credentials. The credentials file keeps
    the demo key and password in ``var/`` (development only) so a re-run can show them."""
    credentials = json.loads(credentials_file.read_text()) if credentials_file.exists() else {}
    with transaction.atomic():
        instruments = risk_demo.load_instruments()
        accounts = risk_demo.load_accounts()
        key_known = ApiKey.objects.filter(name=OPERATOR_KEY_NAME, revoked_at__isnull=True)
        if "api_key" not in credentials or not key_known.exists():
            ApiKey.objects.filter(name=OPERATOR_KEY_NAME).delete()
            _, raw_key = api_keys.create_api_key(
                name=OPERATOR_KEY_NAME, scopes=OPERATOR_SCOPES, actor=risk_demo.ACTOR
            )
            credentials["api_key"] = raw_key
        users = get_user_model().objects
        if "password" not in credentials or not users.filter(username=OFFICER_USERNAME).exists():
            password = secrets.token_urlsafe(12)
            user, _ = users.get_or_create(username=OFFICER_USERNAME)
            user.set_password(password)
            user.is_staff = True
            user.save()
            audit.record(
                actor=risk_demo.ACTOR,
                action="console_user.create",
                object_type="user",
                object_id=OFFICER_USERNAME,
                after={"username": OFFICER_USERNAME},
            )
            credentials["username"], credentials["password"] = OFFICER_USERNAME, password
        credentials = ensure_demo_officers(credentials)
    load_demo_balances()
    try:
        seeded = risk_demo.seed_market_prices(clock.now())
    except REDIS_ERRORS:
        seeded = 0
    credentials_file.parent.mkdir(parents=True, exist_ok=True)
    credentials_file.write_text(json.dumps(credentials, indent=2))
    credentials_file.chmod(0o600)
    return {
        **credentials,
        "instruments_created": instruments,
        "accounts_created": accounts,
        "markets_seeded": seeded,
    }
