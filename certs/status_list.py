"""Bitstring status lists (the W3C Bitstring Status List model), pure functions.

Each issuer has one list per purpose (``revocation``, ``suspension``); a certificate's
``status_index`` is its bit in both. Bit 0 is the most significant bit of the first byte. The
published ``encodedList`` is multibase base64url (``u`` prefix) of the GZIP-compressed bitstring,
at least 131,072 bits long (16 KiB) so one list never reveals how few certificates it covers.
The signed document is ``{"issuer", "purpose", "validFrom", "encodedList", "size"}`` signed
like a certificate token; ``service`` builds it from the certificate rows.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable

from certs.signing import b64url, unb64url

MIN_BITS = 131_072
PURPOSES = ("revocation", "suspension")


class StatusListError(ValueError):
    """Malformed encoded list or index outside it."""


def encode(set_indexes: Iterable[int], min_bits: int = MIN_BITS) -> str:
    indexes = list(set_indexes)
    bits = max(min_bits, (max(indexes) + 1) if indexes else 0)
    raw = bytearray((bits + 7) // 8)
    for index in indexes:
        if index < 0:
            raise StatusListError("negative status index")
        raw[index // 8] |= 0x80 >> (index % 8)
    return "u" + b64url(gzip.compress(bytes(raw), mtime=0))


def decode(encoded: str) -> bytes:
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise StatusListError("encodedList must be multibase base64url ('u' prefix)")
    try:
        return gzip.decompress(unb64url(encoded[1:]))
    except (OSError, ValueError, EOFError) as error:
        raise StatusListError("encodedList is not GZIP base64url") from error


def is_set(raw: bytes, index: int) -> bool:
    if not isinstance(index, int) or index < 0 or index // 8 >= len(raw):
        raise StatusListError("status index outside the list")
    return bool(raw[index // 8] & (0x80 >> (index % 8)))
