"""The batched call log: rows wait in memory until the interval, the batch size or close, a
failed write keeps them, and nothing written is ever the queried value."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy.engine import Engine

from app.auth.principal import Principal
from app.db import engine_for
from certs.verify import repository
from certs.verify.call_log import CallLog, query_hash, subject_hash

CALLER = Principal(kind="department", id="apikey:bbbb00000001", department="health")


def _record(log: CallLog, n: int) -> None:
    for i in range(n):
        log.record(CALLER, "person", subject_hash(f"44060419500101{i:04d}"),
                   query_hash("person", "陈一文", f"44060419500101{i:04d}"), "match")


def test_rows_wait_for_close_then_are_written(engine: Engine) -> None:
    log = CallLog(engine, interval=60, batch_rows=1000)
    _record(log, 3)
    assert log.pending() == 3
    with engine.connect() as c:
        assert repository.count_calls(c) == 0
    log.close()
    with engine.connect() as c:
        assert repository.count_calls(c) == 3
    _record(log, 1)  # a closed log starts a new writer on the next call
    log.close()
    with engine.connect() as c:
        assert repository.count_calls(c) == 4


def test_a_full_batch_is_written_without_waiting_for_the_interval(engine: Engine) -> None:
    log = CallLog(engine, interval=60, batch_rows=5)
    _record(log, 5)
    deadline = time.monotonic() + 10
    while log.pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    with engine.connect() as c:
        assert repository.count_calls(c) == 5
    log.close()


def test_a_failed_write_keeps_the_rows(engine: Engine, tmp_path: Path) -> None:
    unmigrated = engine_for(f"sqlite:///{tmp_path / 'empty.db'}")
    log = CallLog(unmigrated, interval=60, batch_rows=1000)
    _record(log, 2)
    assert log.flush() == 0 and log.pending() == 2
    log.engine = engine  # the database is back
    assert log.flush() == 2 and log.pending() == 0
    log.close()


def test_hashes_are_keyed_and_normalised() -> None:
    number = "44060419500101123X"
    assert subject_hash(number) == subject_hash(" " + number.lower())
    assert subject_hash(number) != subject_hash("44060419500101124X")
    assert number not in subject_hash(number) and len(subject_hash(number)) == 32
    assert query_hash("person", "陈一文", number) != query_hash("person", "陈二文", number)
