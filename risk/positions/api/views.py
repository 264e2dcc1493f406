"""Order events after the check (fills, cancels) and the account's risk view."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core import clock
from core.api.serializers import StrictSerializer
from risk.positions import orders


class FillSerializer(StrictSerializer):
    fill_id = serializers.CharField(max_length=100)
    account_id = serializers.CharField(max_length=100)
    quantity = serializers.DecimalField(max_digits=38, decimal_places=18, min_value=0)
    price = serializers.DecimalField(max_digits=38, decimal_places=18, min_value=0)

    def validate(self, attrs):
        for name in ("quantity", "price"):
            if attrs[name] <= 0:
                raise serializers.ValidationError({name: ["Must be greater than zero."]})
        return attrs


class CancelSerializer(StrictSerializer):
    account_id = serializers.CharField(max_length=100)


_fill_answer = inline_serializer(
    "FillResult",
    {
        "order_id": serializers.CharField(),
        "fill_id": serializers.CharField(),
        "status": serializers.ChoiceField(choices=["applied", "duplicate"]),
        "position": serializers.CharField(),
        "open_quantity": serializers.CharField(),
    },
)


class FillView(APIView):
    required_scope = "pretrade"

    @extend_schema(
        summary="Report a fill (idempotent on fill_id)",
        request=FillSerializer,
        responses={200: _fill_answer},
    )
    def post(self, request, order_id: str):
        body = FillSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        return Response(
            orders.record_fill(
                order_id=order_id,
                fill_id=data["fill_id"],
                account_id=data["account_id"],
                quantity=data["quantity"],
                price=data["price"],
                now=clock.now(),
            )
        )


class CancelView(APIView):
    required_scope = "pretrade"

    @extend_schema(
        summary="Cancel what is left of an order (harmless twice)",
        request=CancelSerializer,
        responses={
            200: inline_serializer(
                "CancelResult",
                {
                    "order_id": serializers.CharField(),
                    "status": serializers.CharField(),
                    "released_quantity": serializers.CharField(),
                },
            )
        },
    )
    def post(self, request, order_id: str):
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(
            orders.cancel(
                order_id=order_id, account_id=body.validated_data["account_id"], now=clock.now()
            )
        )


class RiskView(APIView):
    required_scope = "pretrade"

    @extend_schema(
        summary="Positions, open reservations, margin used and available",
        responses={
            200: inline_serializer(
                "AccountRisk",
                {
                    "account_id": serializers.CharField(),
                    "instruments": serializers.ListField(child=serializers.DictField()),
                    "total": serializers.DictField(),
                },
            )
        },
    )
    def get(self, request, account_id: str):
        return Response(orders.risk_view(account_id))
