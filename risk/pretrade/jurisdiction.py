"""The jurisdiction gate's verdicts for the orders of one batch (``compliance.access``).

An order is judged by what it does (``checks._jurisdiction``): a reduce-only order only by
the verdict for reducing, any other by the verdict for opening, and by the one for
reducing only when opening is refused. So each (account, address, product class) is
judged once per batch, per action only when some order can use that verdict, with one
GeoIP lookup per address. A verdict an order cannot use is not evaluated and reads
``allow`` in its ``AccessVerdicts``.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from compliance import geoip
from compliance.access import decide
from risk.pretrade.checks import AccessVerdicts, Order

OPEN, REDUCE = "open", "reduce"
ALLOW = "allow"


class BatchVerdicts:
    """The verdicts of one batch (see the module docstring); ``compliance`` is the
    compliance snapshot the batch decides with, ``locate`` the address lookup (GeoIP)."""

    def __init__(self, compliance, now: datetime, locate=None) -> None:
        self.compliance, self.now = compliance, now
        self._lookup = locate or _geoip_lookup
        self._decided: dict[tuple, tuple[str, tuple[dict, ...]]] = {}
        self._located: dict[str, object] = {}

    def clear(self, compliance) -> None:
        """Forget every verdict (the compliance snapshot was rebuilt)."""
        self.compliance = compliance
        self._decided.clear()

    def of(self, order: Order, profile, product: str | None) -> AccessVerdicts:
        opening: tuple[str, tuple[dict, ...]] = (ALLOW, ())
        if not order.reduce_only:
            opening = self._decide(order, profile, product, OPEN)
        reducing: tuple[str, tuple[dict, ...]] = (ALLOW, ())
        if order.reduce_only or opening[0] != ALLOW:
            reducing = self._decide(order, profile, product, REDUCE)
        return AccessVerdicts(opening[0], opening[1], reducing[0], reducing[1])

    def _decide(self, order: Order, profile, product, action: str):
        key = (order.account_id, order.client_ip, product, action)
        found = self._decided.get(key)
        if found is None:
            compliance = self.compliance
            decision = decide(
                compliance.rulebook,
                profile,
                self._locate(order.client_ip),
                product,
                action,
                self.now,
                compliance.defaults,
            )
            found = (decision.effect, tuple(r.as_contract() for r in decision.reasons))
            self._decided[key] = found
        return found

    def _locate(self, address: str | None):
        if address is None:
            return None
        if address not in self._located:
            self._located[address] = self._lookup(address)
        return self._located[address]


def _geoip_lookup(address: str):
    return geoip.get_locator(settings.GEOIP_CITY_DB, settings.GEOIP_ANONYMOUS_DB).lookup(address)
