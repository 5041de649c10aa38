"""Reading dataset files (CSV or JSONL) into batches of raw string rows, in bounded memory.

``open_source`` checks a file before anything of it is loaded: its name must be a catalog
dataset, it must be UTF-8 throughout, and a CSV header must name the dataset's fields. It also
takes the file's SHA-256 and estimates its rows (one streaming pass). ``read_batches`` then
yields DataFrames of ``batch_rows`` rows: ``ROW`` (1-based data row), every field as a string,
``PROBLEM`` (a row-level reading problem: too many fields, not JSON) and ``EXTRA`` (what could
not be placed in a field, kept for the quarantine).

CSV is cut into byte chunks at record boundaries (quote parity, so quoted newlines survive) and
parsed by Polars; JSONL is parsed line by line. Validation lives in ``validation``.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from app.datahub.catalog import DATASETS_BY_NAME, DatasetSpec
from app.datahub.validation import EXTRA, PROBLEM, ROW
from app.errors import MianshenError

FORMATS = {".csv": "csv", ".jsonl": "jsonl"}
CHUNK_BYTES = 8 << 20
UTF8_BOM = codecs.BOM_UTF8


class UnreadableFile(MianshenError):
    """A file that cannot be imported at all; nothing of it is loaded."""


@dataclass(frozen=True)
class SourceFile:
    path: Path
    spec: DatasetSpec
    format: str  # "csv" or "jsonl"
    sha256: str
    rows_estimate: int
    columns: tuple[str, ...] = ()  # CSV header, in file order


def dataset_of(path: Path) -> DatasetSpec:
    """The dataset a file is named after: ``person.csv`` → ``person``."""
    if path.suffix.lower() not in FORMATS:
        raise UnreadableFile(f"{path.name}: not a .csv or .jsonl file")
    spec = DATASETS_BY_NAME.get(path.stem)
    if spec is None:
        raise UnreadableFile(
            f"{path.name}: unknown dataset {path.stem!r}; known: {', '.join(DATASETS_BY_NAME)}"
        )
    return spec


def open_source(path: Path) -> SourceFile:
    spec = dataset_of(path)
    file_format = FORMATS[path.suffix.lower()]
    try:
        sha256, lines = _scan(path)
    except OSError as error:
        raise UnreadableFile(f"{path.name}: cannot be read ({error.strerror})") from None
    if file_format == "jsonl":
        return SourceFile(path, spec, file_format, sha256, lines)
    columns = _csv_header(path, spec)
    return SourceFile(path, spec, file_format, sha256, max(lines - 1, 0), columns)


def _scan(path: Path) -> tuple[str, int]:
    """SHA-256 and line count in one pass, refusing a file that is not UTF-8 throughout."""
    digest, decoder = hashlib.sha256(), codecs.getincrementaldecoder("utf-8")()
    lines, offset, last = 0, 0, b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            lines += chunk.count(b"\n")
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                raise UnreadableFile(
                    f"{path.name}: not UTF-8 (invalid byte at offset {offset + error.start})"
                ) from None
            offset += len(chunk)
            last = chunk
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise UnreadableFile(f"{path.name}: not UTF-8 (truncated at the end)") from None
    if offset and not last.endswith(b"\n"):
        lines += 1
    return digest.hexdigest(), lines


def _csv_header(path: Path, spec: DatasetSpec) -> tuple[str, ...]:
    with path.open("rb") as handle:
        first = handle.readline().removeprefix(UTF8_BOM).decode("utf-8")
    if not first.strip():
        raise UnreadableFile(f"{path.name}: empty file (no header row)")
    columns = tuple(name.strip() for name in next(csv.reader([first.rstrip("\r\n")])))
    known = {field.name for field in spec.all_fields}
    problems = []
    if duplicated := sorted({c for c in columns if columns.count(c) > 1}):
        problems.append(f"duplicate columns {', '.join(duplicated)}")
    if unexpected := [c for c in columns if c not in known]:
        problems.append(f"unexpected columns {', '.join(unexpected)}")
    required = [f.name for f in spec.all_fields if f.required and f.name not in columns]
    if required:
        problems.append(f"missing columns {', '.join(required)}")
    if problems:
        raise UnreadableFile(
            f"{path.name}: wrong header for dataset {spec.name} ({'; '.join(problems)}); "
            f"expected columns: {', '.join(f.name for f in spec.all_fields)}"
        )
    return columns


def read_batches(source: SourceFile, batch_rows: int) -> Iterator[pl.DataFrame]:
    frames = _csv_frames(source) if source.format == "csv" else _jsonl_frames(source, batch_rows)
    next_row = 1
    for batch in _rebatch(frames, batch_rows):
        yield _complete(batch, source.spec).with_row_index(ROW, offset=next_row)
        next_row += batch.height


def _complete(frame: pl.DataFrame, spec: DatasetSpec) -> pl.DataFrame:
    missing = [pl.lit(None, pl.String).alias(f.name) for f in spec.all_fields
               if f.name not in frame.columns]
    return frame.with_columns(missing) if missing else frame


def _rebatch(frames: Iterator[pl.DataFrame], batch_rows: int) -> Iterator[pl.DataFrame]:
    buffer: list[pl.DataFrame] = []
    held = 0
    for frame in frames:
        buffer.append(frame)
        held += frame.height
        while held >= batch_rows:
            whole = pl.concat(buffer, how="vertical")
            yield whole.head(batch_rows)
            rest = whole.slice(batch_rows)
            buffer, held = [rest], rest.height
    if held:
        yield pl.concat(buffer, how="vertical")


def _csv_frames(source: SourceFile) -> Iterator[pl.DataFrame]:
    schema = {name: pl.String for name in (*source.columns, EXTRA)}
    with source.path.open("rb") as handle:
        handle.readline()  # the header, checked by open_source
        pending = b""
        while True:
            data = handle.read(CHUNK_BYTES)
            buffer = pending + data
            cut = _record_boundary(buffer) if data else len(buffer)
            if cut == 0 and len(buffer) > 4 * CHUNK_BYTES:  # an unbalanced quote: give up parity
                cut = buffer.rfind(b"\n") + 1
            if cut > 0 and buffer[:cut].strip():
                yield _parse_csv(buffer[:cut], schema)
            pending = buffer[cut:]
            if not data:
                return


def _record_boundary(buffer: bytes) -> int:
    """Just after the last newline outside quotes (an even number of quotes before it)."""
    position = buffer.rfind(b"\n")
    while position >= 0 and buffer.count(b'"', 0, position) % 2:
        position = buffer.rfind(b"\n", 0, position)
    return position + 1


def _parse_csv(data: bytes, schema: dict[str, Any]) -> pl.DataFrame:
    frame = pl.read_csv(
        data, has_header=False, schema=schema, truncate_ragged_lines=True,
        missing_columns="insert", quote_char='"', encoding="utf8",
    )
    too_many = pl.col(EXTRA).is_not_null() & (pl.col(EXTRA).str.strip_chars() != "")
    return frame.with_columns(
        pl.when(too_many).then(pl.lit("row has more fields than the header")).alias(PROBLEM)
    )


def _jsonl_frames(source: SourceFile, batch_rows: int) -> Iterator[pl.DataFrame]:
    names = [field.name for field in source.spec.all_fields]
    columns: dict[str, list[str | None]] = {name: [] for name in (*names, PROBLEM, EXTRA)}
    with source.path.open("r", encoding="utf-8-sig", newline="\n") as handle:
        for line in handle:
            if not line.strip():
                continue
            for name, value in _jsonl_row(line, names).items():
                columns[name].append(value)
            if len(columns[PROBLEM]) >= batch_rows:
                yield pl.DataFrame(columns, schema={name: pl.String for name in columns})
                columns = {name: [] for name in columns}
    if columns[PROBLEM]:
        yield pl.DataFrame(columns, schema={name: pl.String for name in columns})


def _jsonl_row(line: str, names: list[str]) -> dict[str, str | None]:
    row: dict[str, str | None] = dict.fromkeys((*names, PROBLEM, EXTRA))
    try:
        parsed = json.loads(line)
    except ValueError:
        row[PROBLEM], row[EXTRA] = "row is not valid JSON", line.rstrip("\r\n")
        return row
    if not isinstance(parsed, dict):
        row[PROBLEM], row[EXTRA] = "row is not a JSON object", line.rstrip("\r\n")
        return row
    problems, extra = [], {}
    for key, value in parsed.items():
        if key not in row or key in (PROBLEM, EXTRA):
            extra[key] = value
        elif isinstance(value, dict | list):
            problems.append(f"{key}: not a single value")
            extra[key] = value
        elif value is not None:
            row[key] = _as_text(value)
    if extra:
        unexpected = [key for key in extra if key not in row or key in (PROBLEM, EXTRA)]
        if unexpected:
            problems.insert(0, f"unexpected fields {', '.join(unexpected)}")
        row[EXTRA] = json.dumps(extra, ensure_ascii=False)
    row[PROBLEM] = "; ".join(problems) or None
    return row


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
