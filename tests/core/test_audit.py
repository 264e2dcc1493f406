"""The audit chain: intact chains verify; every kind of tampering is caught and named."""

from datetime import timedelta
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from core import audit, signing
from core.models import AuditCheckpoint, AuditEntry

pytestmark = pytest.mark.django_db


def write_entries(count: int) -> None:
    for index in range(count):
        audit.record(
            actor=f"user:officer{index % 3}",
            action="rule.update",
            object_type="rule",
            object_id=f"rule-{index}",
            before={"effect": "allow", "n": index},
            after={"effect": "deny", "n": index, "note": "ünïcode ✓"},
        )


def verify_command() -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, err.getvalue()
    return 0, out.getvalue()


def test_an_intact_chain_verifies_with_signed_checkpoints():
    write_entries(12)  # AUDIT_CHECKPOINT_EVERY is 5 in tests: checkpoints at 5 and 10
    report = audit.verify_chain()
    assert report.ok and report.entries_checked == 12 and report.checkpoints_checked == 2
    code, output = verify_command()
    assert code == 0 and "intact" in output


def test_entries_link_to_their_predecessor():
    write_entries(3)
    first, second, third = AuditEntry.objects.order_by("seq")
    assert first.prev_hash == audit.GENESIS_HASH
    assert second.prev_hash == first.entry_hash and third.prev_hash == second.entry_hash


def test_an_edited_entry_is_named():
    write_entries(8)
    AuditEntry.objects.filter(seq=4).update(after={"effect": "allow", "n": 3})
    code, message = verify_command()
    assert code == 1
    assert "#4" in message and "altered" in message


def test_an_edited_actor_is_caught():
    write_entries(3)
    AuditEntry.objects.filter(seq=2).update(actor="user:someone-else")
    assert audit.verify_chain().first_bad_seq == 2


def test_a_deleted_entry_is_named():
    write_entries(8)
    AuditEntry.objects.filter(seq=3).delete()
    code, message = verify_command()
    assert code == 1 and "#3" in message and "missing" in message


def test_deleting_the_tail_past_a_checkpoint_is_caught():
    write_entries(6)  # checkpoint at #5
    AuditEntry.objects.filter(seq__gte=5).delete()
    report = audit.verify_chain()
    assert not report.ok and "deleted" in report.problem


def test_reordered_entries_are_caught():
    write_entries(6)
    a, b = AuditEntry.objects.get(seq=2), AuditEntry.objects.get(seq=3)
    AuditEntry.objects.filter(pk=a.pk).update(seq=1000)
    AuditEntry.objects.filter(pk=b.pk).update(seq=2)
    AuditEntry.objects.filter(pk=a.pk).update(seq=3)
    report = audit.verify_chain()
    assert not report.ok and report.first_bad_seq == 2


def test_a_rewritten_and_resigned_chain_is_caught():
    """An attacker with database access rewrites an entry, recomputes every later hash and
    re-signs the checkpoints with a key of their own: the trusted key does not verify."""
    write_entries(7)
    forger = signing.Signer(Ed25519PrivateKey.generate())
    prev = audit.GENESIS_HASH
    for entry in AuditEntry.objects.order_by("seq"):
        if entry.seq == 2:
            entry.after = {"effect": "allow"}
        entry.prev_hash = prev
        entry.entry_hash = audit._hash_of(entry)
        entry.save()
        prev = entry.entry_hash
    for cp in AuditCheckpoint.objects.all():
        head = AuditEntry.objects.get(seq=cp.seq)
        forged = forger.sign(audit.checkpoint_message(cp.seq, head.entry_hash))
        cp.entry_hash, cp.key_id, cp.signature = (
            head.entry_hash,
            forged.key_id,
            forged.signature_hex,
        )
        cp.save()
    report = audit.verify_chain()
    assert not report.ok and "not signed by a trusted key" in report.problem
    # ...and the forger's own key would verify it: the check really is the signature.
    assert audit.verify_chain(public_keys=[forger.public_key]).ok


def test_a_rewritten_chain_without_resigning_is_caught():
    write_entries(6)
    prev = audit.GENESIS_HASH
    for entry in AuditEntry.objects.order_by("seq"):
        if entry.seq == 1:
            entry.actor = "user:mallory"
        entry.prev_hash = prev
        entry.entry_hash = audit._hash_of(entry)
        entry.save()
        prev = entry.entry_hash
    report = audit.verify_chain()
    assert not report.ok and report.first_bad_seq == 5 and "different head" in report.problem


def test_offline_verification_with_the_exported_public_key(tmp_path):
    write_entries(5)
    pem = tmp_path / "audit.pub"
    call_command("export_public_key", "--out", str(pem), stdout=StringIO())
    out = StringIO()
    call_command("verify_audit", "--public-key", str(pem), stdout=out)
    assert "intact" in out.getvalue()


@override_settings(AUDIT_CHECKPOINT_EVERY=1000)
def test_checkpoint_command_signs_the_head():
    write_entries(3)
    assert not AuditCheckpoint.objects.exists()
    call_command("checkpoint_audit", stdout=StringIO())
    assert AuditCheckpoint.objects.get().seq == 3


@settings(max_examples=25, deadline=None)
@given(
    count=st.integers(min_value=1, max_value=9),
    data=st.data(),
    field=st.sampled_from(["actor", "action", "object_type", "object_id", "before", "after", "at"]),
)
def test_any_single_field_edit_is_detected(count, data, field):
    AuditEntry.objects.all().delete()
    AuditCheckpoint.objects.all().delete()
    write_entries(count)
    seq = data.draw(st.integers(min_value=1, max_value=count))
    if field == "at":  # a back-dated entry: the time is hashed too
        entry = AuditEntry.objects.get(seq=seq)
        new_value = entry.at - timedelta(minutes=5)
    else:
        new_value = {"tampered": True} if field in ("before", "after") else "tampered"
    AuditEntry.objects.filter(seq=seq).update(**{field: new_value})
    report = audit.verify_chain()
    assert not report.ok and report.first_bad_seq == seq


def test_a_renumbered_entry_is_caught():
    """Moving an entry to another place in the sequence (a gap closed after a deletion, or
    a number changed) breaks the chain even when the hashes are left as they were."""
    write_entries(6)
    AuditEntry.objects.filter(seq=6).delete()
    AuditEntry.objects.filter(seq=5).update(seq=7)
    report = audit.verify_chain()
    assert not report.ok and report.first_bad_seq == 7


def test_a_sequence_number_swap_is_caught():
    write_entries(6)
    AuditEntry.objects.filter(seq=3).update(seq=100)
    AuditEntry.objects.filter(seq=4).update(seq=3)
    AuditEntry.objects.filter(seq=100).update(seq=4)
    report = audit.verify_chain()
    assert not report.ok and report.first_bad_seq == 3
