"""A rule's impact before it is approved (issue 18).

Past access and pre-trade decisions are put again to the gate, each with the inputs its
log kept, twice: through the rulebook it was decided with and through that rulebook with
the draft applied, both at the decision's own instant, with the same pure
``compliance.access.decide``. Where the two answers differ, the draft flipped it.

- ``replay.py``: the replay itself and the flip, pure.
- ``tally.py``: flips counted by source, jurisdiction, product, action and signal, with a
  few examples each, pure and JSON-shaped.
- ``inputs.py``: a logged decision turned back into the gate's inputs (the profile's
  version by ``a<seq>``, the rulebook by ``rb<N>``, the stored location).
- ``access_log.py``: the access decision log as a ``core.registry.DecisionSource`` (risk
  registers its pre-trade decisions the same way).
- ``measure.py``: the background measurement over the logs in chunks, its progress and
  result stored with the draft (``RuleImpact``).
"""
