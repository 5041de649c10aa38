"""FastAPI application factory: one error format, routers from each domain's ``api`` module.

Domains add their router to ``ROUTERS``; everything is mounted under ``/api/v1``.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from app import ENGINE_VERSION
from app.audit.api import router as audit_router
from app.auth.api import router as auth_router
from app.errors import MianshenError, RateLimited
from app.personal_data.api import router as personal_data_router
from app.wiring import install_hooks
from certs.api import router as certs_router
from certs.verify.api import router as verify_router
from eligibility.events.api import router as events_router
from eligibility.grants.api import router as grants_router
from eligibility.payments.api import router as payments_router
from eligibility.registry.api import router as policies_router
from eligibility.replay.api import router as replay_router
from notifications.api import router as notifications_router

ROUTERS: list[APIRouter] = [
    auth_router,
    notifications_router,
    certs_router,
    verify_router,
    grants_router,
    payments_router,
    audit_router,
    events_router,
    policies_router,
    replay_router,
    personal_data_router,
]


def create_app() -> FastAPI:
    install_hooks()  # pushed death events cancel SMS and revoke certificates here too
    api = FastAPI(title="Mianshen 免申即享", version=ENGINE_VERSION)

    @api.exception_handler(MianshenError)
    async def _business_error(_request: Request, error: MianshenError) -> JSONResponse:
        headers = {}
        if isinstance(error, RateLimited):
            headers["Retry-After"] = str(error.retry_after_seconds)
        return JSONResponse(
            status_code=error.status_code,
            content={"error": {"code": type(error).__name__, "message": error.user_message}},
            headers=headers,
        )

    @api.get("/api/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": ENGINE_VERSION}

    for router in ROUTERS:
        api.include_router(router, prefix="/api/v1")
    return api
