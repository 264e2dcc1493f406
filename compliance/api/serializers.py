"""Account profile input/output. Codes are checked against the real ISO 3166 lists
(pycountry), never a hand-written list."""

from __future__ import annotations

import re
from datetime import date

import pycountry
from rest_framework import serializers

from compliance.models import ACCOUNT_STATUSES, ENTITY_TYPES, INVESTOR_CATEGORIES, AccountProfile
from compliance.screening.addresses import normalise_address
from core.api.serializers import StrictSerializer


def _country(code: str) -> str:
    code = code.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise serializers.ValidationError(f"{code!r} is not an ISO 3166-1 alpha-2 country code.")
    return code


class CountryField(serializers.CharField):
    def to_internal_value(self, data):
        return _country(super().to_internal_value(data))


_DATE_OF_BIRTH = re.compile(r"\d{4}(-\d{2}-\d{2})?")


def validate_date_of_birth(value: str) -> str:
    """``YYYY-MM-DD``, or ``YYYY`` when only the year is known (API.md)."""
    value = value.strip()
    if not value:
        return value
    if not _DATE_OF_BIRTH.fullmatch(value):
        raise serializers.ValidationError("Enter YYYY-MM-DD, or YYYY when only the year is known.")
    try:
        born = date.fromisoformat(value) if len(value) == 10 else date(int(value), 1, 1)
    except ValueError:
        raise serializers.ValidationError(f"{value!r} is not a date.") from None
    if born.year < 1900 or born > date.today():
        raise serializers.ValidationError(f"{value!r} is not a plausible date of birth.")
    return value


class DateOfBirthField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("default", "")
        super().__init__(max_length=10, **kwargs)

    def to_internal_value(self, data):
        return validate_date_of_birth(super().to_internal_value(data))


class ControllingPersonSerializer(StrictSerializer):
    name = serializers.CharField(max_length=300)
    country = CountryField(required=False)
    date_of_birth = DateOfBirthField()


_ASSET = re.compile(r"[A-Z0-9]{2,12}")


class WalletAddressSerializer(StrictSerializer):
    asset = serializers.CharField(max_length=12)
    address = serializers.CharField(max_length=200, trim_whitespace=True)

    def validate_asset(self, value: str) -> str:
        value = value.strip().upper()
        if not _ASSET.fullmatch(value):
            raise serializers.ValidationError("An asset code: 2 to 12 letters or digits.")
        return value

    def validate(self, attrs):
        try:
            normalise_address(attrs["asset"], attrs["address"])
        except ValueError as exc:
            raise serializers.ValidationError({"address": [str(exc)]}) from None
        return attrs


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
    full_name = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=300, trim_whitespace=True
    )
    date_of_birth = DateOfBirthField()
    controlling_persons = ControllingPersonSerializer(many=True, required=False, default=list)
    wallet_addresses = WalletAddressSerializer(many=True, required=False, default=list)
    sanctions_status = serializers.CharField(read_only=True)
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
        if attrs["entity_type"] == "individual" and attrs.get("controlling_persons"):
            raise serializers.ValidationError(
                {"controlling_persons": ["Only entities have controlling persons."]}
            )
        attrs["controlling_persons"] = [
            {key: value for key, value in dict(person).items() if value}
            for person in attrs.get("controlling_persons", [])
        ]
        attrs["wallet_addresses"] = [dict(wallet) for wallet in attrs.get("wallet_addresses", [])]
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
