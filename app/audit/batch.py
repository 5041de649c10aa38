"""Building one batch of audit entries in memory: payload validation to canonical JSON (done
before the log lock is taken), then, under the lock, sequence numbers, leaf data, leaf hashes,
seals and the completed subtree nodes, as plain tuples ready for ``COPY``.

The per-entry work is kept to C-implemented steps (pydantic validation, ``json.dumps``,
``hashlib``/``hmac`` one-shot digests): at 100,000 entries per batch every microsecond per entry
is 0.1 s. No database access lives here; ``service.append_many`` reads and writes.
"""

from __future__ import annotations

import gc
import hmac
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from app.audit import merkle
from app.audit.keys import LogKey
from app.audit.merkle import CompactRange, TreeHasher
from app.audit.schemas import (
    PAYLOAD_SCHEMAS,
    SEAL_HEADER,
    EntryKind,
    canonical_json,
    leaf_data,
    personal_data_in,
)
from app.errors import ValidationFailed

ENTRY_COLUMNS = ("seq", "kind", "record_ref", "appended_at", "data", "leaf_hash", "key_id",
                 "seal")
_KINDS: dict[str, EntryKind] = {kind.value: kind for kind in EntryKind}


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch is built: 100,000 entries allocate
    millions of containers and the collector's repeated passes over them cost more than the
    work itself (measured: validation 10 µs → 3 µs per entry). Reference counting still frees
    everything; the collector is re-enabled afterwards if it was on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True, slots=True)
class Prepared:
    kind: str
    record_ref: str
    payload_json: str


def prepare(kind: EntryKind | str, payload: BaseModel | Mapping[str, Any]) -> Prepared:
    """Validate a payload against its kind's schema; its kind, record id and canonical JSON.
    Refusals name fields and reasons only (values may be personal)."""
    entry_kind = _KINDS.get(kind) if isinstance(kind, str) else None
    if entry_kind is None:
        raise ValidationFailed(f"unknown audit entry kind {kind!r}")
    schema = PAYLOAD_SCHEMAS[entry_kind]
    try:
        if type(payload) is schema:
            model = payload
        elif isinstance(payload, BaseModel):
            model = schema.model_validate(payload.model_dump())
        else:
            model = schema.model_validate(payload)
        # The validated fields and extras as they are (what model_dump gives, without its
        # recursive copy); canonical_json serialises any nested model.
        values = dict(model.__dict__)
        if model.__pydantic_extra__:
            values.update(model.__pydantic_extra__)
        payload_json = canonical_json(values)
    except ValidationError as error:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'payload'}: {e['msg']}"
                            for e in error.errors())
        raise ValidationFailed(f"invalid {entry_kind} audit payload: {reasons}") from None
    except (ValueError, TypeError) as error:
        raise ValidationFailed(f"invalid {entry_kind} audit payload: {error}") from None
    where = personal_data_in(values, payload_json)
    if where:
        raise ValidationFailed(f"{entry_kind} audit payload holds personal data at {where}")
    return Prepared(entry_kind.value, str(values["record_id"]), payload_json)


@dataclass
class BatchBuilder:
    """Appends prepared entries to a compact range; collects entry rows and new nodes."""

    hasher: TreeHasher
    key: LogKey
    compact: CompactRange
    moment: datetime
    appended_at: str
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    nodes: list[tuple[merkle.NodeKey, bytes]] = field(default_factory=list)

    def add(self, item: Prepared) -> tuple[int, str]:
        """Log ``item`` at the next sequence number; returns the number and the leaf hash."""
        seq = self.compact.size
        data = leaf_data(seq, item.kind, item.record_ref, self.appended_at, item.payload_json)
        leaf = self.hasher.leaf(data.encode())
        leaf_hex = leaf.hex()
        self.nodes.extend(self.compact.append(leaf))
        self.rows.append((seq, item.kind, item.record_ref, self.moment, data, leaf_hex,
                          self.key.key_id, self._seal(seq, leaf_hex)))
        return seq, leaf_hex

    def _seal(self, seq: int, leaf_hex: str) -> str:
        # the bytes of schemas.seal_message, MAC'd in one C call (LogKey.seal is the same MAC)
        if self.key.seal_key is None:
            return self.key.seal(b"")  # raises: the key has no private half here
        message = f"{SEAL_HEADER}\n{self.hasher.name}\n{seq}\n{leaf_hex}\n".encode()
        return hmac.digest(self.key.seal_key, message, "sha256").hex()


def stored_payload_json(data: str) -> str:
    """The canonical payload JSON inside stored leaf data (to compare with a new append)."""
    return canonical_json(json.loads(data)["payload"])
