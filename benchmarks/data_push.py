"""Benchmark: department push of person rows through ``POST /api/v1/data/person/batches`` on
PostgreSQL, over HTTP to a uvicorn server on 127.0.0.1 with a real ``data:push`` API key.

Pushes ``--batches`` batches of ``--rows`` new persons (valid ID numbers, names, mobiles: every
row is validated, hashed, encrypted and upserted like ``data import``), then re-sends them
(idempotent replay: nothing written), then pushes the same rows under new batch ids (held
unchanged: hashed and looked up, not written). Prints rows/s and the CPU time of this process
(HTTP client + server + import in one process; PostgreSQL's own CPU is not included) per 1,000
rows for each phase, with the load average. The database ``webpush_bench_push`` is created
afresh and dropped at the end.

    .venv/bin/python benchmarks/data_push.py                    # 10 batches of 10,000 rows
    .venv/bin/python benchmarks/data_push.py --batches 20 --rows 5000
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
import uvicorn  # noqa: E402
from stdnum.cn import ric  # noqa: E402

from app import migrations  # noqa: E402
from app.auth import apikeys  # noqa: E402
from app.db import engine_for, session_scope  # noqa: E402
from app.main import create_app  # noqa: E402
from notifications.mock_gateway import free_port  # noqa: E402

PG_ADMIN = os.environ.get("MIANSHEN_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = "webpush_bench_push"


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--rows", type=int, default=10_000)
    return parser.parse_args()


def person_rows(batch: int, rows: int) -> list[dict[str, Any]]:
    """Distinct persons: birth dates spread over 1940-1999, sequence numbers per batch."""
    out = []
    for n in range(rows):
        serial = batch * rows + n
        born = date(1940, 1, 1) + timedelta(days=serial % 21_900)
        sequence = serial // 21_900 % 1000
        body = f"440604{born:%Y%m%d}{sequence:03d}"
        out.append({
            "id_number": body + ric.calc_check_digit(body + "0"), "name": f"测试{serial}",
            "sex": "M" if sequence % 2 else "F", "birth_date": born.isoformat(),
            "region_code": "440604", "mobile": f"138{serial:08d}", "status": "active",
            "as_of": "2026-11-01",
        })
    return out


def phase(client: httpx.Client, label: str, batches: list[tuple[str, list[dict[str, Any]]]]
          ) -> None:
    rows = sum(len(r) for _, r in batches)
    cpu, wall = time.process_time(), time.perf_counter()
    counts = {"loaded": 0, "unchanged": 0, "quarantined": 0}
    for batch_id, body in batches:
        answer = client.post("/api/v1/data/person/batches",
                             json={"batch_id": batch_id, "rows": body})
        answer.raise_for_status()
        for name in counts:
            counts[name] += answer.json()[name]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<34} {rows:>8,} rows {wall:7.2f} s {rows / wall:>9,.0f} rows/s "
          f"{cpu / rows * 1000 * 1000:7.1f} ms CPU/1k rows  {counts}")


def main() -> None:
    args = parse()
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{DB_NAME}"
    try:
        migrations.upgrade(url)
        engine = engine_for(url)
        with session_scope(engine) as session:
            _key, secret = apikeys.create_key(session, "public_security", ["data:push"], 10_000)
        api = create_app()
        api.state.engine = engine
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port,
                                               log_level="warning", access_log=False))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        data = [(f"b-{i}", person_rows(i, args.rows)) for i in range(args.batches)]
        print(f"load average before: {os.getloadavg()}")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600,
                          headers={"Authorization": f"Bearer {secret}"}) as client:
            phase(client, "new rows", data)
            phase(client, "re-sent batches (replay)", data)
            phase(client, "same rows, new batch ids", [(f"again-{i}", rows)
                                                        for i, (_, rows) in enumerate(data)])
        print(f"load average after: {os.getloadavg()}")
        server.should_exit = True
        engine.dispose()
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


if __name__ == "__main__":
    main()
