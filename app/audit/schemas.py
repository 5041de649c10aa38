"""Shapes of the audit log: entry kinds and their payload schemas, the canonical byte formats
that are hashed or signed (leaf data, tree-head message, entry seal), and the proof and
verification-report shapes the service returns and the CLI prints.

Formats (documented for outside verifiers in ``docs/audit.md``):

* canonical JSON: keys sorted, no whitespace, UTF-8, no NaN/Infinity;
* leaf data: canonical JSON ``{"at", "kind", "payload", "ref", "seq", "v"}``; the leaf hash is
  ``HASH(0x00 || leaf data)``;
* signed tree head message: the lines ``mianshen-audit-sth/v1``, ``hash=``, ``size=``,
  ``root=``, ``time=`` (ms since the epoch), ``key=``, each ending in ``\\n``; Ed25519 over it.

No database access and no logic beyond validation lives here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from json.encoder import encode_basestring
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from stdnum.cn import ric

LEAF_VERSION = 1
STH_HEADER = "mianshen-audit-sth/v1"
SEAL_HEADER = "mianshen-audit-seal/v1"


class EntryKind(StrEnum):
    DECISION = "decision"
    GRANT_STATE = "grant_state"
    PAYMENT = "payment"
    CERTIFICATE_ISSUED = "certificate_issued"
    CERTIFICATE_REVOKED = "certificate_revoked"
    POLICY_APPROVED = "policy_approved"
    POLICY_RETIRED = "policy_retired"


class EntryPayload(BaseModel):
    """Common to every kind: ``record_id`` is the id of the logged record in its own domain.
    ``(kind, record_id)`` is logged exactly once. Domains may add fields (``extra`` allowed);
    payloads hold pseudonymous keys, never names, ID numbers or mobile numbers."""

    model_config = ConfigDict(extra="allow", frozen=True)
    record_id: str = Field(min_length=1, max_length=128)


class DecisionPayload(EntryPayload):
    """Everything ``audit replay`` needs to re-evaluate a decision (DESIGN principle 5)."""

    policy_id: str
    policy_version_hash: str  # hash of the policy document version that was evaluated
    subject_kind: Literal["person", "enterprise", "child"]  # child: per birth certificate
    subject_key: str  # pseudonymous subject key, or the USCC of an enterprise
    as_of: date  # the evaluation date
    parameters: dict[str, Any]  # parameter name -> value in force on ``as_of``
    input_snapshot_hash: str  # hash of the canonical input snapshot the rule saw
    input_snapshot_ref: str | None = None  # where the snapshot itself can be fetched
    engine_version: str
    result: dict[str, Any] = Field(min_length=1)  # e.g. eligible, tier, amount_fen
    explanation_hash: str | None = None


class GrantStatePayload(EntryPayload):
    grant_id: str
    policy_id: str
    subject_key: str
    from_state: str | None = None
    to_state: str
    effective_date: date
    reason: str | None = None
    decision_record_id: str | None = None


class PaymentPayload(EntryPayload):
    grant_id: str
    subject_key: str
    period: str  # YYYY-MM
    amount_fen: int  # negative for a recovery
    payment_kind: Literal["payment", "back_pay", "recovery"] = "payment"


class CertificateIssuedPayload(EntryPayload):
    certificate_id: str  # GB/T 36904 identifier
    certificate_type_code: str
    holder_key: str
    issuer_code: str
    valid_from: date
    valid_to: date | None = None
    content_hash: str


class CertificateRevokedPayload(EntryPayload):
    certificate_id: str
    reason: str
    effective_date: date


class PolicyApprovedPayload(EntryPayload):
    policy_id: str
    policy_version_hash: str
    author_id: str
    approver_id: str
    effective_from: date


class PolicyRetiredPayload(EntryPayload):
    policy_id: str
    policy_version_hash: str
    retired_by: str
    retired_on: date


PAYLOAD_SCHEMAS: dict[EntryKind, type[EntryPayload]] = {
    EntryKind.DECISION: DecisionPayload,
    EntryKind.GRANT_STATE: GrantStatePayload,
    EntryKind.PAYMENT: PaymentPayload,
    EntryKind.CERTIFICATE_ISSUED: CertificateIssuedPayload,
    EntryKind.CERTIFICATE_REVOKED: CertificateRevokedPayload,
    EntryKind.POLICY_APPROVED: PolicyApprovedPayload,
    EntryKind.POLICY_RETIRED: PolicyRetiredPayload,
}

_PERSONAL_FIELD_NAMES = {"name", "id_number", "mobile", "phone", "address"}
_MOBILE = re.compile(r"1[3-9]\d{9}")
_RESIDENT_ID = re.compile(r"\d{17}[\dXx]")
# Quick pre-checks on canonical JSON (two cheap scans instead of one slow alternation).
_SUSPECT_NUMBER = re.compile(r'"(?:\d{17}[\dXx]|1[3-9]\d{9})"')
_SUSPECT_KEY = re.compile('"(?:' + "|".join(sorted(_PERSONAL_FIELD_NAMES)) + ')":')  # lower-cased


def personal_data_in(value: Any, canonical: str | None = None) -> str | None:
    """Where ``value`` seems to hold plaintext personal data (a field named like it, a valid
    resident ID number, a mobile number), or None. The log is permanent; it must hold none.
    ``canonical`` (its canonical JSON) lets the common clean case skip the walk; when given,
    the walk is over the parsed JSON, exactly what would be logged."""
    if canonical is not None:
        if not _SUSPECT_NUMBER.search(canonical) and not _SUSPECT_KEY.search(canonical.lower()):
            return None
        value = json.loads(canonical)
    stack: list[tuple[str, Any]] = [("payload", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if str(key).lower() in _PERSONAL_FIELD_NAMES:
                    return f"{path}.{key}"
                stack.append((f"{path}.{key}", child))
        elif isinstance(item, list | tuple):
            stack.extend((f"{path}[{position}]", child) for position, child in enumerate(item))
        elif isinstance(item, str) and 11 <= len(item) <= 18 and (
            _MOBILE.fullmatch(item) or _is_resident_id(item)
        ):
            return path
    return None


def _is_resident_id(value: str) -> bool:
    """Check digit and birth date of GB 11643 (not the birth place: python-stdnum's place table
    lacks current codes such as 440604, so ``ric.is_valid`` refuses real Chancheng numbers)."""
    if not _RESIDENT_ID.fullmatch(value):
        return False
    try:
        ric.get_birth_date(value)
    except ValueError:
        return False
    return ric.calc_check_digit(value) == value[-1].upper()


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def canonical_json(value: Any) -> str:
    """Keys sorted, no whitespace, UTF-8 text; dates ISO 8601; NaN/Infinity refused
    (ValueError)."""
    return _CANONICAL.encode(value)


# One encoder for every call (json.dumps with options builds a new one each time).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False, default=_json_value)


def format_timestamp(moment: datetime) -> str:
    """UTC, microseconds, ``Z``: the one textual form of ``appended_at``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def leaf_data(seq: int, kind: str, record_ref: str, appended_at: str, payload_json: str) -> str:
    """``canonical_json`` of the leaf envelope, assembled around the already canonical payload
    (keys in sorted order: at, kind, payload, ref, seq, v); ``appended_at`` as formatted by
    :func:`format_timestamp`."""
    text = encode_basestring
    return (f'{{"at":{text(appended_at)},"kind":{text(kind)},"payload":{payload_json},'
            f'"ref":{text(record_ref)},"seq":{seq},"v":{LEAF_VERSION}}}')


def sth_message(hash_algorithm: str, tree_size: int, root_hash: str, timestamp_ms: int,
                key_id: str) -> bytes:
    lines = [STH_HEADER, f"hash={hash_algorithm}", f"size={tree_size}", f"root={root_hash}",
             f"time={timestamp_ms}", f"key={key_id}"]
    return "".join(line + "\n" for line in lines).encode()


def seal_message(hash_algorithm: str, seq: int, leaf_hash: str) -> bytes:
    return f"{SEAL_HEADER}\n{hash_algorithm}\n{seq}\n{leaf_hash}\n".encode()


# --- what the service returns -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoggedEntry:
    """What ``append``/``append_many`` return per item (a plain dataclass: batches are big)."""

    seq: int
    kind: str
    record_ref: str
    leaf_hash: str
    appended_at: datetime
    created: bool  # False when (kind, record_ref) was already logged


class TreeHeadView(BaseModel):
    id: int | None
    tree_size: int
    root_hash: str
    hash_algorithm: str
    timestamp_ms: int
    key_id: str
    signature: str
    signed_message: str


class InclusionProofView(BaseModel):
    format: Literal["mianshen-audit-inclusion/v1"] = "mianshen-audit-inclusion/v1"
    hash_algorithm: str
    leaf_index: int
    tree_size: int
    leaf_data: str
    leaf_hash: str
    inclusion_path: list[str]
    tree_head: TreeHeadView
    public_key: str  # Ed25519 raw public key, hex
    entry: dict[str, Any]


class ConsistencyProofView(BaseModel):
    hash_algorithm: str
    old_size: int
    new_size: int
    old_root: str
    new_root: str
    consistency_path: list[str]
    verified: bool


class Finding(BaseModel):
    seq: int | None  # the entry concerned, None for a problem with a tree head or a node
    problem: str


class VerifyReport(BaseModel):
    ok: bool
    hash_algorithm: str | None
    entries_checked: int
    head_tree_size: int
    recomputed_root: str | None
    latest_tree_head: TreeHeadView | None
    tree_heads_checked: int
    entries_after_latest_tree_head: int
    seals_checked: bool
    first_bad_entry: int | None
    findings: list[Finding]
    findings_total: int
