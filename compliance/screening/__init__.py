"""Sanctions screening without Django: OFAC's lists parsed into frozen dataclasses
(``sdn``), digital-currency addresses normalised per chain and looked up in O(1)
(``addresses``), names normalised, scored and blocked so that a name is compared only with
the entries that can match it (``names``), and the accuracy of all that measured on variants
of the list itself (``evaluation``).

Everything here is a pure function of its inputs: the database-backed loader, the versions
and the audit trail live elsewhere and call in.
"""
