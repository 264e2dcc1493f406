"""Custody ledger tables (see custody/ledger.py for the rules they enforce)."""
