"""Import of dataset files into the shared data platform.

``import_path`` takes a ``<dataset>.csv|.jsonl`` file or a directory of them (files starting
with ``_`` or ``.`` and files of other types are ignored; datasets go in catalog ``DATASETS``
order so references resolve). A file that cannot be read at all is reported in
``ImportReport.errors`` and nothing of it is loaded; the other files go on. Each file is read
in batches of ``settings.batch_rows`` rows and each batch is one transaction: its valid rows
upserted by natural key, its rejected rows put in the quarantine, the counts of its
``ImportBatch`` advanced. A batch that fails is rolled back whole, the file stops there and a
re-run completes it (what was loaded comes back unchanged).

While batches are written, a worker thread reads, validates and encodes the next one (the
database works while Python hashes and encrypts); on PostgreSQL two batches are written at
once. A failed batch does not stop one already being written, so a batch after it may be
loaded too. Rows whose natural key is already held with the same ``row_hash`` are dropped
before they are encrypted or sent (PostgreSQL), so a no-op re-import only reads, validates,
hashes and looks up.

On PostgreSQL, a file whose dataset table is empty is loaded as one transaction instead
(``first_load``: indexes dropped and rebuilt, COPY FREEZE, one writer): all or nothing, and a
failed batch rolls back the whole file.

``load_rows`` is the same validation, encoding, quarantine and upsert for one batch of rows in
the caller's transaction (the department push API, ``push``); a file's batches go through its
two halves, ``prepare_rows`` and ``write_rows``. Reading lives in ``reader``, rules in
``validation``, encoding in ``storage``, queries in ``repository`` and ``first_load``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from rich.progress import Progress, TaskID
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.datahub import repository
from app.datahub.catalog import DATASETS, DatasetSpec, FieldType, dataset
from app.datahub.first_load import FirstLoad
from app.datahub.reader import (
    FORMATS,
    SourceFile,
    UnreadableFile,
    dataset_of,
    open_source,
    read_batches,
)
from app.datahub.schemas import DatasetCounts, ImportReport
from app.datahub.storage import identity_columns, index_all, quarantine_entries, storage_rows
from app.datahub.validation import REASON, ROW, ReferenceLookup, SeenKeys, validate
from app.db import session_scope
from app.privacy import SUBJECT, Keyring, keyring
from app.settings import get_settings

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]  # (stage, done, total)
POSTGRES_WRITERS = 2  # batches written at once on PostgreSQL (one per connection and core)


@dataclass
class PreparedRows:
    """A batch of raw rows, validated and encoded, ready to be written (``write_rows``)."""

    rows_read: int
    valid_rows: int  # valid rows, including those held unchanged (dropped from ``storage``)
    storage: pl.DataFrame  # new or changed rows, encoded for storage
    quarantine: list[dict[str, Any]]
    rejected: pl.DataFrame  # ROW and REASON of each rejected row (English, values masked)


@dataclass
class _Prepared:
    """One batch of a file, with its place in the file."""

    first_row: int
    last_row: int
    rows: PreparedRows


@dataclass
class _FileImport:
    engine: Engine
    source: SourceFile
    ring: Keyring
    batch_rows: int
    on_progress: ProgressCallback | None
    batch_id: int = 0
    first_load: bool = False  # the dataset held nothing when this file started
    bulk: FirstLoad | None = None  # the one transaction of a first load on PostgreSQL
    counts: DatasetCounts = field(default_factory=DatasetCounts)
    uncommitted: DatasetCounts = field(default_factory=DatasetCounts)  # of ``bulk``
    seen: SeenKeys = field(default_factory=SeenKeys)
    rows_prepared: int = 0
    rows_done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


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
        job = _FileImport(
            engine, source, ring, batch_rows or get_settings().batch_rows, on_progress
        )
        error_message = _import_file(job)
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
        if file.suffix.lower() not in FORMATS:  # not a data file (a README, a database)
            log.info("skipping %s: not a .csv or .jsonl file", file.name)
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


def _import_file(job: _FileImport) -> str | None:
    """Load one file batch by batch; returns an error message if a batch failed.

    One worker thread reads, validates and encodes batches in file order (duplicates are
    decided in that order); on PostgreSQL two batches are written at once, each in its own
    transaction on its own connection, so the database can use a second core; a first load
    has one writer and one transaction."""
    name = job.source.path.name
    with session_scope(job.engine) as session:
        job.first_load = not repository.holds_rows(session, job.source.spec.name)
        job.batch_id = repository.start_batch(
            session, job.source.spec.name, name, job.source.sha256
        )
    postgres = job.engine.dialect.name == "postgresql"
    if job.first_load and postgres:
        job.bulk = FirstLoad(job.engine, job.source.spec.name)
        if not job.bulk.begin():  # not empty any more, referenced, or locked by a reader
            job.bulk.close()
            job.bulk = None
            with session_scope(job.engine) as session:
                job.first_load = not repository.holds_rows(session, job.source.spec.name)
    try:
        error = _write_batches(job, POSTGRES_WRITERS if postgres and not job.bulk else 1)
        if error is None:
            try:
                _finish(job)
            except Exception as failure:
                if job.bulk is None:
                    raise
                # the first load's index builds or commit: nothing of the file is loaded
                return _failure_message(job, 1, job.rows_prepared, failure)
        return error
    finally:
        if job.bulk is not None:
            job.bulk.close()


def _write_batches(job: _FileImport, writers: int) -> str | None:
    batches = read_batches(job.source, job.batch_rows)
    in_flight: deque[tuple[_Prepared, Future[None]]] = deque()
    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-prepare") as preparer,
        ThreadPoolExecutor(max_workers=writers, thread_name_prefix="import-write") as writer,
    ):
        upcoming = preparer.submit(_prepare_next, job, batches)
        try:
            while (prepared := upcoming.result()) is not None:
                while len(in_flight) >= writers:  # at most writers + 1 batches in memory
                    _finish_write(job, *in_flight.popleft())
                in_flight.append((prepared, writer.submit(_write_batch, job, prepared)))
                upcoming = preparer.submit(_prepare_next, job, batches)
            while in_flight:
                _finish_write(job, *in_flight.popleft())
        except _BatchFailed as failure:
            upcoming.cancel()
            wait([future for _prepared, future in in_flight])
            return _failure_message(job, failure.first_row, failure.last_row, failure.cause)
        except Exception as error:  # reading or validating failed: nothing of it was written
            upcoming.cancel()
            wait([future for _prepared, future in in_flight])
            return _failure_message(job, job.rows_prepared + 1, None, error)
    return None


def _finish(job: _FileImport) -> None:
    if job.bulk is not None:
        repository.finish_batch(job.bulk.session, job.batch_id)
        job.bulk.commit()
        job.counts.loaded += job.uncommitted.loaded
        job.counts.unchanged += job.uncommitted.unchanged
        job.counts.quarantined += job.uncommitted.quarantined
    else:
        with session_scope(job.engine) as session:
            repository.finish_batch(session, job.batch_id)
    _report_progress(job, done=True)


class _BatchFailed(Exception):
    def __init__(self, first_row: int, last_row: int, cause: Exception) -> None:
        super().__init__(str(cause))
        self.first_row, self.last_row, self.cause = first_row, last_row, cause


def _finish_write(job: _FileImport, prepared: _Prepared, future: Future[None]) -> None:
    try:
        future.result()
    except Exception as error:  # that batch's transaction is rolled back
        raise _BatchFailed(prepared.first_row, prepared.last_row, error) from error
    _report_progress(job, done=False)


def _failure_message(
    job: _FileImport, first_row: int, last_row: int | None, error: Exception
) -> str:
    name = job.source.path.name
    where = f"rows {first_row}-{last_row}" if last_row else f"row {first_row} onwards"
    log.error("import of %s failed at %s: %s", name, where, type(error).__name__,
              exc_info=error)
    detail = (str(error).strip().splitlines() or [""])[0][:300]
    outcome = (
        "this first load of the dataset is one transaction, so nothing of the file was "
        "loaded; re-run the import" if job.bulk is not None
        else "the other batches are loaded, re-run the import to finish"
    )
    return (
        f"{name}: the batch of {where} failed and was rolled back ({type(error).__name__}: "
        f"{detail}); {outcome}"
    )


def _prepare_next(job: _FileImport, batches: Iterator[pl.DataFrame]) -> _Prepared | None:
    """Read, validate and encode the next batch (runs in the preparing thread)."""
    raw = next(batches, None)
    if raw is None:
        return None
    with session_scope(job.engine) as session:  # reads only: references, held row hashes
        rows = prepare_rows(
            session, job.source.spec, raw, job.ring, batch_id=job.batch_id,
            source_name=job.source.path.name, seen=job.seen, first_load=job.first_load,
        )
    first_row = job.rows_prepared + 1
    job.rows_prepared += raw.height
    return _Prepared(first_row=first_row, last_row=job.rows_prepared, rows=rows)


def prepare_rows(
    session: Session, spec: DatasetSpec, raw: pl.DataFrame, ring: Keyring, *, batch_id: int,
    source_name: str, seen: SeenKeys | None = None, first_load: bool = False,
) -> PreparedRows:
    """Validate and encode one batch of raw rows (``ROW`` and every field as strings, as
    ``reader`` yields them): rejected rows become quarantine records naming ``source_name``;
    valid rows held unchanged are dropped after hashing, before they are encrypted (unless
    ``first_load``: nothing is held). Only reads through ``session``. ``seen`` carries natural
    keys across the batches of one file."""
    result = validate(raw, spec, references=_reference_lookup(session, ring), seen=seen)
    valid, identity = result.valid, identity_columns(result.valid, spec, ring)
    if not first_load:
        changed = repository.unheld_rows(session, spec.name, identity)
        if changed.len() < identity.height:
            valid, identity = valid[changed], identity[changed]
    quarantine = quarantine_entries(
        result.rejected, spec.name, source_name, ring, batch_id=batch_id, now=datetime.now(UTC),
    )
    return PreparedRows(
        rows_read=raw.height,
        valid_rows=result.valid.height,
        storage=storage_rows(valid, spec, ring, identity),
        quarantine=quarantine,
        rejected=result.rejected.select(ROW, REASON),
    )


def write_rows(
    session: Session, spec: DatasetSpec, prepared: PreparedRows, *, batch_id: int,
    first_load: bool = False, bulk: FirstLoad | None = None,
) -> int:
    """Write one prepared batch in the caller's transaction (or the first load's ``bulk``):
    upsert by natural key (``updated_at`` set, which is what the incremental sweep reads),
    quarantine, and the counts of import batch ``batch_id``. Returns the rows loaded."""
    now = datetime.now(UTC)
    if bulk is not None:
        loaded = bulk.write(prepared.storage, batch_id=batch_id, now=now)
    else:
        key = [spec.field(name).storage_column or name for name in spec.key]
        loaded = repository.upsert_rows(
            session, spec.name, prepared.storage, key, batch_id=batch_id, now=now,
            first_load=first_load,  # validation removed duplicates: batches cannot collide
        )
    repository.add_quarantine(session, prepared.quarantine)
    repository.add_batch_counts(
        session, batch_id, rows_read=prepared.rows_read, loaded=loaded,
        unchanged=prepared.valid_rows - loaded, quarantined=len(prepared.quarantine),
    )
    return loaded


def load_rows(
    session: Session, spec: DatasetSpec, raw: pl.DataFrame, *, batch_id: int, source_name: str,
) -> tuple[PreparedRows, int]:
    """The batch-of-rows entry point (the department push API): validate, encode and write
    ``raw`` in the caller's transaction, exactly as one batch of an imported file. Returns the
    prepared batch (its rejected rows with reasons) and the rows loaded."""
    prepared = prepare_rows(session, spec, raw, keyring(), batch_id=batch_id,
                            source_name=source_name)
    return prepared, write_rows(session, spec, prepared, batch_id=batch_id)


def _write_batch(job: _FileImport, prepared: _Prepared) -> None:
    """Write one prepared batch: in its own transaction, or in the first load's (runs in a
    writing thread)."""
    spec, rows = job.source.spec, prepared.rows
    if job.bulk is not None:
        loaded = write_rows(job.bulk.session, spec, rows, batch_id=job.batch_id, bulk=job.bulk)
        with job.lock:  # counted when the first load commits
            _add_counts(job.uncommitted, rows, loaded)
            job.rows_done += rows.rows_read
        return
    with session_scope(job.engine) as session:
        loaded = write_rows(session, spec, rows, batch_id=job.batch_id,
                            first_load=job.first_load)
    with job.lock:  # counted only once committed
        _add_counts(job.counts, rows, loaded)
        job.rows_done += rows.rows_read


def _add_counts(counts: DatasetCounts, prepared: PreparedRows, loaded: int) -> None:
    counts.loaded += loaded
    counts.unchanged += prepared.valid_rows - loaded
    counts.quarantined += len(prepared.quarantine)


def _reference_lookup(session: Session, ring: Keyring) -> ReferenceLookup:
    def held(ref: str, values: pl.Series) -> pl.Series:
        target, field_name = ref.split(".", 1)
        target_field = dataset(target).field(field_name)
        stored = values
        if target_field.type is FieldType.ID_NUMBER:
            stored = index_all(ring, SUBJECT, values)
        column = target_field.storage_column or field_name
        missing = repository.unheld_values(session, target, column, stored)
        return ~pl.int_range(stored.len(), eager=True).is_in(missing.implode())

    return held


def _report_progress(job: _FileImport, *, done: bool) -> None:
    if job.on_progress is None:
        return
    total = job.rows_done if done else max(job.source.rows_estimate, job.rows_done)
    job.on_progress(job.source.spec.name, job.rows_done, total)


def progress_reporter(progress: Progress) -> ProgressCallback:
    """Adapt ``on_progress(stage, done, total)`` to a rich progress bar, one task per stage."""
    tasks: dict[str, TaskID] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(f"import {stage}", total=total)
        progress.update(tasks[stage], completed=done, total=total)

    return report
