"""Department signing keys, canonical JSON and the compact signed token.

Keys: Ed25519 by default, ECDSA P-256 (SHA-256, DER signature) or SM2 with SM3 (``certs.sm2``,
through tongsuopy) as options. The private key is
PKCS#8 DER encrypted with ``app.privacy.keyring()`` before it is stored; it is never logged or
printed. ``key_id`` is the first 8 bytes of SHA-256 of the SubjectPublicKeyInfo DER, in hex, and
travels with every signature so a verifier picks the right key after a rotation.

Token: ``base64url(canonical payload) "." base64url(signature) "." key_id`` (no padding). The
signature is over the canonical payload bytes exactly as carried. Nothing here touches the
database.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from app.privacy import keyring
from certs import sm2


class Algorithm(enum.StrEnum):
    ED25519 = "ed25519"
    ECDSA_P256 = "ecdsa-p256"
    SM2 = "sm2-sm3"


class TokenError(ValueError):
    """The token is not well formed (not a signature failure)."""


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class GeneratedKey:
    key_id: str
    algorithm: Algorithm
    public_key_b64: str
    encrypted_private_key: str


def _public_der(public: PublicKeyTypes) -> bytes:
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id_of(public_der: bytes) -> str:
    return hashlib.sha256(public_der).hexdigest()[:16]


def generate_key(algorithm: Algorithm = Algorithm.ED25519) -> GeneratedKey:
    if algorithm is Algorithm.SM2:
        private_der, public_der = sm2.generate()
        return GeneratedKey(
            key_id=key_id_of(public_der), algorithm=algorithm,
            public_key_b64=base64.b64encode(public_der).decode(),
            encrypted_private_key=keyring().encrypt(private_der),
        )
    private: Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    if algorithm is Algorithm.ED25519:
        private = Ed25519PrivateKey.generate()
    elif algorithm is Algorithm.ECDSA_P256:
        private = ec.generate_private_key(ec.SECP256R1())
    else:  # pragma: no cover - enum is closed
        raise ValueError(f"unsupported algorithm {algorithm}")
    public_der = _public_der(private.public_key())
    private_der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return GeneratedKey(
        key_id=key_id_of(public_der),
        algorithm=algorithm,
        public_key_b64=base64.b64encode(public_der).decode(),
        encrypted_private_key=keyring().encrypt(private_der),
    )


def sign(algorithm: str, encrypted_private_key: str, message: bytes) -> bytes:
    return signer(algorithm, encrypted_private_key)(message)


def signer(algorithm: str, encrypted_private_key: str) -> Callable[[bytes], bytes]:
    """A signing function with the key decrypted and loaded once (a batch signs thousands of
    payloads with one key); the key lives only as long as the returned function."""
    if algorithm == Algorithm.SM2:
        raw = keyring().decrypt(encrypted_private_key)
        return lambda message: sm2.sign(raw, message)
    private: PrivateKeyTypes = serialization.load_der_private_key(
        keyring().decrypt(encrypted_private_key), password=None
    )
    if algorithm == Algorithm.ED25519 and isinstance(private, Ed25519PrivateKey):
        return private.sign
    if algorithm == Algorithm.ECDSA_P256 and isinstance(private, ec.EllipticCurvePrivateKey):
        curve_key = private
        return lambda message: curve_key.sign(message, ec.ECDSA(hashes.SHA256()))
    raise ValueError("stored key does not match its algorithm")


@lru_cache(maxsize=256)
def _public_key(public_key_b64: str) -> PublicKeyTypes:
    return serialization.load_der_public_key(base64.b64decode(public_key_b64))


def verify(algorithm: str, public_key_b64: str, signature: bytes, message: bytes) -> bool:
    """True only for a good signature; any malformed key or signature is simply False."""
    if algorithm == Algorithm.SM2:
        try:
            return sm2.verify(base64.b64decode(public_key_b64), signature, message)
        except ValueError:
            return False
    try:
        public = _public_key(public_key_b64)
        if algorithm == Algorithm.ED25519 and isinstance(public, Ed25519PublicKey):
            public.verify(signature, message)
            return True
        if algorithm == Algorithm.ECDSA_P256 and isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, message, ec.ECDSA(hashes.SHA256()))
            return True
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return False


def encode_token(payload_bytes: bytes, signature: bytes, key_id: str) -> str:
    return f"{b64url(payload_bytes)}.{b64url(signature)}.{key_id}"


def decode_token(token: str) -> tuple[bytes, dict[str, Any], bytes, str]:
    """``(payload bytes, payload, signature, key_id)``; raises :class:`TokenError`."""
    if not isinstance(token, str) or len(token) > 8192:
        raise TokenError("token too long or not text")
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts):
        raise TokenError("token must have payload, signature and key id")
    try:
        payload_bytes = unb64url(parts[0])
        signature = unb64url(parts[1])
        payload = json.loads(payload_bytes)
    except (ValueError, UnicodeDecodeError) as error:
        raise TokenError("token is not base64url JSON") from error
    if not isinstance(payload, dict):
        raise TokenError("token payload must be an object")
    return payload_bytes, payload, signature, parts[2]
