"""Where report files live: Django's storage API (``STORAGES["reports"]``), so every host of
a scaled-out deployment reads the same files (README, "Scaling out").

The default, for ``make run`` and one host, is the local file system under
``GATEHOUSE_VAR_DIR/reports`` (``VarDirStorage``: the directory follows the setting, read
when used). Production with more than one host names a shared backend in
``REPORTS_STORAGE_BACKEND`` and its options in ``REPORTS_STORAGE_OPTIONS`` (JSON), for
instance django-storages' ``storages.backends.s3.S3Storage`` for S3-compatible object storage.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages

REPORTS = "reports"


class VarDirStorage(FileSystemStorage):
    """The local file system under ``VAR_DIR/reports``, wherever ``VAR_DIR`` points now."""

    @property
    def base_location(self) -> str:
        return str(Path(settings.VAR_DIR) / "reports")

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)


def reports_storage() -> Storage:
    return storages[REPORTS]


def names_in(storage: Storage, directory: str) -> list[str]:
    """The files directly in ``directory`` (none if it does not exist)."""
    try:
        return list(storage.listdir(directory)[1])
    except (FileNotFoundError, NotADirectoryError):
        return []


def write(storage: Storage, name: str, content: bytes) -> None:
    """Store ``content`` under exactly ``name`` (a storage that would rename it refuses)."""
    saved = storage.save(name, ContentFile(content))
    if saved != name:
        storage.delete(saved)
        raise FileExistsError(f"{name} exists in the reports storage")


def read(storage: Storage, name: str) -> bytes | None:
    try:
        with storage.open(name, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
