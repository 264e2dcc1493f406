"""Jurisdiction gate endpoints: the access check (hot path) and account profiles."""

from __future__ import annotations

import ipaddress
from typing import Literal

import msgspec
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance import gate, selectors, services
from compliance.api.serializers import AccountProfileSerializer
from core import clock
from core.errors import NotFound, ValidationFailed
from core.hot_api import HotApiView

ProductClass = Literal["equity_perp", "crypto_perp", "rwa_token", "crypto_spot", "stablecoin"]
Action = Literal["open", "reduce", "deposit", "withdraw", "view"]


class AccessCheckRequest(msgspec.Struct, forbid_unknown_fields=True):
    client_ip: str
    product_class: ProductClass
    action: Action
    account_id: str | None = None


_reasons = inline_serializer(
    "AccessReason",
    {
        "code": serializers.CharField(),
        "check": serializers.CharField(),
        "message": serializers.CharField(),
        "detail": serializers.DictField(),
    },
    many=True,
)


class AccessCheckView(HotApiView):
    required_scope = "pretrade"
    request_struct = AccessCheckRequest

    @extend_schema(
        summary="May this person do this, from here?",
        request=inline_serializer(
            "AccessCheck",
            {
                "account_id": serializers.CharField(required=False, allow_null=True),
                "client_ip": serializers.IPAddressField(),
                "product_class": serializers.ChoiceField(choices=list(ProductClass.__args__)),
                "action": serializers.ChoiceField(choices=list(Action.__args__)),
            },
        ),
        responses={
            200: inline_serializer(
                "AccessDecision",
                {
                    "effect": serializers.ChoiceField(
                        choices=["allow", "close_only", "review", "deny"]
                    ),
                    "reasons": _reasons,
                    "policy_version": serializers.CharField(),
                    "decision_id": serializers.CharField(),
                },
            )
        },
    )
    def post(self, request, *args, **kwargs):
        raise NotImplementedError  # served by HotApiView.dispatch

    def handle(self, body: AccessCheckRequest, principal, request):
        try:
            client_ip = str(ipaddress.ip_address(body.client_ip))
        except ValueError:
            raise ValidationFailed(
                "client_ip: not an IPv4 or IPv6 address",
                fields={"client_ip": ["Enter a valid IPv4 or IPv6 address."]},
            ) from None
        if body.account_id is not None and not body.account_id.strip():
            raise ValidationFailed(
                "account_id: must not be blank", fields={"account_id": ["Must not be blank."]}
            )
        answer = gate.check_access(
            account_id=body.account_id,
            client_ip=client_ip,
            product_class=body.product_class,
            action=body.action,
            requested_by=principal.actor,
            now=clock.now(),
        )
        return 200, answer


class AccountProfileView(APIView):
    required_scope = "reference"

    @extend_schema(summary="An account's KYC facts", responses=AccountProfileSerializer)
    def get(self, request, account_id: str):
        profile = selectors.account_profile(account_id)
        if profile is None:
            raise NotFound(f"no account {account_id}")
        return Response(AccountProfileSerializer.render(profile))

    @extend_schema(
        summary="Create or replace an account's KYC facts",
        request=AccountProfileSerializer,
        responses={
            200: AccountProfileSerializer,
            201: AccountProfileSerializer,
            400: OpenApiResponse(description="invalid codes or fields"),
        },
    )
    def put(self, request, account_id: str):
        incoming = AccountProfileSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        existed = selectors.account_profile(account_id) is not None
        profile, _ = services.put_account_profile(
            account_id=account_id, facts=incoming.validated_data, actor=request.user.actor
        )
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(AccountProfileSerializer.render(profile), status=code)
