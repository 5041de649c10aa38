"""Asynchronous person lookups for the verification API on PostgreSQL: a few psycopg
``AsyncConnection``s per worker process (autocommit, statements prepared by psycopg after a few
uses), so a request waiting for the database neither blocks the event loop nor takes a worker
thread. Only the hot query lives here (the statement of ``repository.person``, for many keys at
once); every other check runs its Core queries in a thread.

Lookups are batched: the keys asked for while a batch waits for its connection (at least those
of one event-loop turn) go to PostgreSQL as one ``subject_key = ANY(...)`` statement, so under
load one round trip, one driver call and one backend wake-up serve many requests. Each request
still gets exactly its own row (``subject_key`` is unique). At most ``CONNECTIONS_PER_WORKER``
batches are in flight; a quiet server sends batches of one.

A connection that fails is dropped and replaced by the next batch that needs one; the
application's shutdown closes them. A database that refuses connections, or no connection free
within ``WAIT_SECONDS``, is :class:`ServiceUnavailable` (503) for every request of the batch,
never a 500.
"""

from __future__ import annotations

import asyncio

import psycopg
from sqlalchemy.engine import Engine

from app.db import UNAVAILABLE_MESSAGE
from app.errors import ServiceUnavailable
from certs.verify.repository import PERSON_BATCH_SQL, PersonRow

CONNECTIONS_PER_WORKER = 4
WAIT_SECONDS = 5.0  # for a free connection, when all are busy
MAX_BATCH = 256

Waiting = dict[str, list["asyncio.Future[PersonRow | None]"]]


class PersonLookups:
    def __init__(self, dsn: str, size: int = CONNECTIONS_PER_WORKER) -> None:
        self.dsn, self.size = dsn, size
        self._idle: asyncio.Queue[psycopg.AsyncConnection[tuple[object, ...]]] = asyncio.Queue()
        self._opened = 0
        self._opening = asyncio.Lock()
        self._pending: Waiting = {}
        self._collecting = False  # a batch task is waiting for its connection
        self._tasks: set[asyncio.Task[None]] = set()

    async def person(self, subject_key: str) -> PersonRow | None:
        """The person's registry row with any death record, ``None`` when not registered."""
        future: asyncio.Future[PersonRow | None] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(subject_key, []).append(future)
        if not self._collecting:
            self._collecting = True
            task = asyncio.create_task(self._batch())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _batch(self) -> None:
        try:
            connection = await self._acquire()
        except Exception as error:  # the requests get it; the task has no one to tell
            _fail(self._take(), error)
            return
        waiting = self._take()
        try:
            cursor = await connection.execute(PERSON_BATCH_SQL, (list(waiting),))
            rows = await cursor.fetchall()
        except BaseException as error:
            self._opened -= 1
            await connection.close()
            _fail(waiting, _unavailable("lost") if isinstance(error, psycopg.OperationalError)
                  else error)
            return
        self._idle.put_nowait(connection)
        found = {row[0]: PersonRow(*row[1:]) for row in rows}  # type: ignore[arg-type]
        for key, futures in waiting.items():
            row = found.get(key)
            for future in futures:
                if not future.done():
                    future.set_result(row)

    def _take(self) -> Waiting:
        """The keys waiting now (at most ``MAX_BATCH``; the rest start the next batch)."""
        waiting = self._pending
        if len(waiting) <= MAX_BATCH:
            self._pending, self._collecting = {}, False
            return waiting
        keys = list(waiting)
        self._pending = {key: waiting.pop(key) for key in keys[MAX_BATCH:]}
        task = asyncio.create_task(self._batch())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return waiting

    async def _acquire(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        if not self._idle.empty():
            return self._idle.get_nowait()
        if self._opened < self.size:
            async with self._opening:
                if self._opened < self.size:
                    self._opened += 1
                    try:
                        return await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
                    except BaseException as error:
                        self._opened -= 1
                        if isinstance(error, psycopg.OperationalError):
                            raise _unavailable("refused") from error
                        raise
        try:
            return await asyncio.wait_for(self._idle.get(), WAIT_SECONDS)
        except TimeoutError:
            raise _unavailable("no connection free") from None

    async def close(self) -> None:
        while not self._idle.empty():
            await self._idle.get_nowait().close()
            self._opened -= 1


def _fail(waiting: Waiting, error: BaseException) -> None:
    for futures in waiting.values():
        for future in futures:
            if not future.done():
                future.set_exception(_unavailable("unavailable")
                                     if isinstance(error, ServiceUnavailable) else error)


def _unavailable(what: str) -> ServiceUnavailable:
    return ServiceUnavailable(f"verification lookups: database connection {what}",
                              UNAVAILABLE_MESSAGE)


_by_loop: dict[tuple[int, str], PersonLookups] = {}


async def close_this_loop() -> None:
    """Close the connections of the running event loop's lookups (on application shutdown)."""
    loop = id(asyncio.get_running_loop())
    for key in [key for key in _by_loop if key[0] == loop]:
        await _by_loop.pop(key).close()


_dsns: dict[int, tuple[Engine, str]] = {}


def lookups_for(engine: Engine) -> PersonLookups | None:
    """This event loop's lookups for ``engine``'s database; ``None`` unless PostgreSQL."""
    if engine.dialect.name != "postgresql":
        return None
    known = _dsns.get(id(engine))
    if known is None or known[0] is not engine:
        known = _dsns[id(engine)] = (
            engine, engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
    key = (id(asyncio.get_running_loop()), known[1])
    lookups = _by_loop.get(key)
    if lookups is None:
        lookups = _by_loop[key] = PersonLookups(known[1], CONNECTIONS_PER_WORKER)
    return lookups
