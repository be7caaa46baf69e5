"""Field encryption (AES-256-GCM) and the keyed blind index for document numbers.

Ciphertext format: ``v1:<key_id>:<base64(nonce || ciphertext+tag)>``. The key id travels with every
value, so a new key can take over writes while old values stay readable until they are re-encrypted.
Associated data binds a value to its column (``app.model.field``), so a ciphertext copied into another
column fails to decrypt. Keys come only from the environment (settings.KYC_FIELD_KEYS).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "v1"
_NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored value could not be decrypted: wrong key, tampered value or moved between columns."""


@dataclass(frozen=True)
class KeyRing:
    current_id: str
    keys: dict[str, bytes]


def parse_keys(spec: str) -> KeyRing:
    """``id1:base64key,id2:base64key``: the first key encrypts, every key decrypts."""
    keys: dict[str, bytes] = {}
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep or not re.fullmatch(r"[A-Za-z0-9_-]{1,16}", key_id):
            raise ImproperlyConfigured("KYC_FIELD_KEYS entries look like 'keyid:base64-of-32-bytes'")
        try:
            key = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise ImproperlyConfigured(f"KYC_FIELD_KEYS key {key_id!r} is not valid base64") from None
        if len(key) != 32:
            raise ImproperlyConfigured(f"KYC_FIELD_KEYS key {key_id!r} must be 32 bytes, not {len(key)}")
        keys[key_id] = key
    if not keys:
        raise ImproperlyConfigured("KYC_FIELD_KEYS holds no key")
    return KeyRing(current_id=next(iter(keys)), keys=keys)


@lru_cache(maxsize=4)
def _keyring(spec: str) -> KeyRing:
    return parse_keys(spec)


def keyring() -> KeyRing:
    return _keyring(settings.KYC_FIELD_KEYS)


@lru_cache(maxsize=16)
def _cipher(key: bytes) -> AESGCM:
    """One AES-GCM object per key (building one costs more than sealing a short value with it)."""
    return AESGCM(key)


def ciphers_build() -> None:
    """Build the AES-GCM object of every field key now. The first one a process builds costs about 2 ms
    here (OpenSSL's one-time set-up; the next 0.01 ms), which each worker's first job paid until the
    cluster built them once before forking its workers (kyc.workers.preload)."""
    for key in keyring().keys.values():
        _cipher(key)


def encrypt(plaintext: str, *, aad: str) -> str:
    ring = keyring()
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher(ring.keys[ring.current_id]).encrypt(nonce, plaintext.encode(), aad.encode())
    return f"{PREFIX}:{ring.current_id}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, aad: str) -> str:
    try:
        version, key_id, payload = token.split(":", 2)
    except ValueError:
        raise DecryptionError("not an encrypted value") from None
    key = keyring().keys.get(key_id)
    if version != PREFIX or key is None:
        raise DecryptionError(f"unknown format or key id {key_id!r}")
    raw = base64.b64decode(payload)
    try:
        return _cipher(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], aad.encode()).decode()
    except InvalidTag:
        raise DecryptionError("value failed authentication (wrong key, tampered or moved)") from None


def key_id_of(token: str) -> str:
    return token.split(":", 2)[1]


def normalise_number(number: str) -> str:
    """Upper case without spaces, brackets or hyphens: ``a123456(3)`` -> ``A1234563``."""
    return re.sub(r"[\s()\[\]\-]", "", number).upper()


def blind_index(namespace: str, number: str) -> str:
    """Keyed HMAC-SHA256 of a normalised document number, for exact-match lookups without plaintext.

    ``namespace`` groups numbers that are comparable: all HKID numbers share ``hkid`` (the HKID card's
    own number and the one on a Mainland Travel Permit's back side), other documents use their type.
    """
    key = settings.KYC_BLIND_INDEX_KEY.encode()
    message = f"{namespace}|{normalise_number(number)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def value_digest(value: str) -> str:
    """A keyed digest that lets the audit chain commit to a value without holding it."""
    key = settings.KYC_BLIND_INDEX_KEY.encode()
    return hmac.new(key, b"audit|" + value.encode(), hashlib.sha256).hexdigest()[:32]
