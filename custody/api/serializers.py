"""Custody input and output. Amounts are decimal strings in the asset's scale, parsed once by
``custody.money.to_minor`` (more places than the scale is a 400 naming the field, never
rounded) and rendered by ``from_minor``; JSON numbers are refused for amounts."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import StrictSerializer
from core.clock import isoformat_z
from custody.errors import CustodyError
from custody.identifiers import is_client_id, is_owner, parse_short_ref, short_ref
from custody.ledger import TransferCode
from custody.money import ASSETS, from_minor, to_minor
from custody.transfers import TIMEOUT_MAX, TransferFlags, flags_text

ASSET_CODES = sorted(ASSETS)
FLAG_NAMES = {member.name.lower(): member for member in TransferFlags if member.value}


@extend_schema_field({"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "example": "1000.25"})
class DecimalStringField(serializers.Field):
    """A JSON string holding a plain decimal; the asset's scale is checked by the serializer."""

    default_error_messages = {"type": 'Must be a decimal string such as "1000.25".'}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("type")
        return data

    def to_representation(self, value):
        return value


class ClientIdField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 100)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not is_client_id(value):
            raise serializers.ValidationError(
                "Letters, digits and . _ : @ + - only, starting with a letter or digit."
            )
        return value


class OwnerField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 100)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not is_owner(value):
            raise serializers.ValidationError(
                "Letters, digits and . _ @ + - only, starting with a letter or digit."
            )
        return value


def _amount(attrs: dict, field: str = "amount", **options) -> int:
    try:
        return to_minor(attrs["asset"], attrs[field], field=field, **options)
    except CustodyError as error:
        raise serializers.ValidationError({field: [error.message]}) from None


class MovementSerializer(StrictSerializer):
    """A deposit or a withdrawal (API.md): the same shape both ways."""

    id = ClientIdField()
    account_id = OwnerField()
    asset = serializers.ChoiceField(choices=ASSET_CODES)
    amount = DecimalStringField()
    custody_wallet = OwnerField()
    client_ip = serializers.IPAddressField(
        required=False,
        allow_null=True,
        help_text="the client's address, for the access gate (optional)",
    )
    address = serializers.RegexField(
        r"^[\x21-\x7e]{8,200}$",
        required=False,
        allow_null=True,
        help_text="the counterparty chain address (optional), screened against sanctions lists",
        error_messages={"invalid": "A chain address: 8 to 200 printable characters, no spaces."},
    )

    def validate(self, attrs):
        attrs["amount_minor"] = _amount(attrs)
        return attrs


class MovementOutSerializer(serializers.Serializer):
    id = serializers.CharField()
    account_id = serializers.CharField()
    asset = serializers.CharField()
    amount = serializers.CharField(help_text="decimal string in the asset's scale")
    custody_wallet = serializers.CharField()
    seq = serializers.IntegerField(help_text="position in the ledger's hash chain")
    created_at = serializers.DateTimeField()
    hash = serializers.CharField()


class WithdrawalStatusSerializer(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.ChoiceField(choices=["completed", "held", "released", "refused"])
    reasons = serializers.ListField(child=serializers.DictField())
    account_id = serializers.CharField()
    asset = serializers.CharField()
    amount = serializers.CharField(help_text="decimal string in the asset's scale")
    custody_wallet = serializers.CharField()
    requested_at = serializers.DateTimeField()
    gate_decision_id = serializers.CharField(allow_null=True)
    proposed_by = serializers.CharField(allow_null=True, help_text="the officer who proposed")
    decided_by = serializers.CharField(
        allow_null=True, help_text="the officer who approved the release or refusal"
    )
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField(allow_null=True)


def render_held_withdrawal(hold) -> dict:
    """A withdrawal held for review, and its decision once an officer took it."""
    return {
        "id": hold.id,
        "status": hold.status,
        "reasons": hold.reasons,
        "account_id": hold.account_id,
        "asset": hold.asset_id,
        "amount": from_minor(hold.asset_id, hold.amount),
        "custody_wallet": hold.custody_wallet,
        "requested_at": isoformat_z(hold.held_at),
        "gate_decision_id": hold.gate_decision_id or None,
        "proposed_by": hold.proposed_by or None,
        "decided_by": hold.decided_by or None,
        "decided_at": isoformat_z(hold.decided_at) if hold.decided_at else None,
        "decision_note": hold.decision_note or None,
    }


def render_completed_withdrawal(row) -> dict:
    """A withdrawal the gate allowed and the ledger booked at once."""
    movement = render_movement(row)
    return {
        "id": movement["id"],
        "status": "completed",
        "reasons": [],
        "account_id": movement["account_id"],
        "asset": movement["asset"],
        "amount": movement["amount"],
        "custody_wallet": movement["custody_wallet"],
        "requested_at": movement["created_at"],
        "gate_decision_id": None,
        "proposed_by": None,
        "decided_by": None,
        "decided_at": None,
        "decision_note": None,
    }


def render_movement(row) -> dict:
    client = row.credit_account_id if row.code == TransferCode.DEPOSIT else row.debit_account_id
    wallet = row.debit_account_id if row.code == TransferCode.DEPOSIT else row.credit_account_id
    return {
        "id": row.transfer_id,
        "account_id": short_ref(client).split(":", 1)[1],
        "asset": row.asset_id,
        "amount": from_minor(row.asset_id, row.amount),
        "custody_wallet": short_ref(wallet).split(":", 1)[1],
        "seq": row.seq,
        "created_at": isoformat_z(row.created_at),
        "hash": row.hash,
    }


class TransferSerializer(StrictSerializer):
    """A transfer in TigerBeetle's shape. Accounts are ``"kind:owner"`` in the transfer's
    asset. A post or void names ``pending_id`` and may leave out the accounts, asset, code and
    amount (then: as the pending transfer, and the full amount)."""

    id = ClientIdField()
    debit_account = serializers.CharField(required=False, max_length=130)
    credit_account = serializers.CharField(required=False, max_length=130)
    asset = serializers.ChoiceField(choices=ASSET_CODES, required=False)
    amount = DecimalStringField(required=False)
    code = serializers.ChoiceField(choices=[c.value for c in TransferCode], required=False)
    flags = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(FLAG_NAMES)), required=False, default=list
    )
    pending_id = ClientIdField(required=False)
    timeout = serializers.IntegerField(
        required=False, default=0, min_value=0, max_value=TIMEOUT_MAX, help_text="seconds"
    )

    def validate(self, attrs):
        flags = TransferFlags.NONE
        for name in attrs.get("flags", []):
            flags |= FLAG_NAMES[name]
        attrs["flag_set"] = flags
        resolving = bool(
            flags & (TransferFlags.POST_PENDING_TRANSFER | TransferFlags.VOID_PENDING_TRANSFER)
        )
        required = (
            () if resolving else ("debit_account", "credit_account", "asset", "amount", "code")
        )
        missing = {name: ["This field is required."] for name in required if name not in attrs}
        if resolving and "amount" in attrs and "asset" not in attrs:
            missing["asset"] = ["Required to read the amount."]
        if missing:
            raise serializers.ValidationError(missing)
        attrs["amount_minor"] = _amount(attrs) if "amount" in attrs else 0
        for name in ("debit_account", "credit_account"):
            if name in attrs:
                if "asset" not in attrs:
                    raise serializers.ValidationError({"asset": ["Required to name accounts."]})
                try:
                    attrs[f"{name}_ref"] = parse_short_ref(attrs[name], attrs["asset"])
                except ValueError as error:
                    raise serializers.ValidationError({name: [str(error)]}) from None
        return attrs


class TransferOutSerializer(serializers.Serializer):
    id = serializers.CharField()
    debit_account = serializers.CharField()
    credit_account = serializers.CharField()
    asset = serializers.CharField()
    amount = serializers.CharField(help_text="for a post: posted; for a void: released")
    code = serializers.CharField()
    flags = serializers.ListField(child=serializers.CharField())
    pending_id = serializers.CharField(allow_null=True)
    timeout = serializers.IntegerField()
    expires_at = serializers.DateTimeField(allow_null=True)
    seq = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    hash = serializers.CharField()


def render_transfer(row) -> dict:
    flags = flags_text(TransferFlags(row.flags))
    return {
        "id": row.transfer_id,
        "debit_account": short_ref(row.debit_account_id),
        "credit_account": short_ref(row.credit_account_id),
        "asset": row.asset_id,
        "amount": from_minor(row.asset_id, row.amount),
        "code": row.code,
        "flags": flags.split(",") if flags else [],
        "pending_id": row.pending_id,
        "timeout": row.timeout,
        "expires_at": isoformat_z(row.expires_at) if row.expires_at else None,
        "seq": row.seq,
        "created_at": isoformat_z(row.created_at),
        "hash": row.hash,
    }


class TransferBatchSerializer(StrictSerializer):
    transfers = TransferSerializer(many=True, allow_empty=False, max_length=1000)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class TransferResultSerializer(serializers.Serializer):
    id = serializers.CharField()
    result = serializers.CharField(help_text="ok, or the ledger's reason (exceeds_credits, ...)")
    transfer = TransferOutSerializer(allow_null=True)
    error = ErrorDetailSerializer(allow_null=True)


class TransferBatchOutSerializer(serializers.Serializer):
    results = TransferResultSerializer(many=True)


class BalanceSerializer(serializers.Serializer):
    asset = serializers.CharField()
    total = serializers.CharField()
    reserved = serializers.CharField(help_text="open pending debits (margin reservations...)")
    available = serializers.CharField(help_text="total - reserved: what may be withdrawn")


class AccountBalancesSerializer(serializers.Serializer):
    account_id = serializers.CharField()
    as_of = serializers.DateTimeField()
    balances = BalanceSerializer(many=True)


class StatementBalanceSerializer(StrictSerializer):
    wallet = OwnerField()
    asset = serializers.ChoiceField(choices=ASSET_CODES)
    amount = DecimalStringField()

    def validate(self, attrs):
        attrs["amount_minor"] = _amount(attrs, allow_zero=True)
        return attrs


class StatementSerializer(StrictSerializer):
    custodian = OwnerField()
    as_of = serializers.DateTimeField()
    balances = StatementBalanceSerializer(many=True, allow_empty=False, max_length=10_000)


class StatementLineOutSerializer(serializers.Serializer):
    wallet = serializers.CharField()
    asset = serializers.CharField()
    amount = serializers.CharField(help_text="as stated by the custodian")
    ledger_amount = serializers.CharField(help_text="the ledger's holding at as_of")
    difference = serializers.CharField(help_text="amount - ledger_amount")
    status = serializers.ChoiceField(choices=["matched", "break"])
    break_id = serializers.IntegerField(allow_null=True)


class StatementOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    custodian = serializers.CharField()
    as_of = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    lines = StatementLineOutSerializer(many=True)
    breaks = serializers.IntegerField(help_text="lines that disagree with the ledger")


class BreakOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    custodian = serializers.CharField()
    wallet = serializers.CharField()
    asset = serializers.CharField()
    as_of = serializers.DateTimeField()
    statement_amount = serializers.CharField()
    ledger_amount = serializers.CharField()
    amount = serializers.CharField(help_text="statement - ledger")
    status = serializers.ChoiceField(choices=["open", "resolved"])
    opened_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolved_by = serializers.CharField()
    resolution = serializers.CharField()


class BreakQuerySerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=["open", "resolved", "all"], default="open")
    asset = serializers.ChoiceField(choices=ASSET_CODES, required=False)


class ResolveBreakSerializer(StrictSerializer):
    resolution = serializers.CharField(max_length=2000)


class SegregationQuerySerializer(StrictSerializer):
    asset = serializers.ChoiceField(choices=ASSET_CODES)
    as_of = serializers.DateTimeField(required=False)


class SegregationOutSerializer(serializers.Serializer):
    asset = serializers.CharField()
    as_of = serializers.DateTimeField()
    client_liabilities = serializers.CharField()
    segregated_assets = serializers.CharField()
    excess = serializers.CharField(help_text="segregated_assets - client_liabilities (>= 0)")
    shortfall = serializers.CharField(help_text="client_liabilities - segregated_assets (>= 0)")
    status = serializers.ChoiceField(choices=["excess", "balanced", "shortfall"])
    sweepable = serializers.CharField(
        allow_null=True, help_text="excess surviving every open pending transfer (now only)"
    )


class ProofQuerySerializer(StrictSerializer):
    asset = serializers.ChoiceField(choices=ASSET_CODES)


class ProofOutSerializer(serializers.Serializer):
    account_id = serializers.CharField()
    asset = serializers.CharField()
    balance = serializers.CharField(help_text="the account's balance counted in the tree")
    total = serializers.CharField(help_text="sum of all client balances in the tree")
    publication_id = serializers.CharField()
    published_at = serializers.DateTimeField()
    key_id = serializers.CharField()
    proof = serializers.DictField(
        help_text="save as a file and check with scripts/verify_por_proof.py and the public key"
    )
