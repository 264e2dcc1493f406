"""Demo collateral: USDC deposited for each demo account into one segregated wallet.

Idempotent by construction: each deposit has a fixed id, so running it again books nothing
new (the ledger answers ``exists``). Called by the demo loader (risk.demo).
"""

from datetime import datetime

from custody import services
from custody.money import to_minor

DEMO_WALLET = "demo-custodian-usdc"
DEMO_BALANCES = {
    "acc-sg": "250000.00",
    "acc-hk": "1000000.00",
    "acc-cn": "50000.00",
    "acc-us": "250000.00",
    "acc-gb": "100000.00",
    "acc-ir": "10000.00",
    "acc-sg-fund": "5000000.00",
}


def load_demo_balances(*, now: datetime | None = None) -> int:
    """Deposit the demo collateral that is not booked yet; how many deposits were new."""
    booked = 0
    for account_id, amount in DEMO_BALANCES.items():
        outcome = services.deposit(
            id=f"demo-deposit-{account_id}-usdc",
            account_id=account_id,
            asset="USDC",
            amount=to_minor("USDC", amount),
            custody_wallet=DEMO_WALLET,
            now=now,
        )
        booked += not outcome.replayed
    return booked
