"""SM2 signatures with SM3 (国密) for issuer keys, through ``tongsuopy`` (Tongsuo's binding;
``cryptography`` has no SM2). Keys are PKCS#8 / SubjectPublicKeyInfo DER like the other
algorithms, so storage, key ids and publication do not change. The signature is DER, as
tongsuopy's ``sign(message, ECDSA(SM3()))`` produces it on an SM2 key.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


class Sm2Unavailable(RuntimeError):
    """tongsuopy is not installed: SM2 keys cannot be made or used here."""


def _tongsuo() -> Any:
    try:
        from tongsuopy.crypto import hashes, serialization
        from tongsuopy.crypto.asymciphers import ec
        from tongsuopy.crypto.exceptions import (
            InternalError,
            InvalidSignature,
            UnsupportedAlgorithm,
        )
    except ImportError as error:  # pragma: no cover - tongsuopy is a dependency
        raise Sm2Unavailable("SM2 needs the tongsuopy package") from error
    return hashes, serialization, ec, (InvalidSignature, UnsupportedAlgorithm, InternalError)


def generate() -> tuple[bytes, bytes]:
    """``(private PKCS#8 DER, public SubjectPublicKeyInfo DER)`` of a new SM2 key."""
    _hashes, serialization, ec, _invalid = _tongsuo()
    private = ec.generate_private_key(ec.SM2())
    private_der = private.private_bytes(serialization.Encoding.DER,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    public_der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private_der, public_der


def sign(private_der: bytes, message: bytes) -> bytes:
    hashes, serialization, ec, _invalid = _tongsuo()
    private = serialization.load_der_private_key(private_der, password=None)
    if not isinstance(private.curve, ec.SM2):
        raise ValueError("stored key is not an SM2 key")
    return bytes(private.sign(message, ec.ECDSA(hashes.SM3())))


@lru_cache(maxsize=256)
def _public_key(public_der: bytes) -> Any:
    _hashes, serialization, _ec, _invalid = _tongsuo()
    return serialization.load_der_public_key(public_der)


def verify(public_der: bytes, signature: bytes, message: bytes) -> bool:
    """True only for a good SM2/SM3 signature by an SM2 key; anything malformed is False."""
    hashes, _serialization, ec, rejected = _tongsuo()
    try:
        public = _public_key(public_der)
        if not isinstance(public.curve, ec.SM2):
            return False
        public.verify(signature, message, ec.ECDSA(hashes.SM3()))
    except (*rejected, ValueError, TypeError, AttributeError):
        return False
    return True
