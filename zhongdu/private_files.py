"""Private files, encrypted at rest: the one home for what the product keeps that no browser
may fetch directly (call recordings and voicemail first; later features reuse it).

Each file is encrypted with the field-encryption keys (FIELD_ENCRYPTION_KEYS: the first key
encrypts, every key decrypts, so the keys rotate as the ID numbers' do; `rotate()` re-encrypts a
file under the first key) and written under PRIVATE_FILES_ROOT, outside the static and media
trees (a named volume in docker-compose, covered by the README's backup section). A file is named
by an opaque token under its category; only the application reads it back, through a view that
checks who asks and audits it.
"""

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .crypto import _fernet

_CATEGORY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


def _root() -> Path:
    return Path(settings.PRIVATE_FILES_ROOT)


def _path(name: str) -> Path:
    path = (_root() / name).resolve()
    if _root().resolve() not in path.parents:
        raise ValueError("A private file's name stays under PRIVATE_FILES_ROOT.")
    return path


def save(category: str, data: bytes) -> str:
    """Encrypt `data` and keep it; returns its name (category/yyyy/mm/token)."""
    if not category or not set(category) <= _CATEGORY_CHARS:
        raise ValueError("A category is lower-case letters, digits, - and _.")
    name = f"{category}/{timezone.now():%Y/%m}/{secrets.token_urlsafe(18)}"
    path = _path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".part")
    temporary.write_bytes(_fernet().encrypt(data))
    os.replace(temporary, path)  # never a half-written file under its name
    return name


def read(name: str) -> bytes:
    """The file's bytes, decrypted (FileNotFoundError when it is gone)."""
    return _fernet().decrypt(_path(name).read_bytes())


def delete(name: str) -> None:
    _path(name).unlink(missing_ok=True)


def rotate(name: str) -> None:
    """Re-encrypt the file under the first key (after a new key was put first)."""
    path = _path(name)
    temporary = path.with_suffix(".part")
    temporary.write_bytes(_fernet().rotate(path.read_bytes()))
    os.replace(temporary, path)
