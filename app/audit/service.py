"""Audit log operations: append (inside the caller's transaction), publish signed tree heads,
inclusion and consistency proofs. Whole-log verification is in ``verification``.

Contract of :func:`append` / :func:`append_many` (unchanged signature; what callers rely on):

* ``append_many(session, [(kind, payload), ...], now=None) -> list[LoggedEntry]``: ``kind`` an
  :class:`EntryKind` or its value, ``payload`` a dict or a pydantic model; a model that *is*
  the kind's payload class (``DecisionPayload(...)``) is trusted as validated, anything else is
  validated. Results are in input order; ``LoggedEntry`` is a frozen dataclass (``seq``,
  ``kind``, ``record_ref``, ``leaf_hash``, ``appended_at``, ``created``).
* Runs in the caller's transaction and flushes, never commits. It takes the log-head row lock,
  which is held until the caller commits: append late, in short transactions, and in batches
  (one lock, one ``COPY`` of the entries and one of the subtree nodes on PostgreSQL; batches of
  100,000 are fine).
* ``(kind, record_id)`` is logged exactly once: appending it again returns the logged entry
  (``created=False``); again with a *different* payload raises :class:`AuditConflict` and
  nothing of the batch is written. Payloads holding personal data are refused.

Sequence numbers are gap-free and unique under any concurrency (the lock, see ``repository``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session

from app.audit import batch, keys, merkle, repository
from app.audit.merkle import CompactRange, TreeHasher
from app.audit.models import AuditEntry, AuditLogHead, AuditTreeHead
from app.audit.schemas import (
    ConsistencyProofView,
    EntryKind,
    InclusionProofView,
    LoggedEntry,
    TreeHeadView,
    format_timestamp,
    sth_message,
)
from app.errors import Conflict, MianshenError, NotFound, ValidationFailed
from app.settings import get_settings

NOT_COVERED = "entry {seq} is not yet covered by a signed tree head; run `mianshen audit sth`"


class AuditConflict(Conflict):
    """The record is already logged with different content."""


class LogIntegrityError(MianshenError):
    """The stored log does not reproduce what was signed; run ``mianshen audit verify``."""

    status_code = 500


def _now() -> datetime:
    return datetime.now(UTC)


def _open_log(session: Session, now: datetime,
              hash_algorithm: str | None = None) -> tuple[AuditLogHead, TreeHasher, keys.LogKey]:
    """Lock the head row (creating the log on first use) and load the signing key."""
    head = repository.lock_head(session)
    if head is None:
        algorithm = hash_algorithm or get_settings().audit_hash_algorithm
        merkle.hasher_for(algorithm)
        repository.create_head(session, algorithm, now)
        head = repository.lock_head(session)
        if head is None:  # pragma: no cover - the insert above or a concurrent one made it
            raise LogIntegrityError("audit log head row vanished")
    key = keys.signing_key(session, head)
    return head, merkle.hasher_for(head.hash_algorithm), key


def create_log(session: Session, hash_algorithm: str) -> str:
    """Create the log with ``hash_algorithm`` (``sha256`` or ``sm3``); the hash of an existing
    log never changes. Returns the log's algorithm."""
    _head, hasher, _key = _open_log(session, _now(), hash_algorithm)
    if hasher.name != hash_algorithm:
        raise Conflict(f"the audit log already uses {hasher.name}, not {hash_algorithm}")
    session.flush()
    return hasher.name


def _stored_payload(entry: AuditEntry) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(entry.data)["payload"]
    return payload


def append(session: Session, kind: EntryKind | str, payload: BaseModel | dict[str, Any],
           *, now: datetime | None = None) -> LoggedEntry:
    """Log one record in the caller's transaction (exactly once per ``(kind, record_id)``)."""
    return append_many(session, [(kind, payload)], now=now)[0]


def append_many(session: Session,
                items: Iterable[tuple[EntryKind | str, BaseModel | Mapping[str, Any]]],
                *, now: datetime | None = None) -> list[LoggedEntry]:
    """Log several records under one lock, in the given order; results in the same order.

    Payloads are validated before the lock is taken; under it, the already logged
    ``(kind, record_id)`` pairs are looked up in one query per kind, and the new entries and
    subtree nodes are written with ``COPY`` on PostgreSQL (batched ``INSERT`` on SQLite)."""
    with batch.cyclic_gc_paused():
        return _append_batch(session, [batch.prepare(kind, payload) for kind, payload in items],
                             now)


def _append_batch(session: Session, prepared: list[batch.Prepared],
                  now: datetime | None) -> list[LoggedEntry]:
    if not prepared:
        return []
    head, hasher, key = _open_log(session, now or _now())
    moment = now or _now()  # taken under the lock, so times never go back along the log
    if moment.utcoffset() is None:
        raise ValidationFailed("audit append time must be timezone-aware")
    already = repository.entries_by_ref(session, [(p.kind, p.record_ref) for p in prepared])
    builder = batch.BatchBuilder(
        hasher, key, CompactRange(hasher, head.tree_size,
                                  [bytes.fromhex(peak) for peak in json.loads(head.compact_range)]),
        moment, format_timestamp(moment))
    in_batch: dict[tuple[str, str], tuple[str, LoggedEntry]] = {}
    results: list[LoggedEntry] = []
    for item in prepared:
        identity = (item.kind, item.record_ref)
        if identity in already:
            entry = already[identity]
            if batch.stored_payload_json(entry.data) != item.payload_json:
                raise AuditConflict(f"{item.kind} {item.record_ref} is already logged with "
                                    "different content")
            results.append(LoggedEntry(entry.seq, entry.kind, entry.record_ref, entry.leaf_hash,
                                       entry.appended_at, False))
        elif identity in in_batch:
            first_json, first = in_batch[identity]
            if first_json != item.payload_json:
                raise AuditConflict(f"{item.kind} {item.record_ref} appears twice with "
                                    "different content")
            results.append(LoggedEntry(first.seq, first.kind, first.record_ref, first.leaf_hash,
                                       first.appended_at, False))
        else:
            seq, leaf_hex = builder.add(item)
            logged = LoggedEntry(seq, item.kind, item.record_ref, leaf_hex, moment, True)
            in_batch[identity] = (item.payload_json, logged)
            results.append(logged)
    if builder.rows:
        repository.insert_entries(session, batch.ENTRY_COLUMNS, builder.rows)
        repository.insert_nodes(session, builder.nodes)
        head.tree_size = builder.compact.size
        head.compact_range = json.dumps([peak.hex() for peak in builder.compact.peaks])
        head.updated_at = moment
    session.add(head)
    session.flush()
    return results


# --- signed tree heads ------------------------------------------------------------------------


def tree_head_view(tree_head: AuditTreeHead) -> TreeHeadView:
    message = sth_message(tree_head.hash_algorithm, tree_head.tree_size, tree_head.root_hash,
                          tree_head.timestamp_ms, tree_head.key_id)
    return TreeHeadView(id=tree_head.id, tree_size=tree_head.tree_size,
                        root_hash=tree_head.root_hash, hash_algorithm=tree_head.hash_algorithm,
                        timestamp_ms=tree_head.timestamp_ms, key_id=tree_head.key_id,
                        signature=tree_head.signature, signed_message=message.decode())


def publish_tree_head(session: Session, *, only_if_grown: bool = False,
                      now: datetime | None = None) -> TreeHeadView:
    """Sign and store the head of the log as committed so far. With ``only_if_grown`` (the
    periodic task) nothing new is signed while the log has not grown since the last head."""
    moment = now or _now()
    head, hasher, key = _open_log(session, moment)
    latest = repository.latest_tree_head(session)
    if only_if_grown and latest is not None and latest.tree_size == head.tree_size:
        session.flush()
        return tree_head_view(latest)
    peaks = [bytes.fromhex(peak) for peak in json.loads(head.compact_range)]
    compact = CompactRange(hasher, head.tree_size, peaks)
    stored = repository.fetch_nodes(session, compact.peak_keys())
    if [stored.get(node_key) for node_key in compact.peak_keys()] != peaks:
        raise LogIntegrityError("the log head does not match the stored tree; refusing to sign")
    timestamp_ms = int(moment.timestamp() * 1000)
    if latest is not None:
        timestamp_ms = max(timestamp_ms, latest.timestamp_ms)
    root = compact.root().hex()
    message = sth_message(hasher.name, head.tree_size, root, timestamp_ms, key.key_id)
    tree_head = repository.add_tree_head(session, AuditTreeHead(
        tree_size=head.tree_size, root_hash=root, hash_algorithm=hasher.name,
        timestamp_ms=timestamp_ms, key_id=key.key_id, signature=key.sign(message),
    ))
    session.add(head)
    session.flush()
    return tree_head_view(tree_head)


# --- proofs -----------------------------------------------------------------------------------


def find_entry(session: Session, reference: str) -> AuditEntry:
    """An entry by sequence number (``42``) or by ``kind:record_id`` (``payment:P-2025-11-7``)."""
    reference = reference.strip()
    entry: AuditEntry | None = None
    if reference.isdigit():
        entry = repository.entry_by_seq(session, int(reference))
    elif ":" in reference:
        kind, _, record_ref = reference.partition(":")
        entry = repository.entry_by_ref(session, kind, record_ref)
    if entry is None:
        raise NotFound(f"no audit entry {reference!r} (give a sequence number or kind:record_id)")
    return entry


def _fetch(session: Session) -> merkle.NodeFetch:
    def fetch(node_keys: Sequence[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
        return repository.fetch_nodes(session, node_keys)
    return fetch


def inclusion_proof(session: Session, reference: str) -> InclusionProofView:
    """Proof that the entry is in the latest signed tree head, checked before it is returned."""
    entry = find_entry(session, reference)
    tree_head = repository.latest_tree_head(session)
    if tree_head is None or tree_head.tree_size <= entry.seq:
        raise NotFound(NOT_COVERED.format(seq=entry.seq))
    hasher = merkle.hasher_for(tree_head.hash_algorithm)
    leaf = hasher.leaf(entry.data.encode())
    root = bytes.fromhex(tree_head.root_hash)
    try:
        path = merkle.inclusion_proof(hasher, entry.seq, tree_head.tree_size, _fetch(session))
    except LookupError as error:
        raise LogIntegrityError(f"cannot build the proof: {error}") from None
    if leaf.hex() != entry.leaf_hash or not merkle.verify_inclusion(
        hasher, entry.seq, tree_head.tree_size, leaf, path, root
    ):
        raise LogIntegrityError(f"entry {entry.seq} does not verify against tree head "
                                f"#{tree_head.id}; run `mianshen audit verify`")
    key_row = repository.log_key(session, tree_head.key_id)
    if key_row is None:
        raise LogIntegrityError(f"the key {tree_head.key_id} of tree head #{tree_head.id} is gone")
    return InclusionProofView(
        hash_algorithm=hasher.name, leaf_index=entry.seq, tree_size=tree_head.tree_size,
        leaf_data=entry.data, leaf_hash=leaf.hex(), inclusion_path=[p.hex() for p in path],
        tree_head=tree_head_view(tree_head), public_key=key_row.public_key,
        entry={"seq": entry.seq, "kind": entry.kind, "record_ref": entry.record_ref,
               "appended_at": format_timestamp(entry.appended_at),
               "payload": _stored_payload(entry)},
    )


def consistency_proof(session: Session, old_size: int, new_size: int) -> ConsistencyProofView:
    """Proof that the signed tree head of ``new_size`` extends the one of ``old_size``."""
    heads = {size: repository.tree_head_of_size(session, size) for size in (old_size, new_size)}
    missing = [size for size, tree_head in heads.items() if tree_head is None]
    if missing:
        raise NotFound(f"no signed tree head of size {missing[0]}")
    old, new = heads[old_size], heads[new_size]
    assert old is not None and new is not None
    hasher = merkle.hasher_for(new.hash_algorithm)
    try:
        path = merkle.consistency_proof(hasher, old_size, new_size, _fetch(session))
    except ValueError as error:
        raise ValidationFailed(str(error)) from None
    except LookupError as error:
        raise LogIntegrityError(f"cannot build the proof: {error}") from None
    verified = merkle.verify_consistency(hasher, old_size, new_size, bytes.fromhex(old.root_hash),
                                         bytes.fromhex(new.root_hash), path)
    return ConsistencyProofView(
        hash_algorithm=hasher.name, old_size=old_size, new_size=new_size,
        old_root=old.root_hash, new_root=new.root_hash,
        consistency_path=[p.hex() for p in path], verified=verified,
    )
