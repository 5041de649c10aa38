"""Random tokens and their stored hashes. Secrets presented by callers (session tokens, API key
secrets, one-time codes) are high-entropy or server-keyed, so a fast hash is enough: SHA-256 for
random session tokens, keyed BLAKE2b (the blind-index key, one personalisation per purpose) for
API key secrets and the 6-digit codes (a stolen table cannot be brute-forced offline)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from app.privacy import keyring

API_KEY = b"ms-apikey"
CODE = b"ms-otp"
IDENTITY = b"ms-identity"


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_hash(value: str, purpose: bytes) -> str:
    return keyring().blind_index(value, purpose)


def csrf_token_for(session_token: str) -> str:
    """The session's CSRF token: derived from the session token, so nothing more is stored and
    nobody without the cookie can compute it."""
    return hashlib.blake2b(b"csrf", key=session_token.encode()[:64], digest_size=16).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"
