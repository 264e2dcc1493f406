"""Report listing and metadata: the query the list accepts and what every answer holds."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from core.api.serializers import StrictSerializer
from oversight.models import REPORT_KINDS, Report, ReportFile
from oversight.report_files import SIGNATURE_ALGORITHM


class ReportQuerySerializer(StrictSerializer):
    """Query string of the list: unknown parameters are refused like unknown body fields,
    so a misspelt filter never silently returns everything."""

    kind = serializers.ChoiceField(choices=REPORT_KINDS, required=False)
    period = serializers.DateField(required=False, help_text="UTC date, YYYY-MM-DD")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=100)


class ReportFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    section = serializers.CharField(help_text="empty for manifest.json and manifest.sig")
    media_type = serializers.CharField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    url = serializers.SerializerMethodField()

    def get_url(self, file: ReportFile) -> str:
        return reverse("report-file", args=[file.report_id, file.name])


class ReportSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=REPORT_KINDS)
    period = serializers.DateField()
    version = serializers.IntegerField()
    generated_at = serializers.DateTimeField()
    generated_by = serializers.CharField()
    manifest_sha256 = serializers.CharField()
    key_id = serializers.CharField(help_text="id of the Ed25519 key that signed the manifest")
    url = serializers.SerializerMethodField()

    def get_url(self, report: Report) -> str:
        return reverse("report", args=[report.pk])


class ReportDetailSerializer(ReportSummarySerializer):
    signature = serializers.CharField(help_text="hex Ed25519 signature over manifest.json")
    signature_algorithm = serializers.SerializerMethodField()
    public_key_id = serializers.SerializerMethodField(
        help_text="id of the service's current public key (differs from key_id after rotation)"
    )
    public_key_url = serializers.SerializerMethodField()
    files = ReportFileSerializer(many=True)

    def get_signature_algorithm(self, report: Report) -> str:
        return SIGNATURE_ALGORITHM

    def get_public_key_id(self, report: Report) -> str:
        return self.context["public_key_id"]

    def get_public_key_url(self, report: Report) -> str:
        return reverse("signing-public-key")


class ReportListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = ReportSummarySerializer(many=True)
