"""Pre-trade endpoints (hot path): single and batch checks. Order events and the risk view
are in ``orders_views``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers

from core import clock
from core.errors import IdempotencyConflict
from core.hot_api import HotApiView
from risk.pretrade import check as pretrade
from risk.pretrade.api import parsing

_reason = inline_serializer(
    "PretradeReason",
    {
        "code": serializers.CharField(),
        "check": serializers.CharField(),
        "message": serializers.CharField(),
        "detail": serializers.DictField(),
    },
    many=True,
)
_order_fields = {
    "order_id": serializers.CharField(),
    "account_id": serializers.CharField(),
    "instrument": serializers.CharField(),
    "side": serializers.ChoiceField(choices=["buy", "sell"]),
    "quantity": serializers.CharField(help_text="decimal string"),
    "price": serializers.CharField(
        required=False, allow_null=True, help_text="decimal string; null for market orders"
    ),
    "order_type": serializers.ChoiceField(choices=["limit", "market"]),
    "reduce_only": serializers.BooleanField(required=False),
    "client_ip": serializers.IPAddressField(required=False, allow_null=True),
    "leverage": serializers.CharField(
        required=False,
        allow_null=True,
        help_text="decimal string; default and maximum: the session's leverage cap",
    ),
}
_decision_fields = {
    "order_id": serializers.CharField(),
    "decision": serializers.ChoiceField(choices=["accept", "reject"]),
    "reasons": _reason,
    "reservation": inline_serializer(
        "Reservation",
        {"quantity": serializers.CharField(), "margin": serializers.CharField()},
        allow_null=True,
    ),
    "policy_version": serializers.CharField(),
    "evaluated_at": serializers.DateTimeField(),
    "latency_us": serializers.IntegerField(),
}


class PretradeCheckView(HotApiView):
    required_scope = "pretrade"
    request_struct = parsing.OrderBody

    @extend_schema(
        summary="Check one order before it trades",
        request=inline_serializer("PretradeOrder", _order_fields),
        responses={200: inline_serializer("PretradeDecision", _decision_fields)},
    )
    def post(self, request, *args, **kwargs):
        raise NotImplementedError  # served by HotApiView.dispatch

    def handle(self, body, principal, request):
        order, canonical = parsing.order_from(body)
        answer = pretrade.check_one(order, pretrade.fingerprint(canonical))
        if "error" in answer:
            raise IdempotencyConflict(answer["error"]["message"], fields=answer["error"]["fields"])
        return 200, answer


class PretradeBatchView(HotApiView):
    required_scope = "pretrade"
    request_struct = parsing.BatchBody

    @extend_schema(
        summary="Check up to 1,000 orders; results in the same order",
        request=inline_serializer(
            "PretradeBatch",
            {"orders": inline_serializer("PretradeBatchOrder", _order_fields, many=True)},
        ),
        responses={
            200: inline_serializer(
                "PretradeBatchResults",
                {
                    "results": inline_serializer(
                        "PretradeBatchDecision", _decision_fields, many=True
                    )
                },
            )
        },
    )
    def post(self, request, *args, **kwargs):
        raise NotImplementedError  # served by HotApiView.dispatch

    def handle(self, body, principal, request):
        parsed = parsing.batch_from(body)
        orders = [(order, pretrade.fingerprint(canonical)) for order, canonical in parsed]
        return 200, {"results": pretrade.check_orders(orders, now=clock.now())}
