"""Digital-currency addresses: one canonical spelling per address, and an O(1) index.

OFAC lists an address under one asset (``ETH``, ``XBT``, ``USDT``, ...) but USDT and USDC
live on several chains and an EVM address is the same key on every EVM chain, so the
address's *shape* decides how it is normalised and the asset is only a hint: a listed
address is the listed person's whatever asset it is asked about.

Shapes, in the order they are tried:

- **EVM** (``0x`` + 40 hex): hex is case-insensitive and EIP-55's mixed case is only a
  checksum, so the canonical form is lower case. The EIP-55 checksum is not verified: that
  needs Keccak-256, which the standard library lacks, and a typo cannot match a listed
  address anyway.
- **Bech32 / bech32m** (BIP 173 / BIP 350: ``bc1…``, ``tb1…``, ``ltc1…``): the encoding is
  case-insensitive but must be all one case, so the canonical form is lower case and mixed
  case is refused. The shape is only taken as bech32 when its checksum verifies, because
  base58 addresses can also contain a ``1`` after some letters (``Ltc1…`` would otherwise
  be refused as mixed-case bech32).
- **CashAddr** (Bitcoin Cash, ``bitcoincash:q…``): the same rules as bech32 (one case,
  checksum over the prefix), and the prefix is optional in practice (OFAC's list writes the
  payload alone), so the canonical form is the lower-case payload without the prefix.
- **Everything else** (base58 BTC/LTC/TRX/DASH/ZEC/XRP, Monero, hex keys): case is part of
  the address, so it is kept exactly as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from types import MappingProxyType

_EVM = re.compile(r"0[xX][0-9a-fA-F]{40}")
_PRINTABLE = re.compile(r"[!-~]+")
_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_VALUES = MappingProxyType({char: value for value, char in enumerate(_BECH32_CHARSET)})
_BECH32_CONSTANTS = frozenset({1, 0x2BC830A3})
"""BIP 173's bech32 and BIP 350's bech32m checksum constants."""
_BECH32_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_CASHADDR_PREFIXES = ("bitcoincash", "bchtest", "bchreg")
_CASHADDR_GENERATOR = (0x98F2BC8E61, 0x79B76D99E2, 0xF33E5FB3C4, 0xAE2EABE2A8, 0x1E4F43E470)


def normalise_address(asset: str, address: str) -> str:
    """The canonical spelling of ``address`` (see the module docstring for the rules);
    ``ValueError`` for text that cannot be an address, so callers can answer 400."""
    del asset  # a hint only: the shape decides (see the module docstring)
    text = address.strip()
    if not text:
        raise ValueError("an address cannot be empty")
    if not _PRINTABLE.fullmatch(text):
        raise ValueError(
            f"address {text!r} contains whitespace or characters outside printable ASCII"
        )
    if _EVM.fullmatch(text):
        return "0x" + text[2:].lower()
    lower = text.lower()
    canonical = lower if _is_bech32(lower) else _cashaddr_payload(lower)
    if canonical is None:
        return text
    if text not in (lower, text.upper()):
        raise ValueError(f"address {text!r} mixes upper and lower case, invalid for bech32")
    return canonical


def _is_bech32(text: str) -> bool:
    hrp, separator, data = text.rpartition("1")
    if not separator or not hrp or len(data) < 6 or len(text) > 90:
        return False
    if any(char not in _BECH32_VALUES for char in data):
        return False
    expanded = [ord(char) >> 5 for char in hrp] + [0] + [ord(char) & 31 for char in hrp]
    values = expanded + [_BECH32_VALUES[char] for char in data]
    return _polymod(values, _BECH32_GENERATOR, 25, 0x1FFFFFF) in _BECH32_CONSTANTS


def _cashaddr_payload(text: str) -> str | None:
    """The payload of a CashAddr whose checksum verifies under its prefix (or, when it has
    none, under any known prefix); ``None`` for anything else. Only P2PKH and P2SH payloads
    (``q…``/``p…``, 42 characters or more) are tried: the checksum is computed in Python
    and need not be, for the base58 addresses that make up most lookups."""
    prefix, separator, payload = text.rpartition(":")
    prefixes = (prefix,) if separator else _CASHADDR_PREFIXES
    if prefix and prefix not in _CASHADDR_PREFIXES:
        return None
    if len(payload) < 42 or payload[0] not in "qp":
        return None
    if any(char not in _BECH32_VALUES for char in payload):
        return None
    data = [_BECH32_VALUES[char] for char in payload]
    for candidate in prefixes:
        values = [ord(char) & 31 for char in candidate] + [0] + data
        if _polymod(values, _CASHADDR_GENERATOR, 35, 0x07FFFFFFFF) == 1:
            return payload
    return None


def _polymod(values: list[int], generator: tuple[int, ...], shift: int, mask: int) -> int:
    """The BCH-code checksum shared by bech32 (BIP 173) and CashAddr, parameterised by
    generator and width; a valid string leaves the scheme's constant."""
    checksum = 1
    for value in values:
        top = checksum >> shift
        checksum = ((checksum & mask) << 5) ^ value
        for bit, coefficient in enumerate(generator):
            if (top >> bit) & 1:
                checksum ^= coefficient
    return checksum


@dataclass(frozen=True, slots=True)
class AddressHit:
    """One listing of an address: ``address`` as the list writes it; ``entry_id`` is the SDN
    ``ent_num``, ``None`` when the address came from the address lists only."""

    asset: str
    address: str
    entry_id: int | None


class AddressIndex:
    """Every listed address under its canonical spelling: a lookup is one dict access.

    Built once and never mutated, so concurrent lookups need no lock."""

    __slots__ = ("_hits",)

    def __init__(self, triples: Iterable[tuple[str, str, int | None]]) -> None:
        hits: dict[str, dict[AddressHit, None]] = {}
        for asset, address, entry_id in triples:
            key = normalise_address(asset, address)
            hit = AddressHit(asset.upper(), address.strip(), entry_id)
            hits.setdefault(key, {})[hit] = None
        self._hits = {key: tuple(found) for key, found in hits.items()}

    def lookup(self, address: str, asset: str | None = None) -> tuple[AddressHit, ...]:
        """Every listing of ``address`` under any asset, or ``()``; ``ValueError`` when
        ``address`` is malformed (``normalise_address``)."""
        return self._hits.get(normalise_address(asset or "", address), ())

    def __len__(self) -> int:
        return len(self._hits)

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str):
            return False
        try:
            return bool(self.lookup(address))
        except ValueError:
            return False
