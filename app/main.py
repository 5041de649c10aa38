"""FastAPI application factory: one error format, API routers from each domain's ``api`` module
under ``/api/v1``, and the server-rendered pages (``app.web``) next to them.

Domains add their router to ``ROUTERS``; portals add their page router to ``PAGE_ROUTERS``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from app import ENGINE_VERSION, admission
from app.audit.api import router as audit_router
from app.auth import purge
from app.auth.api import router as auth_router
from app.citizen.api import router as citizen_api
from app.citizen.pages import router as citizen_pages
from app.console.api import router as staff_explanations_api
from app.console.approvals import router as approval_pages
from app.console.auditor import router as auditor_pages
from app.console.dashboard import router as dashboard_pages
from app.console.objections import router as objection_pages
from app.console.policies import router as policy_pages
from app.console.reviews import router as review_pages
from app.console.signin import router as staff_signin_pages
from app.datahub.api import router as data_router
from app.db import get_engine
from app.enterprise.api import router as enterprise_api
from app.enterprise.pages import router as enterprise_pages
from app.personal_data.api import router as personal_data_router
from app.portal.policies import bundled as bundled_policies
from app.settings import get_settings
from app.web import errors as web_errors
from app.web.pages import mount_static
from app.web.pages import router as public_pages
from app.web.signin import router as signin_pages
from app.wiring import install_hooks
from certs.api import router as certs_router
from certs.verify.api import router as verify_router
from certs.verify.fastpath import VerifyFastPath
from eligibility.events.api import router as events_router
from eligibility.grants.api import router as grants_router
from eligibility.payments.api import router as payments_router
from eligibility.registry.api import router as policies_router
from eligibility.replay.api import router as replay_router
from notifications.api import router as notifications_router

ROUTERS: list[APIRouter] = [
    citizen_api,  # first: routes are matched in order, and "my benefits" is the hottest
    auth_router,
    notifications_router,
    certs_router,
    verify_router,
    grants_router,
    payments_router,
    audit_router,
    events_router,
    data_router,
    policies_router,
    replay_router,
    personal_data_router,
    enterprise_api,
    staff_explanations_api,
]

PAGE_ROUTERS: list[APIRouter] = [
    public_pages, signin_pages, citizen_pages, enterprise_pages, staff_signin_pages,
    approval_pages, review_pages, objection_pages, dashboard_pages, policy_pages,
    auditor_pages,
]


@asynccontextmanager
async def lifespan(api: FastAPI) -> AsyncIterator[None]:
    """Before serving: compile the bundled policies the portals label benefits with (seconds of
    YAML parsing that would otherwise stall the first requests of each worker). On the embedded
    default (no Redis, so no Celery beat) the server itself purges spent sessions and sign-in
    codes now and then (``app.auth.purge``)."""
    await run_in_threadpool(bundled_policies)
    loop = None
    if not get_settings().redis_url:
        loop = asyncio.create_task(purge.in_process_loop(
            lambda: getattr(api.state, "engine", None) or get_engine()))
    yield
    if loop is not None:
        loop.cancel()


class Application(FastAPI):
    """FastAPI with the verification hot path (``certs.verify.fastpath``) in front of its whole
    middleware stack: the person and ``alive`` checks of warm API keys skip FastAPI; every other
    request (and everything the hot path does not recognise) goes to FastAPI unchanged."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._front = VerifyFastPath(super().__call__, self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._front(scope, receive, send)


def create_app() -> FastAPI:
    install_hooks()  # pushed death events cancel SMS and revoke certificates here too
    api = Application(title="Mianshen 免申即享", version=ENGINE_VERSION, lifespan=lifespan)
    web_errors.install(api)
    admission.install(api)

    @api.get("/api/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": ENGINE_VERSION}

    for router in ROUTERS:
        api.include_router(router, prefix="/api/v1")
    for router in PAGE_ROUTERS:
        api.include_router(router)
    mount_static(api)
    return api
