"""Privacy primitives: AES-256-GCM encryption of personal data at rest, keyed blind indexes,
pseudonymous subject keys, and masking for display.

Ciphertext is text ``<kid>.<base64(nonce || ciphertext)>`` so rows stay COPY-friendly and a key
rotation only needs a new first key in ``MIANSHEN_DATA_KEYS`` (old kids keep decrypting).
The blind index is keyed BLAKE2b with a per-purpose personalisation, so the subject key of an ID
number and the index of a mobile number cannot be correlated. Nothing here logs values.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.settings import Settings, get_settings

SUBJECT = b"ms-subject"
MOBILE = b"ms-mobile"
ROW = b"ms-row"


@dataclass(frozen=True)
class Keyring:
    active_kid: str
    ciphers: dict[str, AESGCM]
    blind_key: bytes

    @classmethod
    def from_secrets(cls, data_keys: str, blind_index_key: str) -> Keyring:
        ciphers: dict[str, AESGCM] = {}
        active = ""
        for item in data_keys.split(";"):
            kid, _, b64 = item.strip().partition(":")
            key = base64.b64decode(b64)
            if len(key) != 32 or not kid or "." in kid:
                raise ValueError("MIANSHEN_DATA_KEYS entries must be 'kid:base64(32 bytes)'")
            ciphers[kid] = AESGCM(key)
            active = active or kid
        blind = hashlib.sha256(blind_index_key.encode()).digest()
        return cls(active_kid=active, ciphers=ciphers, blind_key=blind)

    def encrypt(self, plaintext: bytes) -> str:
        nonce = os.urandom(12)
        sealed = self.ciphers[self.active_kid].encrypt(nonce, plaintext, self.active_kid.encode())
        return f"{self.active_kid}.{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str) -> bytes:
        kid, _, b64 = token.partition(".")
        raw = base64.b64decode(b64)
        return self.ciphers[kid].decrypt(raw[:12], raw[12:], kid.encode())

    def encrypt_json(self, values: dict[str, Any]) -> str:
        return self.encrypt(json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode())

    def decrypt_json(self, token: str) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.decrypt(token))
        return result

    def blind_index(self, value: str, purpose: bytes) -> str:
        return hashlib.blake2b(
            value.encode(), key=self.blind_key, person=purpose, digest_size=16
        ).hexdigest()

    def subject_key(self, id_number: str) -> str:
        """Pseudonymous key of a person: the blind index of the normalised ID number."""
        return self.blind_index(id_number.strip().upper(), SUBJECT)

    def mobile_index(self, mobile: str) -> str:
        return self.blind_index(mobile.strip(), MOBILE)

    def row_hash(self, canonical: str) -> str:
        """Keyed hash of a row's canonical plaintext: detects unchanged rows on re-import."""
        return self.blind_index(canonical, ROW)


_keyring_for = lru_cache(Keyring.from_secrets)


def keyring(settings: Settings | None = None) -> Keyring:
    settings = settings or get_settings()
    return _keyring_for(
        settings.data_keys.get_secret_value(), settings.blind_index_key.get_secret_value()
    )


def mask_id_number(id_number: str) -> str:
    """``440604195601011234`` → ``440604********1234``."""
    if len(id_number) < 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_mobile(mobile: str) -> str:
    """``13812345678`` → ``138****5678``."""
    if len(mobile) < 7:
        return "*" * len(mobile)
    return mobile[:3] + "*" * (len(mobile) - 7) + mobile[-4:]


def mask_name(name: str) -> str:
    """``陈大文`` → ``陈**``; keeps the surname only."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def subject_key_of(subject: str) -> str:
    """What staff type to name a subject: an ID number becomes its pseudonymous key; a USCC or
    a subject key is used as given."""
    from stdnum.cn import ric

    value = subject.strip().upper()
    if len(value) == 18 and ric.is_valid(value):
        return keyring().subject_key(value)
    return subject.strip()
