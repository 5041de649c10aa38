"""The audit log of verification calls, written in batches so that logging costs the request
path one list append.

Every call adds a row to a bounded in-process buffer; a daemon thread writes the buffer with one
multi-row INSERT every ``interval`` seconds (0.2 s) or as soon as ``batch_rows`` (500) are
waiting; process exit (``atexit``, the API's shutdown) writes what is left. If the buffer reaches
``max_rows`` (a database outage) the request that finds it full writes it itself, so calls are
slowed, never dropped. What can be lost: the rows of at most one interval if the process is
killed (SIGKILL, power loss) before the thread writes them. A failed write puts the rows back.

No queried value is stored: the subject (ID number or USCC) and the whole query go through the
keyed blind index (``app.privacy``) with their own personalisations, so an auditor who knows an
ID number can find its calls (``subject_hash``) but the table alone reveals nobody.
"""

from __future__ import annotations

import atexit
import logging
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from app.auth.principal import Principal
from app.privacy import keyring
from certs.verify import repository

log = logging.getLogger(__name__)

SUBJECT_PURPOSE = b"ms-verify-subj"
QUERY_PURPOSE = b"ms-verify-query"


def subject_hash(subject: str) -> str:
    """Keyed hash of an ID number or USCC as the call log stores it."""
    return keyring().blind_index((subject or "").strip().upper(), SUBJECT_PURPOSE)


def query_hash(kind: str, *parts: str) -> str:
    return keyring().blind_index("\x1f".join((kind, *(p or "" for p in parts))), QUERY_PURPOSE)


class CallLog:
    def __init__(self, engine: Engine, *, interval: float = 0.2, batch_rows: int = 500,
                 max_rows: int = 50_000) -> None:
        self.engine = engine
        self.interval, self.batch_rows, self.max_rows = interval, batch_rows, max_rows
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, caller: Principal, check_kind: str, subject: str, query: str,
               outcome: str) -> None:
        row = {"at": datetime.now(UTC), "caller_id": caller.id[:64],
               "department": (caller.department or "")[:40], "check_kind": check_kind,
               "subject_hash": subject, "query_hash": query, "outcome": outcome}
        with self._lock:
            self._rows.append(row)
            waiting = len(self._rows)
        if self._thread is None:
            self._start()
        if waiting >= self.max_rows:
            self.flush()
        elif waiting >= self.batch_rows:
            self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    def flush(self) -> int:
        """Write every buffered row now; the number written."""
        with self._write_lock:
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                return 0
            try:
                with self.engine.begin() as connection:
                    repository.insert_calls(connection, rows)
            except Exception:
                log.exception("verification call log: writing %d rows failed; kept", len(rows))
                with self._lock:
                    self._rows[:0] = rows
                return 0
            return len(rows)

    def close(self) -> None:
        """Stop the writer thread and write what is left (a later call starts a new one)."""
        self._closed.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()
        with self._lock:
            self._thread = None
            self._closed.clear()

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="verify-call-log",
                                            daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._closed.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()


_logs: dict[int, CallLog] = {}
_logs_lock = threading.Lock()


def call_log_for(engine: Engine) -> CallLog:
    """The process's one call log per database engine."""
    with _logs_lock:
        existing = _logs.get(id(engine))
        if existing is None or existing.engine is not engine:
            existing = _logs[id(engine)] = CallLog(engine)
        return existing


def close_all() -> None:
    with _logs_lock:
        logs = list(_logs.values())
    for call_log in logs:
        call_log.close()


atexit.register(close_all)
