"""Assets, their scales, and the one conversion between decimal strings and minor units.

The ledger stores integer minor units only (DESIGN.md, "Money"): a decimal string from the
API is parsed here, once, at the edge, and turned back into a string only when rendered.
Each asset's scale is defined in exactly one place, :data:`ASSETS`, so "how many places does
USDC have" has a single answer everywhere (API, ledger, proof of reserves, reports).

An amount with more places than the scale is refused, never rounded: silently rounding a
deposit or a withdrawal changes someone's money. The grammar is deliberately narrow (no
exponent, no sign other than a leading minus, no whitespace, ASCII digits only) because
``Decimal`` and ``int`` accept forms such as ``"1e3"``, ``" 1"``, ``"1_000"`` or Arabic-Indic
digits that a client almost certainly did not mean as money. No float appears anywhere.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from types import MappingProxyType

from custody.errors import InvalidAmount, UnknownAsset

AMOUNT_MAX = 2**63 - 1
"""The largest amount, and the largest value of any balance counter, in minor units.

TigerBeetle's ``amount`` is a u128; ours is the largest signed 64-bit integer because the SQL
columns are ``bigint`` on both SQLite and PostgreSQL: a 64-bit column keeps ``SUM`` and the
balance CHECK constraints exact in plain integer arithmetic on both databases (SQLite has no
128-bit integer, and a ``numeric`` column would cost the ledger its speed). The pure ledger
uses the same bound, so the database and the specification refuse the same overflows
(``amount_must_not_exceed_max``, ``overflows_debits``, ``overflows_credits``) instead of
one of them wrapping or raising. At the scales below that is about 9.2 trillion USDC,
92 billion BTC or 9.2 billion ETH."""

_MAX_TEXT_LENGTH = 80
_DECIMAL = re.compile(r"-?([0-9]+)(?:\.([0-9]+))?", re.ASCII)


@dataclass(frozen=True, slots=True)
class Asset:
    """An asset the ledger books; ``scale`` is the number of decimal places of one minor unit."""

    code: str
    scale: int


ASSETS: Mapping[str, Asset] = MappingProxyType(
    {
        asset.code: asset
        for asset in (
            Asset("USDC", 6),
            Asset("USDT", 6),
            Asset("USD", 2),
            Asset("BTC", 8),
            Asset("ETH", 9),
            Asset("USTB", 6),
        )
    }
)
"""Every bookable asset with its fixed scale. USTB is the tokenised US Treasury fund the venue
holds as a real-world asset; its on-chain token has 6 decimals.

ETH is booked in gwei (scale 9), not in wei (18, the chain's own unit): at scale 18 a signed
64-bit balance (:data:`AMOUNT_MAX`) could not even hold 10 ETH. A wei-exact amount is refused
at the edge (more places than the scale are never rounded), so a deposit the chain reports
in wei is booked only when it is a whole number of gwei; dust below a gwei stays with the
custodian and shows up in reconciliation."""


def asset(code: str) -> Asset:
    """The asset for ``code``, refusing anything outside :data:`ASSETS`."""
    try:
        return ASSETS[code]
    except (KeyError, TypeError):
        known = ", ".join(sorted(ASSETS))
        raise UnknownAsset(
            f"unknown asset {code!r}; known assets: {known}", field="asset"
        ) from None


def scale_of(asset_or_scale: Asset | str | int) -> int:
    """Accept an :class:`Asset`, an asset code or a bare scale, and return the scale."""
    if isinstance(asset_or_scale, Asset):
        return asset_or_scale.scale
    if isinstance(asset_or_scale, str):
        return asset(asset_or_scale).scale
    if type(asset_or_scale) is int and asset_or_scale >= 0:
        return asset_or_scale
    raise TypeError(f"expected an Asset, an asset code or a scale, got {asset_or_scale!r}")


def to_minor(
    asset_or_scale: Asset | str | int,
    amount: str | Decimal,
    *,
    allow_zero: bool = False,
    allow_negative: bool = False,
    field: str = "amount",
) -> int:
    """Parse a plain decimal string into integer minor units of the asset's scale.

    Raises :class:`~custody.errors.InvalidAmount` (contract code ``VALIDATION_ERROR``) when
    the text is not a plain decimal, has more places than the scale, is zero or negative
    where that is not allowed, or exceeds :data:`AMOUNT_MAX`. A ``Decimal`` is accepted for
    internal callers and goes through the same grammar; floats and ints are refused because
    an int is ambiguous between major and minor units.
    """
    scale = scale_of(asset_or_scale)
    text = _text_of(amount, field)
    match = _DECIMAL.fullmatch(text) if len(text) <= _MAX_TEXT_LENGTH else None
    if match is None:
        raise InvalidAmount(f"{_shown(text)} is not a plain decimal such as '1000.25'", field=field)
    whole, fraction = match.group(1), match.group(2) or ""
    if len(fraction) > scale:
        raise InvalidAmount(
            f"{text!r} has {len(fraction)} decimal places; at most {scale} are allowed "
            "(amounts are never rounded)",
            field=field,
        )
    negative = text.startswith("-")
    if negative and not allow_negative:
        raise InvalidAmount(f"{text!r} must not be negative", field=field)
    minor = int(whole) * 10**scale + int(fraction.ljust(scale, "0") or "0")
    if minor == 0 and not allow_zero:
        raise InvalidAmount(f"{text!r} must be greater than zero", field=field)
    if minor > AMOUNT_MAX:
        raise InvalidAmount(f"{text!r} exceeds the largest bookable amount", field=field)
    return -minor if negative else minor


def from_minor(asset_or_scale: Asset | str | int, minor: int) -> str:
    """Render integer minor units as a decimal string with exactly ``scale`` places."""
    if type(minor) is not int:
        raise TypeError(f"minor units must be an int, got {type(minor).__name__}")
    scale = scale_of(asset_or_scale)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**scale)
    if scale == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{scale}d}"


def amount_at_scale(asset_or_scale: Asset | str | int, amount: Decimal | str) -> str:
    """An amount in whole units (a margin figure, a balance read back as text) written for
    people at the asset's scale, as :func:`from_minor` writes minor units: ``95.25`` USDC
    is ``95.250000``. Display only: it rounds half-even where :func:`to_minor`, which books
    money, refuses; a float or an int (major or minor units?) is refused."""
    if isinstance(amount, bool | int | float) or not isinstance(amount, Decimal | str):
        raise TypeError(f"expected a Decimal or a decimal string, got {type(amount).__name__}")
    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise ValueError(f"{amount!r} is not a decimal") from None
    if not value.is_finite():
        raise ValueError(f"{amount!r} is not a finite decimal")
    scale = scale_of(asset_or_scale)
    return from_minor(scale, int(value.scaleb(scale).to_integral_value(ROUND_HALF_EVEN)))


def _text_of(amount: object, field: str) -> str:
    if isinstance(amount, str):
        return amount
    if isinstance(amount, Decimal):
        return format(amount, "f")
    raise InvalidAmount(
        f"amount must be a decimal string, got {type(amount).__name__}", field=field
    )


def _shown(text: str) -> str:
    return repr(text) if len(text) <= _MAX_TEXT_LENGTH else f"a {len(text)}-character string"
