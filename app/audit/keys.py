"""The Ed25519 log key: signs tree heads, and (through a key derived from it) seals entries.

Where the key comes from: ``MIANSHEN_AUDIT_SIGNING_KEY`` (base64 of the 32-byte seed) when set,
else a key generated on first use and stored in ``audit_log_key`` encrypted with
``app.privacy.keyring()``. Every key ever used keeps its row (public key, origin) so tree heads
signed before a rotation still verify. ``key_id`` is the first 8 bytes of SHA-256 of the raw
public key, in hex.

Which keys a verifier trusts: a key whose private half it can reproduce (settings, or decrypting
the stored seed with the data key) or a public key pinned on the command line. A public key that
is merely *stored* in the database is never trusted on its own: whoever can rewrite rows could
replace it and re-sign. Queries go through ``repository``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlmodel import Session

from app.audit import repository
from app.audit.models import AuditLogHead, AuditLogKey
from app.privacy import keyring
from app.settings import Settings, get_settings

SEAL_KEY_LABEL = b"mianshen-audit-seal-key/v1"


def public_key_hex(public: Ed25519PublicKey) -> str:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def key_id_of(public_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()[:16]


@dataclass(frozen=True)
class LogKey:
    key_id: str
    public: Ed25519PublicKey
    private: Ed25519PrivateKey | None = None
    seal_key: bytes | None = None

    @property
    def public_hex(self) -> str:
        return public_key_hex(self.public)

    def sign(self, message: bytes) -> str:
        if self.private is None:
            raise RuntimeError(f"log key {self.key_id} has no private half here")
        return self.private.sign(message).hex()

    def verify(self, signature_hex: str, message: bytes) -> bool:
        try:
            self.public.verify(bytes.fromhex(signature_hex), message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def seal(self, message: bytes) -> str:
        if self.seal_key is None:
            raise RuntimeError(f"log key {self.key_id} has no private half here")
        return hmac.new(self.seal_key, message, hashlib.sha256).hexdigest()


@lru_cache(maxsize=16)
def _from_seed(seed: bytes) -> LogKey:
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public_hex = public_key_hex(private.public_key())
    seal_key = hmac.new(seed, SEAL_KEY_LABEL, hashlib.sha256).digest()
    return LogKey(key_id_of(public_hex), private.public_key(), private, seal_key)


def from_public_hex(public_hex: str) -> LogKey:
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
    return LogKey(key_id_of(public_hex), public)


def _settings_seed(settings: Settings) -> bytes | None:
    if settings.audit_signing_key is None:
        return None
    seed = base64.b64decode(settings.audit_signing_key.get_secret_value(), validate=True)
    if len(seed) != 32:
        raise ValueError("MIANSHEN_AUDIT_SIGNING_KEY must be base64 of a 32-byte Ed25519 seed")
    return seed


def _decrypt_seed(row: AuditLogKey, settings: Settings) -> bytes | None:
    if not row.private_key:
        return None
    try:
        seed = keyring(settings).decrypt(row.private_key)
    except Exception:  # wrong data key, unknown kid, damaged ciphertext
        return None
    return seed if len(seed) == 32 else None


def signing_key(session: Session, head: AuditLogHead, settings: Settings | None = None) -> LogKey:
    """The key that signs now; records it (and makes it the head's key) on first use.
    Call with the head row locked."""
    settings = settings or get_settings()
    seed = _settings_seed(settings)
    if seed is not None:
        key = _from_seed(seed)
        if repository.log_key(session, key.key_id) is None:
            repository.add_log_key(session, key.key_id, key.public_hex, None, "settings")
    elif head.key_id and (row := repository.log_key(session, head.key_id)) is not None:
        stored = _decrypt_seed(row, settings)
        if stored is None:
            raise RuntimeError(
                f"cannot decrypt audit log key {row.key_id}: check MIANSHEN_DATA_KEYS"
            )
        key = _from_seed(stored)
    else:
        key = _from_seed(Ed25519PrivateKey.generate().private_bytes_raw())
        encrypted = keyring(settings).encrypt(key.private.private_bytes_raw())  # type: ignore[union-attr]
        repository.add_log_key(session, key.key_id, key.public_hex, encrypted, "generated")
    if head.key_id != key.key_id:
        head.key_id = key.key_id
    return key


def trusted_keys(
    session: Session, pinned_public_keys: list[str] | None = None, settings: Settings | None = None
) -> dict[str, LogKey]:
    """Keys a verifier may rely on (see the module docstring), by key id."""
    settings = settings or get_settings()
    trusted: dict[str, LogKey] = {}
    settings_seed = _settings_seed(settings)
    if settings_seed is not None:
        key = _from_seed(settings_seed)
        trusted[key.key_id] = key
    for row in repository.log_keys(session):
        seed = _decrypt_seed(row, settings)
        if seed is not None:
            key = _from_seed(seed)
            if key.key_id == row.key_id and key.public_hex == row.public_key:
                trusted[key.key_id] = key
    for public_hex in pinned_public_keys or []:
        key = from_public_hex(public_hex.strip().lower())
        trusted.setdefault(key.key_id, key)
    return trusted
