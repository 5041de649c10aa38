"""Asynchronous person lookups for the verification API on PostgreSQL: a few psycopg
``AsyncConnection``s per worker process (autocommit, statements prepared by psycopg after a few
uses), so a request waiting for the database neither blocks the event loop nor takes a worker
thread, and many lookups are in flight at once. Only the hot query lives here (the same
statement as ``repository.person``); every other check runs its Core queries in a thread.
A connection that fails is dropped and replaced by the next request that needs one; the
application's shutdown closes them.
"""

from __future__ import annotations

import asyncio

import psycopg
from sqlalchemy.engine import Engine

from certs.verify.repository import PERSON_SQL, PersonRow

CONNECTIONS_PER_WORKER = 4


class PersonLookups:
    def __init__(self, dsn: str, size: int = CONNECTIONS_PER_WORKER) -> None:
        self.dsn, self.size = dsn, size
        self._idle: asyncio.Queue[psycopg.AsyncConnection[tuple[object, ...]]] = asyncio.Queue()
        self._opened = 0
        self._opening = asyncio.Lock()

    async def _acquire(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        if self._idle.empty() and self._opened < self.size:
            async with self._opening:
                if self._opened < self.size:
                    self._opened += 1
                    try:
                        return await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
                    except BaseException:
                        self._opened -= 1
                        raise
        return await self._idle.get()

    async def person(self, subject_key: str) -> PersonRow | None:
        connection = await self._acquire()
        try:
            cursor = await connection.execute(PERSON_SQL.format("%s"), (subject_key,))
            found = await cursor.fetchone()
        except BaseException:
            self._opened -= 1
            await connection.close()
            raise
        self._idle.put_nowait(connection)
        return PersonRow(*found) if found else None  # type: ignore[arg-type]

    async def close(self) -> None:
        while not self._idle.empty():
            await self._idle.get_nowait().close()
            self._opened -= 1


_by_loop: dict[tuple[int, str], PersonLookups] = {}


async def close_this_loop() -> None:
    """Close the connections of the running event loop's lookups (on application shutdown)."""
    loop = id(asyncio.get_running_loop())
    for key in [key for key in _by_loop if key[0] == loop]:
        await _by_loop.pop(key).close()


def lookups_for(engine: Engine) -> PersonLookups | None:
    """This event loop's lookups for ``engine``'s database; ``None`` unless PostgreSQL."""
    if engine.dialect.name != "postgresql":
        return None
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    key = (id(asyncio.get_running_loop()), dsn)
    lookups = _by_loop.get(key)
    if lookups is None:
        lookups = _by_loop[key] = PersonLookups(dsn)
    return lookups
