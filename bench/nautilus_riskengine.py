"""Run by ``bench_pretrade`` with the Python of a separate venv that has ``nautilus_trader``
(``NAUTILUS_VERSION``): NautilusTrader's own pre-trade ``RiskEngine`` timed on this machine in
the same run as our stateless stage, so that goal is a ratio to a baseline measured beside it.

What is timed: ``RiskEngine.execute(SubmitOrder)`` of a limit order on AUD/USD with a maximum
notional per order configured, debug off, logging off: its checks (trading state, instrument,
price and quantity precision and bounds, notional, reduce-only, submit-rate throttler) and its
hand-off to the execution engine and a mock client — its public path for one order. Orders
and commands are built before the clock starts. Prints one JSON object on its last line.

Written for this bench from NautilusTrader's public API (its unit tests show the wiring); no
code of theirs is copied here. Standard library and nautilus_trader only: it never imports
Gatehouse."""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time


def main(n: int) -> dict:
    from nautilus_trader.common.component import MessageBus, TestClock
    from nautilus_trader.config import ExecEngineConfig, RiskEngineConfig
    from nautilus_trader.core.uuid import UUID4
    from nautilus_trader.execution.engine import ExecutionEngine
    from nautilus_trader.execution.messages import SubmitOrder
    from nautilus_trader.model.currencies import USD
    from nautilus_trader.model.enums import AccountType, OrderSide, OrderStatus
    from nautilus_trader.model.identifiers import ClientId, Venue
    from nautilus_trader.model.objects import Price, Quantity
    from nautilus_trader.portfolio.portfolio import Portfolio
    from nautilus_trader.risk.engine import RiskEngine
    from nautilus_trader.test_kit.mocks.exec_clients import MockExecutionClient
    from nautilus_trader.test_kit.providers import TestInstrumentProvider
    from nautilus_trader.test_kit.stubs.component import TestComponentStubs
    from nautilus_trader.test_kit.stubs.events import TestEventStubs
    from nautilus_trader.test_kit.stubs.identifiers import TestIdStubs
    from nautilus_trader.trading.strategy import Strategy

    instrument = TestInstrumentProvider.default_fx_ccy("AUD/USD")
    clock, trader_id, venue = TestClock(), TestIdStubs.trader_id(), Venue("SIM")
    msgbus = MessageBus(trader_id=trader_id, clock=clock)
    cache = TestComponentStubs.cache()
    portfolio = Portfolio(msgbus=msgbus, cache=cache, clock=clock)
    exec_engine = ExecutionEngine(
        msgbus=msgbus, cache=cache, clock=clock, config=ExecEngineConfig(debug=False)
    )
    risk_engine = RiskEngine(
        portfolio=portfolio,
        msgbus=msgbus,
        cache=cache,
        clock=clock,
        config=RiskEngineConfig(
            debug=False,
            max_order_submit_rate="1000000/00:00:01",
            max_notional_per_order={str(instrument.id): 10_000_000},
        ),
    )
    client = MockExecutionClient(
        client_id=ClientId(venue.value),
        venue=venue,
        account_type=AccountType.MARGIN,
        base_currency=USD,
        msgbus=msgbus,
        cache=cache,
        clock=clock,
    )
    portfolio.update_account(TestEventStubs.margin_account_state())
    exec_engine.register_client(client)
    cache.add_instrument(instrument)
    exec_engine.start()
    risk_engine.start()

    strategy = Strategy()
    strategy.register(
        trader_id=trader_id, portfolio=portfolio, msgbus=msgbus, cache=cache, clock=clock
    )
    commands = []
    for index in range(n):
        order = strategy.order_factory.limit(
            instrument.id,
            OrderSide.BUY if index % 2 else OrderSide.SELL,
            Quantity.from_int(100_000),
            Price.from_str("1.00000"),
        )
        commands.append(
            SubmitOrder(
                trader_id=trader_id,
                strategy_id=strategy.id,
                order=order,
                command_id=UUID4(),
                ts_init=clock.timestamp_ns(),
            )
        )

    execute, now = risk_engine.execute, time.perf_counter_ns
    timings = []
    gc.collect()
    gc.disable()
    try:
        for command in commands:
            started = now()
            execute(command)
            timings.append(now() - started)
    finally:
        gc.enable()
    denied = sum(1 for c in commands if c.order.status == OrderStatus.DENIED)
    if denied:
        raise SystemExit(f"{denied} of {n} orders denied: the timed path is not the accept path")
    warm = sorted(timings[n // 10 :])  # the first tenth warms caches, as the other rows do
    import nautilus_trader

    return {
        "version": nautilus_trader.__version__,
        "median_us": statistics.median(warm) / 1000,
        "p99_us": warm[int(len(warm) * 0.99) - 1] / 1000,
        "n": len(warm),
        "sent": client.calls.count("submit_order"),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)))
