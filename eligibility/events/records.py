"""Writing an event's record into the shared data, following the data catalog: ID numbers
become pseudonymous keys (checksum validated, GB 11643), mobiles a blind index, personal values
go encrypted into ``pii``; the row is inserted or, by its natural key, updated (its
``updated_at`` moves, so the next incremental sweep sees the subject).

One statement per record, or per dataset for a batch of events (``INSERT ... ON CONFLICT
(natural key) DO UPDATE``). A
deregistration carries only the USCC and the new status and updates the held row.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from stdnum.cn import ric, uscc

from app.datahub.catalog import DatasetSpec, FieldType, dataset
from app.datahub.models import DATASET_MODELS
from app.errors import ValidationFailed
from app.privacy import keyring


def _table(name: str) -> Table:
    return DATASET_MODELS[name].__table__  # type: ignore[attr-defined]


def storage_row(spec: DatasetSpec, record: dict[str, Any], source_dept: str) -> dict[str, Any]:
    """The storage columns of one exchange-format record; raises ValidationFailed."""
    ring = keyring()
    row: dict[str, Any] = {}
    personal: dict[str, Any] = {}
    for field in spec.all_fields:
        value = record.get(field.name)
        if field.name == "source_dept":
            value = value or source_dept
        if value in (None, ""):
            if field.required:
                raise ValidationFailed(f"{spec.name}.{field.name} is required")
            if field.storage_column:
                row[field.storage_column] = None
            continue
        text = str(value).strip()
        if field.type is FieldType.ID_NUMBER:
            if not ric.is_valid(text):
                raise ValidationFailed(f"{spec.name}.{field.name} is not a valid ID number")
            personal[field.name] = text.upper()
            row[field.storage_column or ""] = ring.subject_key(text)
        elif field.type is FieldType.MOBILE:
            personal[field.name] = text
            row["mobile_index"] = ring.mobile_index(text)
        elif field.personal:
            personal[field.name] = text
        elif field.type is FieldType.USCC:
            if not uscc.is_valid(text):
                raise ValidationFailed(f"{spec.name}.{field.name} is not a valid USCC")
            row[field.name] = text.upper()
        elif field.type is FieldType.DATE:
            try:
                row[field.name] = date.fromisoformat(text)
            except ValueError as error:
                raise ValidationFailed(f"{spec.name}.{field.name} is not a date") from error
        elif field.type in (FieldType.INT, FieldType.MONEY):
            try:
                row[field.name] = int(text)
            except ValueError as error:
                raise ValidationFailed(f"{spec.name}.{field.name} is not an integer") from error
        else:
            if field.values and text not in field.values:
                raise ValidationFailed(f"{spec.name}.{field.name} has an unknown value")
            row[field.name] = text
    canonical = json.dumps({f.name: record.get(f.name) for f in spec.all_fields},
                           sort_keys=True, ensure_ascii=False, default=str)
    row["pii"] = ring.encrypt_json(personal) if personal else None
    row["row_hash"] = ring.row_hash(canonical)
    row["updated_at"] = datetime.now(UTC)
    return row


def _natural_key(spec: DatasetSpec, row: dict[str, Any]) -> dict[str, Any]:
    return {(spec.field(n).storage_column or n): row[spec.field(n).storage_column or n]
            for n in spec.key}


def upsert_record(connection: Connection, dataset_name: str, record: dict[str, Any],
                  source_dept: str) -> dict[str, Any]:
    """Insert or update the record's row; returns the storage row written."""
    row = storage_row(dataset(dataset_name), record, source_dept)
    upsert_rows(connection, dataset_name, [row])
    return row


def upsert_rows(connection: Connection, dataset_name: str, rows: list[dict[str, Any]]) -> None:
    """Insert or update prepared storage rows with one statement per row shape (a batch of
    events). Rows with the same natural key keep the last one; rows go in key order so that
    concurrent batches lock in the same order."""
    spec = dataset(dataset_name)
    by_key = {tuple(map(str, _natural_key(spec, row).values())): row for row in rows}
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for natural in sorted(by_key):
        shapes.setdefault(tuple(sorted(by_key[natural])), []).append(by_key[natural])
    dialect_insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    for shaped in shapes.values():
        key = list(_natural_key(spec, shaped[0]))
        statement = dialect_insert(_table(dataset_name))
        changes = {column: statement.excluded[column] for column in shaped[0] if column not in key}
        upsert = statement.on_conflict_do_update(index_elements=key, set_=changes)
        connection.execute(upsert, shaped)  # one cached statement, many rows


def deregister_enterprise(connection: Connection, record: dict[str, Any], status: str) -> str:
    code = str(record.get("uscc", "")).strip().upper()
    if not uscc.is_valid(code):
        raise ValidationFailed("enterprise.uscc is not a valid USCC")
    table = _table("enterprise")
    changed = connection.execute(
        update(table).where(table.c.uscc == code)
        .values(status=status, updated_at=datetime.now(UTC))
    )
    if not changed.rowcount:
        raise ValidationFailed("enterprise to deregister is not held")
    return code
