"""What every management command shares: the actor recorded in the audit chain."""

import getpass


def cli_actor() -> str:
    """Commands act as the operating-system user who ran them."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"
