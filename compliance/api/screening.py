"""Screening endpoints (API.md, "Screening"; scope ``reference``): screen a name and/or
chain addresses without storing anything, and the loaded list versions."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance import sanctions
from compliance.api.serializers import (
    CountryField,
    DateOfBirthField,
    WalletAddressSerializer,
)
from core.api.serializers import StrictSerializer
from core.errors import ServiceUnavailable


class ScreeningCheckSerializer(StrictSerializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=300)
    entity_type = serializers.ChoiceField(choices=["individual", "entity"], required=False)
    date_of_birth = DateOfBirthField()
    countries = serializers.ListField(child=CountryField(), required=False, default=list)
    addresses = WalletAddressSerializer(many=True, required=False, default=list)

    def validate(self, attrs):
        if not (attrs.get("name") or "").strip() and not attrs.get("addresses"):
            raise serializers.ValidationError({"name": ["Give a name, addresses or both."]})
        return attrs


class ScreeningUnavailableError(ServiceUnavailable):
    code = "SCREENING_UNAVAILABLE"


_match = inline_serializer(
    "ScreeningMatch",
    {
        "list": serializers.CharField(),
        "entry_id": serializers.CharField(allow_null=True),
        "name": serializers.CharField(),
        "matched_on": serializers.ChoiceField(choices=["name", "alias", "address"]),
        "score": serializers.CharField(),
        "programs": serializers.ListField(child=serializers.CharField()),
    },
    many=True,
)


class ScreeningCheckView(APIView):
    required_scope = "reference"

    @extend_schema(
        summary="Screen a name and/or chain addresses against the loaded sanctions lists",
        request=ScreeningCheckSerializer,
        responses={
            200: inline_serializer(
                "ScreeningResult",
                {
                    "result": serializers.ChoiceField(
                        choices=["clear", "potential_match", "match"]
                    ),
                    "matches": _match,
                    "list_version": serializers.CharField(),
                    "screened_at": serializers.DateTimeField(),
                },
            )
        },
    )
    def post(self, request):
        incoming = ScreeningCheckSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            answer = sanctions.check(
                name=(data.get("name") or "").strip() or None,
                entity_type=data.get("entity_type"),
                date_of_birth=data.get("date_of_birth") or None,
                countries=data.get("countries", []),
                addresses=[(a["asset"], a["address"]) for a in data.get("addresses", [])],
            )
        except sanctions.ScreeningUnavailable as exc:
            raise ScreeningUnavailableError(f"screening cannot decide: {exc}") from exc
        return Response(answer)


class ScreeningListsView(APIView):
    required_scope = "reference"

    @extend_schema(
        summary="The loaded sanctions list versions, newest first",
        responses={
            200: inline_serializer(
                "ScreeningLists",
                {
                    "lists": inline_serializer(
                        "ScreeningListVersion",
                        {
                            "list": serializers.CharField(),
                            "list_version": serializers.CharField(),
                            "version": serializers.IntegerField(),
                            "published_on": serializers.DateField(),
                            "addresses_as_of": serializers.DateField(allow_null=True),
                            "loaded_at": serializers.DateTimeField(),
                            "loaded_by": serializers.CharField(),
                            "entries": serializers.IntegerField(),
                            "aliases": serializers.IntegerField(),
                            "addresses": serializers.IntegerField(),
                            "changes": serializers.DictField(child=serializers.IntegerField()),
                            "digest": serializers.CharField(),
                            "in_force": serializers.BooleanField(),
                        },
                        many=True,
                    )
                },
            )
        },
    )
    def get(self, request):
        return Response({"lists": sanctions.versions()})
