"""A citizen's export (PIPL art. 45): everything held about one person, decrypted, as one JSON
document, optionally zipped with a readme.

Sections: ``registry`` (rows of every catalog dataset that names the person, in whatever role:
holder, mother, party to a marriage, legal representative), then every other table that holds
their pseudonymous ``subject_key`` (decisions with explanations, grants, payments,
notifications, certificates, life events, tasks, refusals, the access log ...) with the rows
hanging off their grants (state history, amount schedule, review items, objections).
Tables are found from the schema, so a table added later is exported without a change here.

Nothing of another person goes in: of a shared row only the person's own personal fields are
decrypted (``mother_*`` for the mother), other people's keys are left out, and a final pass
replaces any ID number or mobile number that is not the person's own.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table
from sqlmodel import Session, SQLModel

import app.models_registry  # noqa: F401  (every table in the metadata)
from app import ENGINE_VERSION
from app.audit.schemas import _is_resident_id
from app.datahub.catalog import DATASETS, DatasetSpec, FieldType
from app.personal_data import repository
from app.privacy import keyring

HIDDEN = "[他人信息已隐去]"
GRANT_CHILD_TABLES = ("grant_event", "grant_amount", "review_item", "objection")
SKIPPED_TABLES = {"audit_entry", "audit_node", "audit_tree_head", "audit_log_key",
                  "cert_signing_key", "cert_import", "import_batch", "quarantined_row"}
INTERNAL_COLUMNS = {"row_hash", "batch_id", "claim_token", "idempotency_key", "mobile_index",
                    "unique_key", "provider_message_id"}
ENCRYPTED_COLUMNS = {"pii", "payload_enc", "text_enc"}
PERSONAL_WORDS = ("name", "id_number", "mobile", "address", "phone")

README = """个人信息导出 / Personal data export (Mianshen 免申即享)

export.json 包含本系统中关于您的全部记录(已解密):
- registry: 各部门共享数据中涉及您的记录(户籍、出生、婚姻、残疾、救助、企业法定代表人等)
- decision: 资格判定结果及其解释
- benefit_grant 及 grant_event / grant_amount / review_item / objection: 待遇及其状态变化
- payment / recovery_item: 发放与追回记录
- notification: 发给您的短信
- certificate: 电子证照
- life_event / event_task: 生活事件与后续任务
- personal_data_access: 谁在何时出于何种目的查看过您的记录
其他人的身份证号、手机号和姓名不会出现在本导出中。

export.json holds every record about you, decrypted. Other people's data is left out.
"""


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _decrypt(token: str | None) -> Any:
    if not token:
        return None
    return keyring().decrypt_json(token)


def _own_personal(values: dict[str, Any], prefix: str, other_prefixes: list[str]) -> dict[str, Any]:
    """The personal values of one role: ``mother_*`` for the mother; for the row's main subject
    (no prefix) those that belong to no other role."""
    if prefix:
        return {name: value for name, value in values.items() if name.startswith(prefix)}
    return {name: value for name, value in values.items()
            if not any(name.startswith(other) for other in other_prefixes)}


def _registry_rows(session: Session, spec: DatasetSpec, table: Table,
                   key: str) -> list[dict[str, Any]]:
    roles = {f.storage_column: f.name.removesuffix("id_number") for f in spec.fields
             if f.type is FieldType.ID_NUMBER and f.storage_column}
    prefixes = [prefix for prefix in roles.values() if prefix]
    exported = []
    for row in repository.rows_with_key(session, table, list(roles), key):
        mine = [column for column in roles if row[column] == key]
        personal = _decrypt(row.get("pii")) or {}
        out: dict[str, Any] = {"role": [roles[c].rstrip("_") or "subject" for c in mine]}
        for column, value in row.items():
            if column in roles or column in INTERNAL_COLUMNS or column == "pii":
                continue
            out[column] = _json_value(value)
        for column in mine:
            out.update(_own_personal(personal, roles[column], prefixes))
        exported.append(out)
    return exported


def _plain_row(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column, value in row.items():
        if column in INTERNAL_COLUMNS:
            continue
        if column in ENCRYPTED_COLUMNS:
            decrypted = _decrypt(value)
            # an event's payload may name other parties (the child of a birth); a certificate's
            # pii is its holder's, the person exported
            out[column.removesuffix("_enc")] = (_strip_other_roles(decrypted)
                                                if column == "payload_enc" else decrypted)
            continue
        out[column] = _json_value(value)
    return out


def _strip_other_roles(value: Any) -> Any:
    """A decrypted payload keeps unprefixed personal fields (its subject's) and drops
    ``child_name``, ``mother_id_number`` and the like (someone else's)."""
    if isinstance(value, dict):
        return {name: _strip_other_roles(item) for name, item in value.items()
                if not (any(word in str(name) for word in PERSONAL_WORDS)
                        and str(name) not in PERSONAL_WORDS)}
    if isinstance(value, list):
        return [_strip_other_roles(item) for item in value]
    return value


def _scrub(value: Any, own: set[str]) -> Any:
    """Replace any resident ID number or mobile number that is not one of ``own``."""
    if isinstance(value, dict):
        return {name: _scrub(item, own) for name, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, own) for item in value]
    if isinstance(value, str) and value not in own and 11 <= len(value) <= 18 and (
        _is_resident_id(value.upper())
        or (len(value) == 11 and value.isdigit() and value.startswith("1"))
    ):
        return HIDDEN
    return value


def _own_identifiers(registry: dict[str, list[dict[str, Any]]]) -> set[str]:
    """The person's own ID number(s) and mobile(s) as decrypted from their registry rows."""
    own = set()
    for rows in registry.values():
        for row in rows:
            for name, value in row.items():
                if isinstance(value, str) and (name.endswith("id_number") or name == "mobile"):
                    own.add(value.strip().upper())
    return own


def export_subject(session: Session, subject_key: str) -> dict[str, Any]:
    """Everything held about the person with pseudonymous ``subject_key`` (the subject key of
    their ID number, ``keyring().subject_key``), as a JSON-ready dict."""
    key = subject_key
    tables = SQLModel.metadata.tables
    registry: dict[str, list[dict[str, Any]]] = {}
    for spec in DATASETS:
        if not any(f.type is FieldType.ID_NUMBER for f in spec.fields):
            continue
        rows = _registry_rows(session, spec, tables[spec.name], key)
        if rows:
            registry[spec.name] = rows
    own = _own_identifiers(registry)
    document: dict[str, Any] = {
        "format": "mianshen-personal-export/v1",
        "generated_at": datetime.now(UTC).isoformat(),
        "engine_version": ENGINE_VERSION,
        "subject": {"subject_key": key, "id_numbers": sorted(i for i in own if len(i) == 18)},
        "registry": registry,
    }
    dataset_names = {spec.name for spec in DATASETS}
    for name, table in sorted(tables.items()):
        if (name in dataset_names or name in SKIPPED_TABLES or name in GRANT_CHILD_TABLES
                or "subject_key" not in table.c):
            continue
        document[name] = [_plain_row(row) for row in
                          repository.rows_with_key(session, table, ["subject_key"], key)]
    grant_ids = [row["id"] for row in document.get("benefit_grant", [])]
    for name in GRANT_CHILD_TABLES:
        document[name] = [_plain_row(row) for row in
                          repository.rows_where_in(session, tables[name], "grant_id", grant_ids)]
    scrubbed: dict[str, Any] = _scrub(document, own)
    return scrubbed


def export_json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True)


def export_zip(document: dict[str, Any]) -> bytes:
    """``export.json`` and a bilingual ``README.txt`` in one zip archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.json", export_json(document))
        archive.writestr("README.txt", README)
    return buffer.getvalue()
