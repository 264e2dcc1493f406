"""Regulatory reports: contents on fixed data, signed manifests that catch an altered file or
a swapped signature, versions that keep the old ones, byte-identical regeneration."""

from __future__ import annotations

import hashlib
import shutil
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.db import connection

from compliance.models import AccessDecision
from core import registry, signing
from core.errors import ValidationFailed
from core.models import AuditEntry
from oversight import alerts, report_files, reports
from oversight.models import Report
from tests.oversight.test_access_monitors import decision

PERIOD = date(2026, 11, 23)
START = datetime(2026, 11, 23, tzinfo=UTC)
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def reports_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path / "reports"


def directory(report: Report):
    return reports.reports_root() / report.directory


def read(report: Report, name: str) -> str:
    return (directory(report) / name).read_text()


def generate(period=PERIOD, **kwargs) -> Report:
    return reports.generate_report(
        kind="daily", period=period, generated_by="officer:li", now=NOW, **kwargs
    )


def verify(*args: str) -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_report", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, err.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def day_of_decisions():
    at = START + timedelta(hours=10)
    AccessDecision.objects.bulk_create(
        [
            # PRC RWA denials: three by IP (two accounts, one anonymous), one by residence
            decision(account="acc-cn", ip="114.114.114.114", at=at),
            decision(account="acc-cn", ip="114.114.114.114", at=at),
            decision(account="acc-cn2", ip="223.5.5.5", at=at, action="deposit"),
            decision(ip="223.5.5.5", at=at),
            decision(account="acc-cn3", ip="81.2.69.142", country="GB", at=at, signal="residence"),
            # a PRC VC denial of an entity controlled from the mainland
            decision(
                account="acc-fund",
                ip="8.8.8.8",
                country="US",
                at=at,
                rule="prc-vc-2026",
                signal="controlling_person",
                product="crypto_perp",
            ),
            # OFAC, an allow, a review; one denial each side of the period's edges
            decision(account="acc-ir", ip="5.160.0.1", country="IR", rule="ofac-comprehensive"),
            decision(account="acc-sg", ip="8.8.4.4", country="SG", effect="allow", at=at),
            decision(ip="198.51.100.7", country=None, effect="review", rule="", at=at),
            decision(account="acc-cn", at=START - timedelta(microseconds=1)),
            decision(account="acc-cn", at=START + timedelta(days=1)),
        ]
    )
    AccessDecision.objects.filter(account_id="acc-ir").update(decided_at=START)
    AccessDecision.objects.filter(account_id="acc-cn3").update(deciding_jurisdiction="CN")
    AccessDecision.objects.filter(account_id="acc-fund").update(deciding_jurisdiction="CN")


@pytest.mark.django_db
def test_report_contents_on_fixed_data(day_of_decisions):
    raised = alerts.raise_alert(
        key="access.repeat-denials:account:acc-cn",
        kind="access.repeat_denials",
        severity="warning",
        title="account acc-cn denied 5 times in 60 min",
        detail={},
        now=START + timedelta(hours=11),
    )
    alerts.acknowledge_alert(alert_id=raised.pk, actor="officer:li", now=NOW)  # after the day

    report = generate()

    assert read(report, "prc_2026_denials.csv") == (
        "rule,denials,distinct_accounts,distinct_ips,by_ip_geolocation,by_residence,"
        "by_nationality,by_controlling_person\n"
        "prc-rwa-2026,5,3,3,4,1,0,0\n"
        "prc-vc-2026,1,1,1,0,0,0,1\n"
    )
    assert read(report, "denied_access_attempts.csv") == (
        "deciding_jurisdiction,product_class,action,denials,distinct_accounts,distinct_ips,"
        "without_account\n"
        "CN,crypto_perp,open,1,1,1,0\n"
        "CN,rwa_token,deposit,1,1,1,0\n"
        "CN,rwa_token,open,4,2,3,1\n"
        "IR,rwa_token,open,1,1,1,0\n"
    )
    assert read(report, "access_decisions_by_jurisdiction.csv") == (
        "ip_country,deciding_jurisdiction,rule,effect,decisions\n"
        ",,,review,1\n"
        "CN,CN,prc-rwa-2026,deny,4\n"
        "GB,CN,prc-rwa-2026,deny,1\n"
        "IR,IR,ofac-comprehensive,deny,1\n"
        "SG,,,allow,1\n"
        "US,CN,prc-vc-2026,deny,1\n"
    )
    assert read(report, "alerts_raised.csv") == (
        "alert_id,first_seen,kind,severity,key,title,status_at_end\n"
        f"{raised.pk},2026-11-23T11:00:00.000Z,access.repeat_denials,warning,"
        "access.repeat-denials:account:acc-cn,account acc-cn denied 5 times in 60 min,open\n"
    )
    prc = orjson.loads(read(report, "prc_2026_denials.json"))
    assert prc["period"] == "2026-11-23" and prc["section"] == "prc_2026_denials"
    assert prc["rows"][0] == {
        "rule": "prc-rwa-2026",
        "denials": "5",
        "distinct_accounts": "3",
        "distinct_ips": "3",
        "by_ip_geolocation": "4",
        "by_residence": "1",
        "by_nationality": "0",
        "by_controlling_person": "0",
    }
    manifest = orjson.loads(read(report, "manifest.json"))
    assert (manifest["kind"], manifest["period"], manifest["version"]) == ("daily", "2026-11-23", 1)
    assert manifest["period_start"] == "2026-11-23T00:00:00.000Z"
    assert manifest["period_end"] == "2026-11-24T00:00:00.000Z"
    listed = {entry["name"]: entry for entry in manifest["files"]}
    assert set(listed) == {
        f"{name}.{ext}"
        for name in (
            "access_decisions_by_jurisdiction",
            "alerts_raised",
            "denied_access_attempts",
            "prc_2026_denials",
            "screening_cases",
            "blocked_property",
            "sanctions_refused_transactions",
            "sanctions_lists_in_force",
            # the sections other parts register (custody, risk)
            "segregation_statement",
            "reconciliation_breaks",
            "large_withdrawals",
            "pretrade_rejects_by_reason",
            "limit_breaches",
            "market_halts_and_breakers",
        )
        for ext in ("csv", "json")
    }
    for name, entry in listed.items():
        content = (directory(report) / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(content).hexdigest()
        assert entry["size"] == len(content)
    assert {f.name for f in report.files.all()} == set(listed) | {"manifest.json", "manifest.sig"}
    entry = AuditEntry.objects.get(action="report.generate")
    assert entry.object_id == str(report.pk) and entry.actor == "officer:li"
    assert entry.after["manifest_sha256"] == report.manifest_sha256


@pytest.mark.django_db
def test_the_manifest_signature_verifies_with_our_public_key():
    report = generate()
    sig = orjson.loads(read(report, "manifest.sig"))
    manifest = (directory(report) / "manifest.json").read_bytes()
    signer = signing.get_signer()
    assert sig["key_id"] == report.key_id == signer.key_id
    assert signing.verify(signer.public_key, manifest, sig["signature"])
    assert report.manifest_sha256 == hashlib.sha256(manifest).hexdigest()
    code, output = verify(str(report.pk))
    assert code == 0 and "verified" in output


@pytest.mark.django_db
def test_an_altered_file_is_named(day_of_decisions):
    report = generate()
    path = directory(report) / "prc_2026_denials.csv"
    path.write_text(path.read_text().replace("prc-rwa-2026,5", "prc-rwa-2026,0"))
    code, message = verify(str(report.pk))
    assert code == 1
    assert "prc_2026_denials.csv" in message and "altered" in message
    assert "manifest.sig" not in message


@pytest.mark.django_db
def test_an_altered_manifest_breaks_the_signature():
    report = generate()
    path = directory(report) / "manifest.json"
    path.write_bytes(path.read_bytes().replace(b'"version": 1', b'"version": 7'))
    code, message = verify(str(report.pk))
    assert code == 1 and "manifest.sig" in message


@pytest.mark.django_db
def test_a_swapped_signature_fails():
    first, second = generate(), generate()
    shutil.copy(directory(second) / "manifest.sig", directory(first) / "manifest.sig")
    code, message = verify(str(first.pk))
    assert code == 1 and "manifest.sig: the signature does not match manifest.json" in message


@pytest.mark.django_db
def test_a_report_re_signed_with_another_key_is_not_trusted():
    report = generate()
    manifest = (directory(report) / "manifest.json").read_bytes()
    impostor = signing.Signer(Ed25519PrivateKey.generate())
    signature = impostor.sign(manifest)
    (directory(report) / "manifest.sig").write_bytes(
        report_files.signature_bytes(key_id=signature.key_id, signature_hex=signature.signature_hex)
    )
    code, message = verify(str(report.pk))
    assert code == 1 and f"signed by key {impostor.key_id}, which is not trusted" in message


@pytest.mark.django_db
def test_an_extra_or_missing_file_is_named():
    report = generate()
    (directory(report) / "alerts_raised.json").unlink()
    (directory(report) / "notes.txt").write_text("added later")
    code, message = verify(str(report.pk))
    assert code == 1
    assert "alerts_raised.json: missing" in message
    assert "notes.txt: not named in the manifest" in message


@pytest.mark.django_db
def test_offline_verification_of_a_directory_with_an_exported_key(tmp_path):
    report = generate()
    public = tmp_path / "gatehouse.pub"
    call_command("export_public_key", "--out", str(public), stdout=StringIO())
    copy = tmp_path / "received"
    shutil.copytree(directory(report), copy)
    code, output = verify("--dir", str(copy), "--public-key", str(public))
    assert code == 0 and "verified" in output
    other = tmp_path / "other.pub"
    other.write_text(signing.public_key_pem(Ed25519PrivateKey.generate().public_key()))
    code, message = verify("--dir", str(copy), "--public-key", str(other))
    assert code == 1 and "not trusted" in message


@pytest.mark.django_db
def test_regenerating_makes_a_new_version_with_identical_files(day_of_decisions):
    first = generate()
    second = generate()
    assert (first.version, second.version) == (1, 2)
    assert first.directory.endswith("/v1") and second.directory.endswith("/v2")
    digests = [{f.name: f.sha256 for f in r.files.all() if f.section} for r in (first, second)]
    assert digests[0] == digests[1] and len(digests[0]) == 28
    for name in digests[0]:
        assert (directory(first) / name).read_bytes() == (directory(second) / name).read_bytes()
    assert first.manifest_sha256 != second.manifest_sha256  # version and time differ
    assert verify(str(first.pk))[0] == 0 and verify(str(second.pk))[0] == 0


@pytest.mark.django_db
def test_the_commands_generate_and_name_the_report():
    out = StringIO()
    call_command("generate_report", "daily", "--period", "2026-11-23", stdout=out)
    report_id = int(out.getvalue().strip().splitlines()[-1])
    report = Report.objects.get(pk=report_id)
    assert (report.kind, report.period, report.version) == ("daily", PERIOD, 1)
    call_command("generate_report", "daily", "--period", "2026-11-23", "--if-missing", stdout=out)
    assert Report.objects.count() == 1


@pytest.mark.django_db
def test_a_period_that_has_not_ended_is_refused():
    with pytest.raises(ValidationFailed):
        generate(period=date(2026, 11, 24))


@pytest.mark.parametrize(
    ("now", "period"),
    [
        ("2026-11-24T00:04:59Z", "2026-11-22"),  # yesterday's grace period not over yet
        ("2026-11-24T00:05:00Z", "2026-11-23"),
        ("2026-11-24T23:59:59Z", "2026-11-23"),
    ],
)
def test_the_catch_up_reports_the_last_period_past_its_grace(now, period):
    assert reports.previous_period("daily", datetime.fromisoformat(now)) == date.fromisoformat(
        period
    )


@pytest.mark.django_db
def test_the_catch_up_generates_once():
    first = reports.ensure_report(kind="daily", period=None, now=NOW)
    again = reports.ensure_report(kind="daily", period=None, now=NOW + timedelta(minutes=1))
    assert first.pk == again.pk and first.period == PERIOD
    assert Report.objects.count() == 1


@pytest.mark.django_db
def test_a_rival_committing_between_the_check_and_the_insert_makes_no_version_two(monkeypatch):
    """The catch-up read "no report yet", then a rival committed version 1: the catch-up
    must still claim version 1 (and lose it), never allocate version 2."""
    rival = generate()
    real, stale_reads = reports.latest_report, [None, None]
    monkeypatch.setattr(
        reports,
        "latest_report",
        lambda kind, period: stale_reads.pop() if stale_reads else real(kind, period),
    )
    assert reports.ensure_report(kind="daily", period=PERIOD, now=NOW).pk == rival.pk
    assert Report.objects.count() == 1


@pytest.mark.django_db
def test_a_section_from_another_part_joins_every_report():
    def large_withdrawals(period_start, period_end):
        return ["account_id", "asset", "amount", "at"], [
            ("acc-2", "USDC", Decimal("250000.00"), period_start + timedelta(hours=3)),
            ("acc-1", "USDC", Decimal("1000000.50"), period_start + timedelta(hours=1)),
        ]

    registry.section("other_part_withdrawals")(large_withdrawals)
    try:
        report = generate()
    finally:
        registry.report_sections.remove("other_part_withdrawals")
    assert read(report, "other_part_withdrawals.csv") == (
        "account_id,asset,amount,at\n"
        "acc-1,USDC,1000000.50,2026-11-23T01:00:00.000Z\n"
        "acc-2,USDC,250000.00,2026-11-23T03:00:00.000Z\n"
    )
    assert orjson.loads(read(report, "other_part_withdrawals.json"))["rows"][0]["amount"] == (
        "1000000.50"
    )


def test_a_section_name_is_claimed_once():
    with pytest.raises(ValueError, match="already registered"):
        registry.section("prc_2026_denials")(lambda start, end: ([], []))
    with pytest.raises(ValueError, match="snake"):
        registry.section("Bad-Name")(lambda start, end: ([], []))


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        (Decimal("1E+2"), "100"),
        (Decimal("0.10"), "0.10"),
        (12, "12"),
        (None, None),
        (True, True),
        (date(2026, 11, 23), "2026-11-23"),
        (datetime(2026, 11, 23, 8, tzinfo=UTC), "2026-11-23T08:00:00.000Z"),
    ],
)
def test_values_render_exactly(value, rendered):
    assert report_files.render_value(value) == rendered


def test_floats_are_refused():
    with pytest.raises(TypeError):
        report_files.render_value(0.1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("only_if_missing", [True, False], ids=["catch-up", "regenerate"])
def test_racing_generators_never_write_two_version_ones(only_if_missing):
    barrier = threading.Barrier(5)
    errors = []

    def generator():
        try:
            barrier.wait()
            generate(only_if_missing=only_if_missing)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=generator) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    versions = sorted(Report.objects.values_list("version", flat=True))
    assert versions == ([1] if only_if_missing else [1, 2, 3, 4, 5])
    for report in Report.objects.all():
        assert verify(str(report.pk))[0] == 0
