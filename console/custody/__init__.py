"""The custody console pieces: manual ledger adjustments (four eyes) and the custody page."""
