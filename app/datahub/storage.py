"""Encoding of validated rows for storage, and of rejected rows for the quarantine.

A valid row becomes its storage row (see the ``catalog`` docstring): ID numbers as pseudonymous
keys (``keyring().subject_key``), a mobile as its blind index (``mobile_index``), every personal
value of the row in one encrypted JSON envelope (``pii``, readable with
``keyring().decrypt_json``) and ``row_hash``, the keyed hash of the row's canonical plaintext, so
importing identical data again changes nothing. A rejected row keeps its raw values only
encrypted, with a fingerprint that makes a re-import add nothing.

These are the only per-row Python loops of the import, and only for hashing and encryption:
the hashers reuse one keyed BLAKE2b state (``copy()``) and the nonces for a batch come from one
``os.urandom`` call; both produce exactly what ``app.privacy`` produces (tests compare them).
Validation lives in ``validation``, writing in ``repository``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import polars as pl

from app.datahub.catalog import DatasetSpec, FieldSpec, FieldType
from app.datahub.validation import EXTRA, REASON, ROW
from app.privacy import MOBILE, SUBJECT, Keyring
from app.privacy import ROW as ROW_PURPOSE

QUARANTINE = b"ms-quarantine"
NONCE_BYTES = 12


def blind_indexer(ring: Keyring, purpose: bytes) -> Callable[[str], str]:
    """``ring.blind_index(value, purpose)`` for many values, without re-keying each time."""
    keyed = hashlib.blake2b(key=ring.blind_key, person=purpose, digest_size=16)

    def index(value: str) -> str:
        state = keyed.copy()
        state.update(value.encode())
        return state.hexdigest()

    return index


def index_all(ring: Keyring, purpose: bytes, values: pl.Series) -> pl.Series:
    """``blind_indexer`` over a whole Series (nulls stay null); the UTF-8 bytes come from one
    Polars cast instead of a ``str.encode`` per value."""
    keyed = hashlib.blake2b(key=ring.blind_key, person=purpose, digest_size=16)
    indexes: list[str | None] = []
    for value in values.cast(pl.Binary).to_list():
        if value is None:
            indexes.append(None)
            continue
        state = keyed.copy()
        state.update(value)
        indexes.append(state.hexdigest())
    return pl.Series(values.name, indexes, dtype=pl.String)


def encrypt_all(ring: Keyring, plaintexts: pl.Series | Iterable[str]) -> pl.Series:
    """``ring.encrypt`` of each text (same ``<kid>.<base64(nonce || ciphertext)>`` tokens)."""
    if isinstance(plaintexts, pl.Series):
        texts = plaintexts.cast(pl.Binary).to_list()
    else:
        texts = [text.encode() for text in plaintexts]
    cipher, kid = ring.ciphers[ring.active_kid], ring.active_kid
    aad, nonces = kid.encode(), os.urandom(NONCE_BYTES * len(texts))
    sealed = []
    for position, text in enumerate(texts):
        nonce = nonces[position * NONCE_BYTES : (position + 1) * NONCE_BYTES]
        sealed.append(nonce + cipher.encrypt(nonce, text, aad))
    encoded = pl.Series(sealed, dtype=pl.Binary).bin.encode("base64")
    return (f"{kid}." + encoded).alias("ciphertext")


def identity_columns(valid: pl.DataFrame, spec: DatasetSpec, ring: Keyring) -> pl.DataFrame:
    """The natural key in its storage columns, and ``row_hash``: what tells a held row from a
    new or changed one before anything is encrypted."""
    columns: dict[str, pl.Series] = {}
    for name in spec.key:
        field = spec.field(name)
        column = field.storage_column
        assert column is not None, f"{spec.name}.{name}: a key is never stored only encrypted"
        columns[column] = _stored(field, valid.get_column(name), ring).alias(column)
    canonical = valid.select(pl.struct([f.name for f in spec.all_fields]).struct.json_encode())
    columns["row_hash"] = index_all(ring, ROW_PURPOSE, canonical.to_series().alias("row_hash"))
    return pl.DataFrame(columns)


def _stored(field: FieldSpec, values: pl.Series, ring: Keyring) -> pl.Series:
    if field.type is FieldType.ID_NUMBER:
        return index_all(ring, SUBJECT, values)
    if field.type is FieldType.MOBILE:
        return index_all(ring, MOBILE, values)
    return values


def storage_rows(
    valid: pl.DataFrame, spec: DatasetSpec, ring: Keyring, identity: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Valid typed rows (``validation``) → the storage columns of ``spec``'s table, without
    ``id``, ``updated_at`` and ``batch_id`` (the upsert sets those). ``identity`` is
    ``identity_columns`` of the same rows when the caller already has it."""
    if identity is None:
        identity = identity_columns(valid, spec, ring)
    columns: dict[str, pl.Series] = {}
    for field in spec.all_fields:
        column = field.storage_column
        if column is None:
            continue
        if column in identity.columns:
            columns[column] = identity.get_column(column)
        else:
            columns[column] = _stored(field, valid.get_column(field.name), ring).alias(column)
    personal = [f.name for f in spec.all_fields if f.personal]
    if personal:
        envelopes = valid.select(pl.struct(personal).struct.json_encode()).to_series()
        columns["pii"] = encrypt_all(ring, envelopes).alias("pii")
    columns["row_hash"] = identity.get_column("row_hash")
    return pl.DataFrame(columns)


def quarantine_entries(
    rejected: pl.DataFrame, dataset: str, file_name: str, ring: Keyring, *, batch_id: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """Rejected rows (``validation``) as quarantine records: the raw row only encrypted, and a
    fingerprint of dataset, file name, row number and content, so a re-import adds nothing."""
    fingerprint = blind_indexer(ring, QUARANTINE)
    entries = []
    for row in rejected.iter_rows(named=True):
        raw = {name: value for name, value in row.items()
               if name not in (ROW, REASON, EXTRA) and value is not None}
        if row.get(EXTRA) is not None:
            raw[EXTRA] = row[EXTRA]
        identity = json.dumps([dataset, file_name, row[ROW], raw], ensure_ascii=False,
                              sort_keys=True)
        entries.append({
            "fingerprint": fingerprint(identity),
            "dataset": dataset,
            "file_name": file_name,
            "row_number": row[ROW],
            "reason": row[REASON],
            "raw": ring.encrypt_json(raw),
            "batch_id": batch_id,
            "created_at": now,
        })
    return entries
