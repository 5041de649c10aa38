"""Audit log operations: append (inside the caller's transaction), publish signed tree heads,
inclusion and consistency proofs. Whole-log verification is in ``verification``.

Appending takes the log-head row lock (see ``repository``), so sequence numbers are gap-free and
unique under any concurrency; the lock is held until the caller commits, so callers append late
in short transactions and use :func:`append_many` for batches (one lock, one bulk insert).
``(kind, record_id)`` is logged exactly once: appending it again returns the logged entry, and
appending it again with a *different* payload is refused (:class:`AuditConflict`).
Services flush, never commit (the edge owns the transaction).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from app.audit import keys, merkle, repository
from app.audit.merkle import CompactRange, TreeHasher
from app.audit.models import AuditEntry, AuditLogHead, AuditTreeHead
from app.audit.schemas import (
    PAYLOAD_SCHEMAS,
    ConsistencyProofView,
    EntryKind,
    InclusionProofView,
    LoggedEntry,
    TreeHeadView,
    canonical_json,
    format_timestamp,
    leaf_data,
    personal_data_in,
    seal_message,
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


def _prepare(kind: EntryKind | str, payload: BaseModel | dict[str, Any]
             ) -> tuple[str, str, str]:
    """Validate a payload; return its kind, record id and canonical JSON."""
    try:
        entry_kind = EntryKind(kind)
    except ValueError:
        raise ValidationFailed(f"unknown audit entry kind {kind!r}") from None
    schema = PAYLOAD_SCHEMAS[entry_kind]
    try:
        model = payload if type(payload) is schema else schema.model_validate(
            payload.model_dump() if isinstance(payload, BaseModel) else payload)
        values = model.model_dump()
        payload_json = canonical_json(values)
    except ValidationError as error:  # field names and reasons only: values may be personal
        reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'payload'}: {e['msg']}"
                            for e in error.errors())
        raise ValidationFailed(f"invalid {entry_kind} audit payload: {reasons}") from None
    except (ValueError, TypeError) as error:
        raise ValidationFailed(f"invalid {entry_kind} audit payload: {error}") from None
    where = personal_data_in(values, payload_json)
    if where:
        raise ValidationFailed(f"{entry_kind} audit payload holds personal data at {where}")
    return entry_kind.value, model.record_id, payload_json


def _stored_payload(entry: AuditEntry) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(entry.data)["payload"]
    return payload


def _same_payload(entry: AuditEntry, payload_json: str) -> bool:
    return canonical_json(_stored_payload(entry)) == payload_json


def _logged(entry: AuditEntry | dict[str, Any], created: bool) -> LoggedEntry:
    values = entry if isinstance(entry, dict) else entry.model_dump()
    return LoggedEntry.model_construct(
        seq=values["seq"], kind=values["kind"], record_ref=values["record_ref"],
        leaf_hash=values["leaf_hash"], appended_at=values["appended_at"], created=created,
    )


def append(session: Session, kind: EntryKind | str, payload: BaseModel | dict[str, Any],
           *, now: datetime | None = None) -> LoggedEntry:
    """Log one record in the caller's transaction (exactly once per ``(kind, record_id)``)."""
    return append_many(session, [(kind, payload)], now=now)[0]


def append_many(session: Session,
                items: Iterable[tuple[EntryKind | str, BaseModel | dict[str, Any]]],
                *, now: datetime | None = None) -> list[LoggedEntry]:
    """Log several records under one lock, in the given order; results in the same order."""
    prepared = [_prepare(kind, payload) for kind, payload in items]
    if not prepared:
        return []
    head, hasher, key = _open_log(session, now or _now())
    moment = now or _now()  # taken under the lock, so times never go back along the log
    appended_at = format_timestamp(moment)
    already = repository.entries_by_ref(session, [(kind, ref) for kind, ref, _ in prepared])
    compact = CompactRange(hasher, head.tree_size,
                           [bytes.fromhex(peak) for peak in json.loads(head.compact_range)])
    rows: list[dict[str, Any]] = []
    batch: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    nodes: list[tuple[merkle.NodeKey, bytes]] = []
    results: list[LoggedEntry] = []
    for kind, ref, payload in prepared:
        if (kind, ref) in already:
            if not _same_payload(already[(kind, ref)], payload):
                raise AuditConflict(f"{kind} {ref} is already logged with different content")
            results.append(_logged(already[(kind, ref)], created=False))
            continue
        if (kind, ref) in batch:
            first_payload, first_row = batch[(kind, ref)]
            if first_payload != payload:
                raise AuditConflict(f"{kind} {ref} appears twice with different content")
            results.append(_logged(first_row, created=False))
            continue
        seq = compact.size
        data = leaf_data(seq, kind, ref, appended_at, payload)
        leaf = hasher.leaf(data.encode())
        nodes.extend(compact.append(leaf))
        row = {"seq": seq, "kind": kind, "record_ref": ref, "appended_at": moment, "data": data,
               "leaf_hash": leaf.hex(), "key_id": key.key_id,
               "seal": key.seal(seal_message(hasher.name, seq, leaf.hex()))}
        rows.append(row)
        batch[(kind, ref)] = (payload, row)
        results.append(_logged(row, created=True))
    if rows:
        repository.insert_entries(session, rows)
        repository.insert_nodes(session, nodes)
        head.tree_size = compact.size
        head.compact_range = json.dumps([peak.hex() for peak in compact.peaks])
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
