"""Department push of data records (``POST /api/v1/data/{dataset}/batches``): a batch of rows
for one catalog dataset goes through the import's own validation, encryption, quarantine and
upsert (``service.load_rows``) in the request's transaction, so pushed rows are marked for the
incremental sweep (``updated_at``) exactly like imported ones.

Who may push what: an API key with scope ``data:push`` whose department is one of the
dataset's source departments in the catalog (else 403). A row's ``source_dept`` defaults to the
key's department; a row naming another department is quarantined. Idempotent by (department,
dataset, batch id): a re-send with the same content (SHA-256 of the canonical JSON of
``as_of`` and ``rows``) is answered with the first result and writes nothing; different
content under the same id is a 409. Every push is recorded in ``data_push`` (key id, content
hash, counts, per-row errors) and its rows carry an ``import_batch`` of their own
(``file_name`` ``api:<key id>:<batch id>``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.auth.principal import Principal
from app.datahub import repository
from app.datahub.catalog import DATASETS_BY_NAME, DatasetSpec
from app.datahub.models import DataPush
from app.datahub.row_errors import row_errors
from app.datahub.schemas import MAX_PUSH_ROWS, PushBatchIn, PushBatchResult, RowError
from app.datahub.service import load_rows
from app.datahub.validation import PROBLEM, ROW
from app.errors import Conflict, Forbidden, MianshenError, NotFound

log = logging.getLogger(__name__)


class PayloadTooLarge(MianshenError):
    status_code = 413


def dataset_for(name: str) -> DatasetSpec:
    spec = DATASETS_BY_NAME.get(name)
    if spec is None:
        raise NotFound(f"unknown dataset {name!r}", f"数据集 {name[:40]} 不存在")
    return spec


def _department_of(principal: Principal, spec: DatasetSpec) -> str:
    department = principal.department or ""
    if department not in spec.departments:
        raise Forbidden(
            f"department {department!r} is not a source department of {spec.name}",
            f"贵部门不是数据集「{spec.zh}」的来源部门,不能推送该数据",
        )
    return department


def push_batch(session: Session, name: str, body: PushBatchIn, principal: Principal
               ) -> tuple[PushBatchResult, bool]:
    """Load one pushed batch; returns its result and whether it is a re-send (nothing
    written). Raises 404 for an unknown dataset, 403 for a department not supplying it, 413
    for too many rows, 409 for different content under a batch id already used."""
    spec = dataset_for(name)
    department = _department_of(principal, spec)
    if len(body.rows) > MAX_PUSH_ROWS:
        raise PayloadTooLarge(
            f"{len(body.rows)} rows in one batch; at most {MAX_PUSH_ROWS} are accepted",
            f"每批最多 {MAX_PUSH_ROWS} 行,本批 {len(body.rows)} 行,请拆分后重新推送",
        )
    digest = content_sha256(body)
    push = DataPush(department=department, dataset=spec.name, batch_ref=body.batch_id,
                    key_id=principal.id, content_sha256=digest, rows=len(body.rows),
                    created_at=datetime.now(UTC))
    held = repository.find_push(session, department, spec.name, body.batch_id)
    if held is None:
        try:
            repository.add_push(session, push)
        except IntegrityError:  # the same batch pushed at the same moment, now committed
            session.rollback()
            held = repository.find_push(session, department, spec.name, body.batch_id)
            if held is None:
                raise
    if held is not None:
        if held.content_sha256 != digest:
            raise Conflict(
                f"batch {body.batch_id!r} was already pushed with different content",
                f"批次号 {body.batch_id} 已用于内容不同的另一批数据,请使用新的批次号",
            )
        return result_of(held), True
    _load(session, spec, push, body, department)
    log.info("push %s of %s by %s: %d rows, %d loaded, %d quarantined", push.id, spec.name,
             principal.id, push.rows, push.loaded, push.quarantined)
    return result_of(push), False


def _load(session: Session, spec: DatasetSpec, push: DataPush, body: PushBatchIn,
          department: str) -> None:
    source = f"api:{push.key_id.removeprefix('apikey:')}:{body.batch_id}"
    batch_id = repository.start_batch(session, spec.name, source, push.content_sha256)
    raw = raw_rows(spec, body, department)
    prepared, loaded = load_rows(session, spec, raw, batch_id=batch_id, source_name=source)
    repository.finish_batch(session, batch_id)
    errors = row_errors(prepared.rejected, spec)
    push.import_batch_id, push.loaded = batch_id, loaded
    push.unchanged = prepared.valid_rows - loaded
    push.quarantined = len(prepared.quarantine)
    push.errors = json.dumps([e.model_dump() for e in errors], ensure_ascii=False)
    session.add(push)
    session.flush()


def content_sha256(body: PushBatchIn) -> str:
    canonical = json.dumps({"as_of": body.as_of.isoformat() if body.as_of else None,
                            "rows": body.rows}, ensure_ascii=False, sort_keys=True,
                           separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def raw_rows(spec: DatasetSpec, body: PushBatchIn, department: str) -> pl.DataFrame:
    """The rows as the reader gives a file's: ``ROW`` (1-based), every field as a string, and
    ``PROBLEM`` for what is wrong with a row as a whole (unknown fields, nested values, NUL
    characters, a ``source_dept`` other than the key's department)."""
    names = [field.name for field in spec.all_fields]
    columns: dict[str, list[str | None]] = {name: [] for name in names}
    problems: list[str | None] = []
    default_as_of = body.as_of.isoformat() if body.as_of else None
    for row in body.rows:
        found: list[str] = []
        unknown = [key for key in row if key not in columns]
        if unknown:
            found.append(f"row: unknown field(s) {_named(unknown)}")
        for name in names:
            value, text = row.get(name), None
            if isinstance(value, (dict, list, bool)):
                found.append(f"{name}: not a single value (string or number)")
            elif value is not None:
                text = str(value)
                if "\x00" in text:  # PostgreSQL text cannot hold it, nor a reason quote it
                    found.append(f"{name}: contains a NUL character")
                    text = text.replace("\x00", "")
            columns[name].append(text)
        if columns["source_dept"][-1] is None:
            columns["source_dept"][-1] = department
        elif columns["source_dept"][-1] != department:
            found.append("source_dept: not the pushing key's department")
        if columns["as_of"][-1] is None:
            columns["as_of"][-1] = default_as_of
        problems.append("; ".join(found) or None)
    frame = pl.DataFrame(columns, schema={name: pl.String for name in names})
    return frame.with_columns(
        pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(ROW),
        pl.Series(PROBLEM, problems, dtype=pl.String),
    )


def _named(keys: list[str]) -> str:
    """Unknown field names, shown only when they look like field names (never a value)."""
    shown = [key for key in keys if key.isascii() and key.replace("_", "").isalnum()
             and len(key) <= 40]
    hidden = len(keys) - len(shown)
    return ", ".join(shown + ([f"({hidden} more withheld)"] if hidden else []))


def pushed(session: Session, name: str, batch_ref: str, principal: Principal
           ) -> PushBatchResult:
    """The recorded result of one of the caller's department's pushes (404 otherwise)."""
    spec = dataset_for(name)
    department = _department_of(principal, spec)
    held = repository.find_push(session, department, spec.name, batch_ref)
    if held is None:
        raise NotFound(f"no pushed batch {batch_ref!r} of {spec.name}", "该批次不存在")
    return result_of(held)


def result_of(push: DataPush) -> PushBatchResult:
    errors: list[dict[str, Any]] = json.loads(push.errors)
    return PushBatchResult(
        batch_id=push.batch_ref, dataset=push.dataset, received=push.rows,
        accepted=push.loaded + push.unchanged, loaded=push.loaded, unchanged=push.unchanged,
        quarantined=push.quarantined, errors=[RowError(**e) for e in errors],
        content_sha256=push.content_sha256, pushed_at=push.created_at,
    )
