"""No personal data in logs: capture every log record of a full run on a small synthetic city
(the demo's path: synth → import → sweep → grants → payments → SMS → certificates, then API
calls that show a person's record served by uvicorn, and CLI views) with the root logger at
DEBUG plus the Celery and uvicorn loggers, and scan them, the SMS console log and the printed
output for every name, ID number and mobile number of the city (and their obvious variants:
lower-case ``x``, spaced mobiles). Masked forms are fine. Then every text cell of every table
is checked the same way: personal values are only ever stored encrypted. SQLAlchemy's statement
echo is left at WARNING (it would only show ciphertext and keys, and makes the run crawl).
"""

from __future__ import annotations

import csv
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel
from typer.testing import CliRunner

from app.auth.deps import current_principal
from app.auth.principal import Principal
from app.cli import cli
from app.datahub.catalog import FieldType, dataset
from app.db import engine_for
from app.main import create_app
from app.privacy import keyring
from app.settings import get_settings
from app.wiring import install_hooks
from notifications.tasks import dispatcher
from tests.sms_support import ServedApp

LOGGERS = ("", "celery", "celery.task", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx",
           "mianshen", "app", "eligibility", "notifications", "certs")
QUIET = ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "asyncio", "httpcore",
         "multipart", "urllib3")


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def _fresh_settings() -> None:
    """Settings and what was built from them (the SMS dispatcher holds an engine and the
    console provider's file) follow the environment again."""
    get_settings.cache_clear()
    dispatcher.cache_clear()


@pytest.fixture
def captured(db_url: str, tmp_path: Path) -> Iterator[Capture]:
    saved = {name: os.environ.get(name) for name in ("MIANSHEN_HOME", "MIANSHEN_DATABASE_URL")}
    os.environ["MIANSHEN_HOME"] = str(tmp_path / "home")
    os.environ["MIANSHEN_DATABASE_URL"] = db_url
    _fresh_settings()
    handler = Capture()
    levels = {name: logging.getLogger(name).level for name in (*LOGGERS, *QUIET)}
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger().addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _fresh_settings()


def _personal_values(city: Path) -> set[str]:
    """Every name, ID number and mobile of the city (the catalog's personal fields), with their
    obvious variants. Addresses are personal too but never go near a log line by design; they
    are scanned as well."""
    values: set[str] = set()
    for path in city.glob("*.csv"):
        spec = dataset(path.stem)
        names = {field.name for field in spec.all_fields}
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                for column, raw in row.items():
                    value = (raw or "").strip()
                    if column not in names or len(value) < 2:
                        continue
                    field = spec.field(column)
                    if field.type is FieldType.ID_NUMBER and len(value) >= 15:
                        values.update({value, value.lower(), value.upper()})
                    elif field.type is FieldType.MOBILE and len(value) >= 11:
                        values.update({value, f"{value[:3]} {value[3:7]} {value[7:]}",
                                       f"{value[:3]}-{value[3:7]}-{value[7:]}"})
                    elif field.personal_text:
                        values.add(value)
    return values


def _views(engine: Engine) -> None:
    """Views of people's records through the API (uvicorn on 127.0.0.1)."""
    with engine.connect() as connection:
        cert_id, key = connection.execute(
            text("SELECT cert_id, subject_key FROM certificate ORDER BY id LIMIT 1")).one()
    api = create_app()
    api.state.engine = engine
    api.dependency_overrides[current_principal] = lambda: Principal(
        kind="citizen", id="c-scan", subject_key=key)
    with ServedApp(api) as served, httpx.Client(base_url=served.url, timeout=60) as client:
        assert client.get(f"/api/v1/certs/{cert_id}/page").status_code == 200
        assert client.post("/api/v1/certs/verify", json={"cert_id": cert_id}).status_code == 200
        assert client.get("/api/v1/me/export").status_code == 200
        assert client.get("/api/v1/me/access-log").status_code == 200
        assert client.get("/api/v1/certs/no-such-id").status_code == 404


PUBLIC_COLUMNS = {("enterprise", "name")}  # a company's registered name is public
_NUMBERS = re.compile(r"\d{17}[\dXx]|1[3-9]\d{9}")
_HAN = re.compile(r"[\u4e00-\u9fff]{3,}")


def _tokens(value: str) -> set[str]:
    """What in a stored text could be a personal value: the whole text, ID and mobile numbers
    in it, and every 3-4 character window of its runs of Chinese characters (a full name)."""
    found = {value, *_NUMBERS.findall(value)}
    for run in _HAN.findall(value):
        found.update(run[i:i + n] for n in (3, 4) for i in range(len(run) - n + 1))
    return found


def _is_text(column: Any) -> bool:
    try:
        return column.type.python_type is str
    except NotImplementedError:
        return True


def _plaintext_at_rest(engine: Engine, personal: set[str]) -> dict[str, list[str]]:
    """Every text cell of every table after the run, checked for the city's personal values
    (names of three or more characters, to keep clear of two-character words)."""
    wanted = {value for value in personal if not _HAN.fullmatch(value) or len(value) >= 3}
    leaks: dict[str, list[str]] = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            columns = [c for c in table.columns
                       if (table.name, c.name) not in PUBLIC_COLUMNS and _is_text(c)]
            if not columns:
                continue
            for row in connection.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, str) and (_tokens(value) & wanted):
                        leaks.setdefault(f"{table.name}.{column.name}", []).append(
                            sorted(_tokens(value) & wanted)[0])
    return {where: values[:3] for where, values in leaks.items()}


# One database: the run takes minutes; PostgreSQL is production (the SQLite run passes too:
# ``pytest tests/test_log_scan.py`` after removing this line runs both).
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_full_run_logs_no_personal_data(captured: Capture, tmp_path: Path) -> None:
    install_hooks()  # what ``mianshen`` does before running a command
    runner = CliRunner()
    demo = runner.invoke(cli, ["demo", "--persons", "500", "--enterprises", "50", "--seed", "3"])
    assert demo.exit_code == 0, demo.output
    home = tmp_path / "home"
    city = home / "demo-city"
    engine = engine_for(os.environ["MIANSHEN_DATABASE_URL"])
    _views(engine)
    with engine.connect() as connection:
        person_id = connection.execute(text(
            "SELECT subject_key FROM benefit_grant WHERE subject_kind = 'person' LIMIT 1"
        )).scalar_one()
    shown = runner.invoke(cli, ["grants", "list", "--subject", person_id])
    assert shown.exit_code == 0, shown.output
    bad = runner.invoke(cli, ["data", "import", str(tmp_path / "missing.csv")])
    assert bad.exit_code != 0

    personal = _personal_values(city)
    assert len(personal) > 5_000  # the scan has something to look for
    sms_log = (home / "sms-outbox.log").read_text(encoding="utf-8")
    assert sms_log and captured.lines
    texts = {"logs": "\n".join(captured.lines), "sms-outbox.log": sms_log,
             "demo output": demo.output + shown.output + bad.output}
    found = {where: sorted(value for value in personal if value in body)[:5]
             for where, body in texts.items()}
    assert found == {where: [] for where in texts}, "personal data written to logs or screens"
    assert _plaintext_at_rest(engine, personal) == {}, "personal data stored unencrypted"
    assert keyring().active_kid  # the run used the configured keys
