"""Common API endpoints: who am I, and the public key that verifies our signatures."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core import signing


class WhoAmIView(APIView):
    required_scope = None

    @extend_schema(
        summary="The calling API key's name and scopes",
        responses=inline_serializer(
            "WhoAmI",
            {"name": serializers.CharField(), "scopes": serializers.ListField()},
        ),
    )
    def get(self, request):
        return Response({"name": request.user.name, "scopes": sorted(request.user.scopes)})


class SigningKeyView(APIView):
    required_scope = None

    @extend_schema(
        summary="The Ed25519 public key that verifies checkpoints, reports and PoR roots",
        responses=inline_serializer(
            "SigningKey",
            {"key_id": serializers.CharField(), "public_key_pem": serializers.CharField()},
        ),
    )
    def get(self, request):
        signer = signing.get_signer()
        return Response({"key_id": signer.key_id, "public_key_pem": signer.public_key_pem()})
