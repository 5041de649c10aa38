"""The benchmark's population registry for ``verify_api.py``: ``person_at(i)`` gives person i
deterministically (ID number, name, birth date, sex), so the load generator can ask about any of
them without reading the database, and ``load`` COPYs ``count`` of them into PostgreSQL as the
importer would store them (subject key, AES-GCM ``pii``), with a death record for every 100th.
Loading is not timed."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from stdnum.cn import ric

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.datahub.storage import encrypt_all  # noqa: E402
from app.privacy import keyring  # noqa: E402

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志文玉珍红梅"
FIRST_DAY = date(1930, 1, 1)
DAYS = 30_000  # birth dates 1930 .. 2012
DEAD_EVERY = 100


def person_at(index: int) -> tuple[str, str, date, str]:
    """``(id_number, name, birth_date, sex)`` of person ``index`` (unique below 9.9M)."""
    born = FIRST_DAY + timedelta(days=index % DAYS)
    sequence = 100 + index // DAYS * 3
    body = f"440604{born:%Y%m%d}{sequence:03d}"
    name = (SURNAMES[index % len(SURNAMES)] + GIVEN[index * 7 % len(GIVEN)]
            + GIVEN[index * 13 % len(GIVEN)])
    return body + ric.calc_check_digit(body + "0"), name, born, "M" if sequence % 2 else "F"


def load(url: str, count: int, chunk: int = 50_000) -> float:
    """COPY persons 0..count-1 (and their death records); seconds taken."""
    started, ring, now = time.perf_counter(), keyring(), datetime.now(UTC)
    with psycopg.connect(url) as connection:
        held = connection.execute("SELECT count(*) FROM person").fetchone()
        if held and held[0] >= count:
            return 0.0
        connection.execute("TRUNCATE person, death_record")
        for start in range(0, count, chunk):
            people = [person_at(i) for i in range(start, min(start + chunk, count))]
            pii = encrypt_all(ring, [json.dumps({"id_number": n, "name": name},
                                                ensure_ascii=False) for n, name, _, _ in people])
            with connection.cursor() as cursor, cursor.copy(
                "COPY person (subject_key, sex, birth_date, region_code, status, source_dept,"
                " as_of, pii, row_hash, updated_at) FROM STDIN"
            ) as copy:
                for (number, _, born, sex), sealed in zip(people, pii, strict=True):
                    key = ring.subject_key(number)
                    copy.write_row((key, sex, born, "440604", "active", "public_security",
                                    date(2026, 11, 1), sealed, key, now))
            with connection.cursor() as cursor, cursor.copy(
                "COPY death_record (subject_key, date_of_death, source_kind, source_dept,"
                " as_of, row_hash, updated_at) FROM STDIN"
            ) as copy:
                for offset in range(0, len(people), DEAD_EVERY):
                    key = ring.subject_key(people[offset][0])
                    copy.write_row((key, date(2026, 10, 1), "hospital", "health",
                                    date(2026, 11, 1), key, now))
            connection.commit()
        connection.execute("ANALYZE person")
        connection.execute("ANALYZE death_record")
        connection.commit()
    return time.perf_counter() - started
