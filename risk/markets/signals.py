"""What the markets part announces, for the layers above it that it must not import.

- ``market_events_recorded(events, now)``: the sweeper wrote these ``MarketEvent`` rows (state
  transitions) into the database; oversight raises the officers' alerts from them.
"""

from django.dispatch import Signal

market_events_recorded = Signal()
