"""Ed25519 signing for everything an auditor must be able to check offline: audit-chain and
ledger checkpoints, report manifests and proof-of-reserves roots.

The private key lives in a PEM file (``SIGNING_KEY_FILE``). Development generates one on
first use under ``var/``; production refuses to start without it. The public key is exported
with ``python manage.py export_public_key`` so verification needs nothing of ours.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True, slots=True)
class Signature:
    key_id: str
    signature_hex: str


def key_id_for(public_key: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the first 16 hex digits of SHA-256 of its raw
    bytes, so a signature records which key made it and rotation stays unambiguous."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(pem: bytes | str) -> Ed25519PublicKey:
    data = pem.encode() if isinstance(pem, str) else pem
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def verify(public_key: Ed25519PublicKey, message: bytes, signature_hex: str) -> bool:
    try:
        public_key.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


class Signer:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id_for(self.public_key)

    def sign(self, message: bytes) -> Signature:
        return Signature(self.key_id, self._private_key.sign(message).hex())

    def public_key_pem(self) -> str:
        return public_key_pem(self.public_key)


def _write_new_key(path: Path) -> Ed25519PrivateKey:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def _read_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{path} does not hold an Ed25519 private key")
    return key


_lock = threading.Lock()
_signer: Signer | None = None
_signer_path: Path | None = None


def get_signer() -> Signer:
    """The process's signer, loaded once (re-loaded if the configured path changes)."""
    global _signer, _signer_path
    path = Path(settings.SIGNING_KEY_FILE)
    with _lock:
        if _signer is None or _signer_path != path:
            if path.exists():
                key = _read_key(path)
            elif settings.SIGNING_KEY_AUTOCREATE:
                key = _write_new_key(path)
            else:
                raise ImproperlyConfigured(f"SIGNING_KEY_FILE {path} does not exist")
            _signer, _signer_path = Signer(key), path
        return _signer
