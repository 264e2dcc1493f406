"""Console fixtures: officers with roles and a confirmed TOTP device, and Django test
clients signed in as them (password and second factor, as the middleware sees it)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from console.roles import ROLES, set_roles


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: drives real Chromium with Playwright against a live server"
    )


PASSWORD = "correct horse battery staple 42"


@pytest.fixture(autouse=True)
def _console_state(request):
    """A fresh Redis (the policy snapshot reads its version there) and no cached chain
    status from another test's database. Browser tests share one live server per module,
    whose Redis state must outlive each test."""
    from django.core.cache import cache

    if request.node.get_closest_marker("browser") is None:
        request.getfixturevalue("redis_conn")
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_officer(db):
    def _make(username: str, *roles: str, enrolled: bool = True):
        user = get_user_model().objects.create_user(username=username, password=PASSWORD)
        set_roles(user, roles)
        device = None
        if enrolled:
            device = TOTPDevice.objects.create(user=user, name="console", confirmed=True)
        user.test_device = device
        return user

    return _make


def signed_in_client(user) -> Client:
    """A client whose session has passed both factors."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = user.test_device.persistent_id
    session.save()
    return client


@pytest.fixture
def officer_client(make_officer):
    """``officer_client("compliance_officer")`` → (client, user) for a new officer."""
    counter = {"n": 0}

    def _client(*roles: str):
        counter["n"] += 1
        user = make_officer(f"officer{counter['n']}", *roles)
        return signed_in_client(user), user

    return _client


ALL_ROLES = ROLES


def make_instrument(symbol: str, **overrides):
    from decimal import Decimal

    from core import clock
    from risk.models import Instrument

    fields = {
        "product_class": "equity_perp",
        "underlying": symbol.split("-")[0],
        "calendar": "XNYS",
        "tier": 1,
        "tick_size": Decimal("0.01"),
        "lot_size": Decimal("0.01"),
        "max_leverage": Decimal("20"),
        "max_order_quantity": Decimal("10000"),
        "max_order_notional": Decimal("2000000"),
        "max_position_notional": Decimal("5000000"),
        "open_interest_cap": Decimal("500000"),
        "updated_at": clock.now(),
        "updated_by": "test",
        **overrides,
    }
    return Instrument.objects.create(symbol=symbol, **fields)
