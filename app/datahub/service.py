"""Import of dataset files into the shared data platform.

``import_path`` takes a ``<dataset>.csv|.jsonl`` file or a directory of them (files starting
with ``_`` or ``.`` are ignored; datasets go in catalog order so references resolve). A file
that cannot be read at all is reported in ``ImportReport.errors`` and nothing of it is loaded;
other files go on. Each file is read in batches of ``settings.batch_rows`` rows and each batch
is one transaction: validate (``validation``), encode the valid rows for storage (pseudonymous
keys, blind index, one encrypted ``pii`` envelope, keyed ``row_hash``), upsert them by natural
key (``repository``) and put rejected rows, encrypted, into the quarantine. A batch that fails
is rolled back whole, the file stops there, and a re-run completes it.

Reading lives in ``reader``, queries in ``repository``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from rich.progress import Progress, TaskID
from sqlalchemy.engine import Engine

from app.datahub import repository
from app.datahub.catalog import DATASETS, DatasetSpec, FieldType, dataset
from app.datahub.reader import SourceFile, UnreadableFile, dataset_of, open_source, read_batches
from app.datahub.schemas import DatasetCounts, ImportReport
from app.datahub.validation import EXTRA, REASON, ROW, ReferenceLookup, SeenKeys, validate
from app.db import session_scope
from app.privacy import Keyring, keyring
from app.settings import get_settings

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]  # (stage, done, total)
QUARANTINE = b"ms-quarantine"


@dataclass
class _FileImport:
    source: SourceFile
    ring: Keyring
    batch_rows: int
    on_progress: ProgressCallback | None
    counts: DatasetCounts = field(default_factory=DatasetCounts)
    seen: SeenKeys = field(default_factory=SeenKeys)
    rows_done: int = 0


def import_path(
    engine: Engine,
    path: Path,
    *,
    on_progress: ProgressCallback | None = None,
    batch_rows: int | None = None,
) -> ImportReport:
    """Import one dataset file or a directory of them; see the module docstring."""
    started = time.perf_counter()
    report = ImportReport()
    files, report.errors = _dataset_files(Path(path))
    ring = keyring()
    for file in files:
        try:
            source = open_source(file)
        except UnreadableFile as error:
            report.errors[file.name] = str(error)
            continue
        job = _FileImport(source, ring, batch_rows or get_settings().batch_rows, on_progress)
        error_message = _import_file(engine, job)
        report.datasets[source.spec.name] = job.counts
        if error_message:
            report.errors[file.name] = error_message
    report.seconds = time.perf_counter() - started
    return report


def _dataset_files(path: Path) -> tuple[list[Path], dict[str, str]]:
    """The files to import in catalog order, and errors for files that cannot be."""
    if path.is_file():
        return [path], {}
    if not path.is_dir():
        return [], {str(path): f"{path}: no such file or directory"}
    order = {spec.name: index for index, spec in enumerate(DATASETS)}
    files: list[Path] = []
    errors: dict[str, str] = {}
    claimed: dict[str, str] = {}
    for file in sorted(path.iterdir()):
        if file.name.startswith(("_", ".")) or not file.is_file():
            continue
        try:
            spec = dataset_of(file)
        except UnreadableFile as error:
            errors[file.name] = str(error)
            continue
        if spec.name in claimed:
            errors[file.name] = f"{file.name}: {claimed[spec.name]} already provides {spec.name}"
            continue
        claimed[spec.name] = file.name
        files.append(file)
    return sorted(files, key=lambda file: order[file.stem]), errors


def _import_file(engine: Engine, job: _FileImport) -> str | None:
    """Load one file batch by batch; returns an error message if a batch failed."""
    source = job.source
    with session_scope(engine) as session:
        batch_id = repository.start_batch(
            session, source.spec.name, source.path.name, source.sha256
        )
    first_row = 1
    try:
        for raw in read_batches(source, job.batch_rows):
            first_row = int(raw.get_column(ROW)[0])
            with session_scope(engine) as session:
                _import_batch(session, job, raw, batch_id)
            job.rows_done += raw.height
            if job.on_progress:
                total = max(source.rows_estimate, job.rows_done)
                job.on_progress(source.spec.name, job.rows_done, total)
    except Exception as error:  # the batch is rolled back; report it and leave other files be
        log.exception("import of %s failed at row %d", source.path.name, first_row)
        summary = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
        return (
            f"{source.path.name}: batch starting at row {first_row} failed and was rolled back "
            f"({type(error).__name__}: {summary}); rows before it are loaded, re-run to finish"
        )
    with session_scope(engine) as session:
        repository.finish_batch(session, batch_id)
    if job.on_progress:
        job.on_progress(source.spec.name, job.rows_done, job.rows_done)
    return None


def _import_batch(session: Any, job: _FileImport, raw: pl.DataFrame, batch_id: int) -> None:
    spec = job.source.spec
    result = validate(raw, spec, references=_reference_lookup(session, job.ring), seen=job.seen)
    now = datetime.now(UTC)
    storage = storage_rows(result.valid, spec, job.ring)
    key = [spec.field(name).storage_column or name for name in spec.key]
    loaded = repository.upsert_rows(session, spec.name, storage, key, batch_id=batch_id, now=now)
    repository.add_quarantine(
        session, quarantine_entries(result.rejected, job.source, job.ring, batch_id, now)
    )
    unchanged = result.valid.height - loaded
    repository.add_batch_counts(
        session, batch_id, rows_read=raw.height, loaded=loaded, unchanged=unchanged,
        quarantined=result.rejected.height,
    )
    job.counts.loaded += loaded
    job.counts.unchanged += unchanged
    job.counts.quarantined += result.rejected.height


def _reference_lookup(session: Any, ring: Keyring) -> ReferenceLookup:
    def held(ref: str, values: pl.Series) -> pl.Series:
        target, field_name = ref.split(".", 1)
        target_field = dataset(target).field(field_name)
        column = target_field.storage_column or field_name
        stored = (
            pl.Series([ring.subject_key(v) for v in values], dtype=pl.String)
            if target_field.type is FieldType.ID_NUMBER
            else values
        )
        found = repository.held_values(session, target, column, stored.to_list())
        return stored.is_in(pl.Series(sorted(found), dtype=pl.String).implode())

    return held


def storage_rows(valid: pl.DataFrame, spec: DatasetSpec, ring: Keyring) -> pl.DataFrame:
    """Valid typed rows → storage columns: ID numbers as pseudonymous keys, mobiles as a blind
    index, every personal value in one encrypted ``pii`` envelope, and ``row_hash`` over the
    canonical plaintext of the whole row (so an identical re-import changes nothing)."""
    names = [f.name for f in spec.all_fields]
    canonical = valid.select(pl.struct(names).struct.json_encode()).to_series()
    columns: dict[str, pl.Series] = {}
    for spec_field in spec.all_fields:
        column = spec_field.storage_column
        if column is None:
            continue
        values = valid.get_column(spec_field.name)
        if spec_field.type is FieldType.ID_NUMBER:
            values = pl.Series([None if v is None else ring.subject_key(v) for v in values],
                               dtype=pl.String)
        elif spec_field.type is FieldType.MOBILE:
            values = pl.Series([None if v is None else ring.mobile_index(v) for v in values],
                               dtype=pl.String)
        columns[column] = values.alias(column)
    personal = [f.name for f in spec.all_fields if f.personal]
    if personal:
        envelopes = valid.select(pl.struct(personal).struct.json_encode()).to_series()
        columns["pii"] = pl.Series("pii", [ring.encrypt(text.encode()) for text in envelopes],
                                   dtype=pl.String)
    columns["row_hash"] = pl.Series("row_hash", [ring.row_hash(text) for text in canonical],
                                    dtype=pl.String)
    return pl.DataFrame(columns)


def quarantine_entries(
    rejected: pl.DataFrame, source: SourceFile, ring: Keyring, batch_id: int, now: datetime
) -> list[dict[str, Any]]:
    """Rejected rows as quarantine records: the raw row only encrypted, and a fingerprint of
    dataset, file name, row number and content so a re-import adds nothing."""
    entries = []
    for row in rejected.iter_rows(named=True):
        raw = {name: value for name, value in row.items()
               if name not in (ROW, REASON, EXTRA) and value is not None}
        if row.get(EXTRA) is not None:
            raw[EXTRA] = row[EXTRA]
        identity = json.dumps(
            [source.spec.name, source.path.name, row[ROW], raw], ensure_ascii=False, sort_keys=True
        )
        entries.append({
            "fingerprint": ring.blind_index(identity, QUARANTINE),
            "dataset": source.spec.name,
            "file_name": source.path.name,
            "row_number": row[ROW],
            "reason": row[REASON],
            "raw": ring.encrypt_json(raw),
            "batch_id": batch_id,
            "created_at": now,
        })
    return entries


def progress_reporter(progress: Progress) -> ProgressCallback:
    """Adapt ``on_progress(stage, done, total)`` to a rich progress bar, one task per stage."""
    tasks: dict[str, TaskID] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(f"import {stage}", total=total)
        progress.update(tasks[stage], completed=done, total=total)

    return report
