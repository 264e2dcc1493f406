"""Custody endpoints (scope ``custody``): parse, call one service or selector, render.

Idempotency (API.md): a deposit, withdrawal or transfer repeated with the same id and body
gets the first answer with the same status (201 and the stored transfer, or the stored
refusal); the header ``Idempotent-Replayed: true`` marks a repeat. The same id with another
body is 409 ``IDEMPOTENCY_CONFLICT``. A withdrawal held for review answers 202 with its state
on every repeat (custody.withdrawals).
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core import clock
from core.errors import NotFound, ValidationFailed
from core.errors import error_body as contract_error
from custody import publication, reconciliation, selectors, services, withdrawals
from custody.api.serializers import (
    AccountBalancesSerializer,
    BreakOutSerializer,
    BreakQuerySerializer,
    ErrorSerializer,
    MovementOutSerializer,
    MovementSerializer,
    ProofOutSerializer,
    ProofQuerySerializer,
    ResolveBreakSerializer,
    SegregationOutSerializer,
    SegregationQuerySerializer,
    StatementOutSerializer,
    StatementSerializer,
    TransferBatchOutSerializer,
    TransferBatchSerializer,
    TransferOutSerializer,
    TransferSerializer,
    WithdrawalStatusSerializer,
    render_completed_withdrawal,
    render_held_withdrawal,
    render_movement,
    render_transfer,
)
from custody.models import ReconciliationBreak
from custody.money import from_minor
from custody.reconciliation import StatementBalance
from custody.transfers import Transfer

REPLAYED = "Idempotent-Replayed"


def _errors(*codes: int) -> dict:
    described = {
        400: "invalid input (field errors), or a transfer the ledger refuses as malformed",
        401: "missing or unknown API key",
        403: "the key lacks the custody scope",
        404: "no such account, pending transfer or publication",
        409: "IDEMPOTENCY_CONFLICT: the id was used with a different body",
        422: (
            "INSUFFICIENT_FUNDS, SEGREGATION_VIOLATION, PENDING_TRANSFER_CLOSED; for a "
            "withdrawal JURISDICTION_BLOCKED (the gate denies it) or DEGRADED_FAIL_CLOSED "
            "(the gate cannot decide)"
        ),
    }
    return {code: OpenApiResponse(ErrorSerializer, description=described[code]) for code in codes}


def _accepted(outcome, body: dict) -> Response:
    headers = {REPLAYED: "true"} if outcome.replayed else {}
    return Response(body, status=status.HTTP_201_CREATED, headers=headers)


def _refused(error: services.TransferRefused) -> Response:
    headers = {REPLAYED: "true"} if error.outcome.replayed else {}
    return Response(
        contract_error(error.code, error.message, error.fields),
        status=error.status,
        headers=headers,
    )


class DepositView(APIView):
    required_scope = "custody"

    @extend_schema(
        summary="Book a deposit into a segregated custody wallet",
        description=(
            "Always booked (the money has arrived). A deposit the access gate would deny or "
            "review raises an alert naming the rule."
        ),
        request=MovementSerializer,
        responses={201: MovementOutSerializer, **_errors(400, 401, 403, 409)},
    )
    def post(self, request):
        data = _movement(request)
        try:
            outcome = withdrawals.book_deposit(**data, requested_by=request.user.actor)
        except services.TransferRefused as error:
            return _refused(error)
        return _accepted(outcome, render_movement(outcome.row))


class WithdrawalView(APIView):
    required_scope = "custody"

    @extend_schema(
        summary="A withdrawal, judged by the access gate: booked, held for review or refused",
        description=(
            "The access gate (action `withdraw`) decides first: `deny` is 422 "
            "JURISDICTION_BLOCKED and nothing moves; `review` is 202 with status `held`: the "
            "amount is reserved until an officer releases or refuses it in the console. "
            "Refused (422 INSUFFICIENT_FUNDS) beyond what the account owns free of "
            "reservations."
        ),
        request=MovementSerializer,
        responses={
            201: MovementOutSerializer,
            202: WithdrawalStatusSerializer,
            **_errors(400, 401, 403, 404, 409, 422),
        },
    )
    def post(self, request):
        data = _movement(request)
        try:
            answer = withdrawals.request_withdrawal(**data, requested_by=request.user.actor)
        except services.TransferRefused as error:
            return _refused(error)
        if answer.hold is not None:
            headers = {REPLAYED: "true"} if answer.replayed else {}
            return Response(
                render_held_withdrawal(answer.hold),
                status=status.HTTP_202_ACCEPTED,
                headers=headers,
            )
        return _accepted(answer.outcome, render_movement(answer.outcome.row))


class WithdrawalStatusView(APIView):
    required_scope = "custody"

    @extend_schema(
        summary="A withdrawal's state: completed, held, released or refused, and who decided",
        responses={200: WithdrawalStatusSerializer, **_errors(401, 403, 404)},
    )
    def get(self, request, withdrawal_id: str):
        hold = selectors.held_withdrawal(id=withdrawal_id)
        if hold is not None:
            return Response(render_held_withdrawal(hold))
        row = selectors.booked_withdrawal(id=withdrawal_id)
        if row is None:
            raise NotFound(f"no withdrawal {withdrawal_id}")
        return Response(render_completed_withdrawal(row))


def _movement(request) -> dict:
    """Deposits and withdrawals: the same body."""
    incoming = MovementSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    data = incoming.validated_data
    return {
        "id": data["id"],
        "account_id": data["account_id"],
        "asset": data["asset"],
        "amount": data["amount_minor"],
        "custody_wallet": data["custody_wallet"],
        "client_ip": data.get("client_ip") or None,
        "address": data.get("address") or None,
    }


def _request_of(data: dict) -> Transfer:
    return Transfer(
        id=data["id"],
        debit_account_id=data.get("debit_account_ref"),
        credit_account_id=data.get("credit_account_ref"),
        amount=data["amount_minor"],
        asset=data.get("asset"),
        code=data.get("code"),
        flags=data["flag_set"],
        pending_id=data.get("pending_id"),
        timeout=data["timeout"],
    )


class TransferView(APIView):
    required_scope = "custody"

    @extend_schema(
        summary="A double-entry transfer between ledger accounts (single, pending, post or void)",
        description=(
            "Accounts are `kind:owner` (kinds: client_liability, clearing, custody_wallet, "
            "suspense, house_revenue, insurance_fund, house_wallet) in the transfer's asset; "
            "the venue's own accounts are owned by `venue`. The segregation wall decides "
            "which codes may move value between two kinds (422 SEGREGATION_VIOLATION)."
        ),
        request=TransferSerializer,
        responses={201: TransferOutSerializer, **_errors(400, 401, 403, 404, 409, 422)},
    )
    def post(self, request):
        incoming = TransferSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            outcome = services.transfer(request=_request_of(incoming.validated_data))
        except services.TransferRefused as error:
            return _refused(error)
        return _accepted(outcome, render_transfer(outcome.row))


class TransferBatchView(APIView):
    required_scope = "custody"

    @extend_schema(
        summary="Up to 1000 transfers in one ledger transaction; linked chains all-or-nothing",
        description=(
            "A run of transfers flagged `linked`, closed by the first one without it, applies "
            "all-or-nothing. One result per transfer, in order; the batch itself answers 200."
        ),
        request=TransferBatchSerializer,
        responses={200: TransferBatchOutSerializer, **_errors(400, 401, 403)},
    )
    def post(self, request):
        incoming = TransferBatchSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        requests = [_request_of(item) for item in incoming.validated_data["transfers"]]
        results = []
        for outcome in services.create_transfers(transfers=requests):
            if outcome.accepted:
                results.append(
                    {
                        "id": outcome.transfer_id,
                        "result": "ok",
                        "transfer": render_transfer(outcome.row),
                        "error": None,
                    }
                )
            else:
                refused = services.TransferRefused(outcome)
                results.append(
                    {
                        "id": outcome.transfer_id,
                        "result": outcome.result.value,
                        "transfer": None,
                        "error": contract_error(refused.code, refused.message, refused.fields)[
                            "error"
                        ],
                    }
                )
        return Response({"results": results})


class AccountBalancesView(APIView):
    required_scope = "custody"

    @extend_schema(
        summary="An account's balances per asset: total, reserved and available",
        responses={200: AccountBalancesSerializer, **_errors(401, 403)},
    )
    def get(self, request, account_id: str):
        now = clock.now()
        balances = selectors.client_balances(account_id=account_id, now=now)
        return Response(
            {
                "account_id": account_id,
                "as_of": clock.isoformat_z(now),
                "balances": [
                    {
                        "asset": item.asset,
                        "total": from_minor(item.asset, item.view.total),
                        "reserved": from_minor(item.asset, item.view.reserved),
                        "available": from_minor(item.asset, item.view.available),
                    }
                    for item in balances
                ],
            }
        )


def render_statement(statement) -> dict:
    lines = []
    breaks = 0
    for line in statement.lines.select_related("reconciliation_break").order_by("wallet", "asset"):
        found = getattr(line, "reconciliation_break", None)
        breaks += found is not None
        lines.append(
            {
                "wallet": line.wallet,
                "asset": line.asset_id,
                "amount": from_minor(line.asset_id, line.amount),
                "ledger_amount": from_minor(line.asset_id, line.ledger_amount),
                "difference": from_minor(line.asset_id, line.difference),
                "status": "break" if found else "matched",
                "break_id": found.pk if found else None,
            }
        )
    return {
        "id": statement.pk,
        "custodian": statement.custodian,
        "as_of": clock.isoformat_z(statement.as_of),
        "received_at": clock.isoformat_z(statement.received_at),
        "lines": lines,
        "breaks": breaks,
    }


class StatementView(APIView):
    required_scope = "custody"

    @extend_schema(
        summary="A custodian's balance statement, reconciled against the ledger as of its time",
        request=StatementSerializer,
        responses={201: StatementOutSerializer, **_errors(400, 401, 403, 409)},
    )
    def post(self, request):
        incoming = StatementSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        statement, created = reconciliation.record_statement(
            custodian=data["custodian"],
            as_of=data["as_of"],
            balances=[
                StatementBalance(wallet=b["wallet"], asset=b["asset"], amount=b["amount_minor"])
                for b in data["balances"]
            ],
            actor=request.user.actor,
        )
        headers = {} if created else {REPLAYED: "true"}
        return Response(render_statement(statement), status=201, headers=headers)


def render_break(found: ReconciliationBreak) -> dict:
    asset = found.asset_id
    return {
        "id": found.pk,
        "custodian": found.custodian,
        "wallet": found.wallet,
        "asset": asset,
        "as_of": clock.isoformat_z(found.as_of),
        "statement_amount": from_minor(asset, found.statement_amount),
        "ledger_amount": from_minor(asset, found.ledger_amount),
        "amount": from_minor(asset, found.amount),
        "status": found.status,
        "opened_at": clock.isoformat_z(found.opened_at),
        "resolved_at": clock.isoformat_z(found.resolved_at) if found.resolved_at else None,
        "resolved_by": found.resolved_by,
        "resolution": found.resolution,
    }


class BreakListView(APIView):
    required_scope = "custody"

    @extend_schema(
        summary="Reconciliation breaks (open ones by default)",
        parameters=[BreakQuerySerializer],
        responses={200: BreakOutSerializer(many=True), **_errors(400, 401, 403)},
    )
    def get(self, request):
        query = BreakQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        wanted = query.validated_data["status"]
        breaks = selectors.reconciliation_breaks(
            status=None if wanted == "all" else wanted, asset=query.validated_data.get("asset")
        )
        return Response([render_break(found) for found in breaks[:1000]])


class BreakResolveView(APIView):
    required_scope = "custody"

    @extend_schema(
        summary="Resolve a reconciliation break with what was done (audited)",
        request=ResolveBreakSerializer,
        responses={200: BreakOutSerializer, **_errors(400, 401, 403, 404, 409)},
    )
    def post(self, request, break_id: int):
        incoming = ResolveBreakSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        found = reconciliation.resolve_break(
            break_id=break_id,
            actor=request.user.actor,
            resolution=incoming.validated_data["resolution"],
        )
        return Response(render_break(found))


class SegregationView(APIView):
    required_scope = "custody"

    @extend_schema(
        summary="Segregation statement: client liabilities against segregated assets",
        parameters=[SegregationQuerySerializer],
        responses={200: SegregationOutSerializer, **_errors(400, 401, 403)},
    )
    def get(self, request):
        query = SegregationQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        asset, as_of = query.validated_data["asset"], query.validated_data.get("as_of")
        now = clock.now()
        if as_of is not None and as_of > now:
            raise ValidationFailed(
                "as_of is in the future", fields={"as_of": ["Must not be in the future."]}
            )
        statement = selectors.segregation_statement(asset=asset, now=now, as_of=as_of)
        excess = statement.excess
        return Response(
            {
                "asset": asset,
                "as_of": clock.isoformat_z(statement.as_of),
                "client_liabilities": from_minor(asset, statement.client_liabilities),
                "segregated_assets": from_minor(asset, statement.segregated_assets),
                "excess": from_minor(asset, max(0, excess)),
                "shortfall": from_minor(asset, max(0, -excess)),
                "status": "excess" if excess > 0 else "shortfall" if excess < 0 else "balanced",
                "sweepable": None
                if statement.sweepable is None
                else from_minor(asset, max(0, statement.sweepable)),
            }
        )


class ProofOfReservesView(APIView):
    required_scope = "custody"

    @extend_schema(
        summary="The account's inclusion proof in the latest signed proof-of-reserves tree",
        parameters=[
            ProofQuerySerializer,
            OpenApiParameter("account_id", str, OpenApiParameter.PATH),
        ],
        responses={200: ProofOutSerializer, **_errors(400, 401, 403, 404)},
    )
    def get(self, request, account_id: str):
        query = ProofQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        found = publication.account_proof(
            account_id=account_id, asset=query.validated_data["asset"]
        )
        return Response(
            {
                "account_id": account_id,
                "asset": found.publication.asset_id,
                "balance": found.balance,
                "total": found.total,
                "publication_id": found.publication.publication_id,
                "published_at": clock.isoformat_z(found.publication.published_at),
                "key_id": found.publication.key_id,
                "proof": found.document,
            }
        )
