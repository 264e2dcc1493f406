"""Helpers of the risk tests (the shared fixtures live in ``tests/conftest.py``)."""

from __future__ import annotations

from decimal import Decimal

D = Decimal
