"""Encryption at rest for identity numbers, and keyed hashes to find them by exact match.

The ciphertext (Fernet: AES-128-CBC + HMAC-SHA256) is what the database and its dumps hold; the
keyed hash (HMAC-SHA256 under a separate key) lets the application look a number up without
decrypting every row, and cannot be reversed by someone who has a dump but not the key.
Keys come from the environment (FIELD_ENCRYPTION_KEYS, SEARCH_HASH_KEY; see README.md).
"""

import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@cache
def _fernet() -> MultiFernet:
    # The first key encrypts; every key decrypts, so keys can be rotated.
    return MultiFernet([Fernet(key) for key in settings.FIELD_ENCRYPTION_KEYS])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong key is a configuration error, not bad input
        raise ValueError("cannot decrypt: FIELD_ENCRYPTION_KEYS does not hold the key") from exc


def keyed_hash(value: str) -> str:
    key = settings.SEARCH_HASH_KEY.encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
