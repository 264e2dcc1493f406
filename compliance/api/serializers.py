"""Account profile input/output. Codes are checked against the real ISO 3166 lists
(pycountry), never a hand-written list."""

from __future__ import annotations

import pycountry
from rest_framework import serializers

from compliance.models import ACCOUNT_STATUSES, ENTITY_TYPES, INVESTOR_CATEGORIES, AccountProfile
from core.api.serializers import StrictSerializer


def _country(code: str) -> str:
    code = code.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise serializers.ValidationError(f"{code!r} is not an ISO 3166-1 alpha-2 country code.")
    return code


class CountryField(serializers.CharField):
    def to_internal_value(self, data):
        return _country(super().to_internal_value(data))


class AccountProfileSerializer(StrictSerializer):
    account_id = serializers.CharField(read_only=True)
    residence_country = CountryField()
    residence_subdivision = serializers.CharField(required=False, allow_blank=True, default="")
    nationalities = serializers.ListField(child=CountryField(), required=False, default=list)
    entity_type = serializers.ChoiceField(choices=ENTITY_TYPES)
    controlling_countries = serializers.ListField(
        child=CountryField(), required=False, default=list
    )
    controlling_subdivisions = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text="ISO 3166-2 codes placing controlling countries more exactly (UA-14).",
    )
    investor_category = serializers.ChoiceField(choices=INVESTOR_CATEGORIES)
    status = serializers.ChoiceField(choices=ACCOUNT_STATUSES)
    version = serializers.IntegerField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def validate_residence_subdivision(self, value: str) -> str:
        value = value.strip().upper()
        if value and pycountry.subdivisions.get(code=value) is None:
            raise serializers.ValidationError(f"{value!r} is not an ISO 3166-2 subdivision code.")
        return value

    def validate(self, attrs):
        subdivision, country = attrs.get("residence_subdivision"), attrs["residence_country"]
        if subdivision and not subdivision.startswith(country + "-"):
            raise serializers.ValidationError(
                {"residence_subdivision": [f"{subdivision} is not a subdivision of {country}."]}
            )
        if attrs["entity_type"] == "individual" and attrs.get("controlling_countries"):
            raise serializers.ValidationError(
                {"controlling_countries": ["Only entities have controlling persons."]}
            )
        controlling = set(attrs.get("controlling_countries", []))
        subdivisions = set()
        for code in attrs.get("controlling_subdivisions", []):
            code = code.strip().upper()
            if pycountry.subdivisions.get(code=code) is None:
                raise serializers.ValidationError(
                    {"controlling_subdivisions": [f"{code!r} is not an ISO 3166-2 code."]}
                )
            if code.partition("-")[0] not in controlling:
                raise serializers.ValidationError(
                    {"controlling_subdivisions": [f"{code} is in no controlling country."]}
                )
            subdivisions.add(code)
        attrs["controlling_subdivisions"] = sorted(subdivisions)
        attrs["nationalities"] = sorted(set(attrs.get("nationalities", [])))
        attrs["controlling_countries"] = sorted(set(attrs.get("controlling_countries", [])))
        return attrs

    @classmethod
    def render(cls, profile: AccountProfile) -> dict:
        return cls(profile).data
