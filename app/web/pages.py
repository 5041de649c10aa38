"""Public pages (the home page choosing an audience) and the static files mount.

Audience portals have their own ``pages`` routers (``app.citizen.pages``,
``app.enterprise.pages``); ``app.main`` mounts them all next to the API.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app.web.templating import STATIC_DIR, render

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return render(request, "home.html", title="首页")


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
