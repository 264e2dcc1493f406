"""The demo's live market (``make run``, off with ``DEMO_FEED=0``, never in production).

Without a feed the demo goes quiet: every market's oracle goes stale within a minute and the
board turns ``close_only`` (issue 18). This package plays the outside world through the public
API, as a real price feed and real traders would:

- ``walk``: each instrument's fair price, a random walk with drift and jumps scaled to its
  product class; every step's randomness a pure function of (seed, instrument, step);
- ``schedule``: which ticks the outside world sends at an instant (XNYS sessions: the
  underlying's feed in regular and extended hours, the official close, the book always);
- ``episodes``: now and then a move that trips a breaker (a LULD limit state, a LULD pause, a
  velocity pause), so the board shows the safety machinery working;
- ``traders``: demo accounts sending orders from their own IPs, some of them refused for real
  reasons, and the fills and cancels of those accepted;
- ``venue``: the HTTP client; ``keys``: the feed's own API keys;
- ``feed``: one step of all of it, the unit the tests drive with a manual clock.
"""
