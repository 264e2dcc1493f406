"""The custody part's nightly integrity check (picked up by ``compliance.monitors``)."""

from custody.verification import verify_ledger

NIGHTLY_CHECKS = {"custody_ledger": verify_ledger}
