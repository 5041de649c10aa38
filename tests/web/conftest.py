"""Fixtures of the web tests: a seeded city, the app served by uvicorn on 127.0.0.1, a headless
Chromium page, and screenshots saved under ``var/screenshots/`` (gitignored test artifacts).

``web_city`` is a PostgreSQL database of this run's own (not the shared test database, whose
tables other tests truncate): a small synthetic city imported and swept once per session, so the
pages show real data. ``live_server`` serves ``create_app()`` over it with uvicorn in a thread
on a free port. ``page`` is a fresh browser context (zh-CN) on Debian's Chromium.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from app import migrations
from app.db import engine_for
from tests.conftest import IN_CI, PG_ADMIN_URL, _unavailable

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM = os.environ.get("MIANSHEN_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@dataclass
class WebCity:
    url: str
    engine: Engine
    city_dir: Path


def _seed(engine: Engine, city_dir: Path) -> None:
    from app.datahub import service, synth
    from eligibility.sweeps.service import run_sweep

    synth.generate_city(city_dir, persons=5_000, enterprises=400, seed=11)
    service.import_path(engine, city_dir)
    run_sweep(synth.REFERENCE_DATE, full=True, engine=engine, distributed=False)


def _seeded(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            row = connection.execute("SELECT count(*) FROM sweep_run WHERE status = 'done'")
            return bool(row.fetchone()[0])  # type: ignore[index]
    except psycopg.Error:
        return False


@pytest.fixture(scope="session")
def web_city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebCity]:
    """Seeding takes minutes on a loaded machine; ``MIANSHEN_TEST_WEB_CITY=NAME`` keeps the
    seeded database NAME (and its city files under var/) for the next run instead."""
    from app.wiring import install_hooks

    kept = os.environ.get("MIANSHEN_TEST_WEB_CITY")
    name = kept or f"mianshen_test_web_{os.getpid()}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    city_dir = ROOT / "var" / name if kept else tmp_path_factory.mktemp("web-city")
    install_hooks()
    if not (kept and _seeded(url) and (city_dir / "person.csv").exists()):
        try:
            admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
        except psycopg.OperationalError as error:
            _unavailable("PostgreSQL", error)
        with admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        migrations.upgrade(url)
        _seed(engine_for(url), city_dir)
    else:
        migrations.upgrade(url)
    engine = engine_for(url)
    yield WebCity(url, engine, city_dir)
    engine.dispose()
    if not kept:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveServer:
    base_url: str
    app: FastAPI


@pytest.fixture(scope="session")
def live_server(web_city: WebCity) -> Iterator[LiveServer]:
    from app.main import create_app

    app = create_app()
    app.state.engine = web_city.engine
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
    ))
    thread = threading.Thread(target=server.run, name="web-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test web server did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", app)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server.base_url, locale="zh-CN", viewport={"width": 1200, "height": 900},
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as a test artifact and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
