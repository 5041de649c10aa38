"""FastAPI application factory: one error format, routers from each domain's ``api`` module.

Domains add their router to ``ROUTERS``; everything is mounted under ``/api/v1``.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from app import ENGINE_VERSION
from app.errors import MianshenError
from app.personal_data.api import router as personal_data_router
from certs.api import router as certs_router
from notifications.api import router as notifications_router

ROUTERS: list[APIRouter] = []
ROUTERS.append(notifications_router)
ROUTERS.append(certs_router)
ROUTERS.append(personal_data_router)


def create_app() -> FastAPI:
    api = FastAPI(title="Mianshen 免申即享", version=ENGINE_VERSION)

    @api.exception_handler(MianshenError)
    async def _business_error(_request: Request, error: MianshenError) -> JSONResponse:
        return JSONResponse(
            status_code=error.status_code,
            content={"error": {"code": type(error).__name__, "message": error.user_message}},
        )

    @api.get("/api/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": ENGINE_VERSION}

    for router in ROUTERS:
        api.include_router(router, prefix="/api/v1")
    return api
