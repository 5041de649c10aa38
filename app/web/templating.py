"""The Jinja2 environment of every page and :func:`render`, which fills the base layout.

Templates live in ``app/web/templates`` (one sub-folder per audience). Filters every page may use:
``yuan`` (fen → "1,234.00 元"), ``mask_id``, ``mask_mobile``, ``mask_name``, ``zh_date``.
Autoescaping is on; nothing personal reaches a template unmasked unless the template masks it.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app import ENGINE_VERSION
from app.auth.web import csrf_token
from app.privacy import mask_id_number, mask_mobile, mask_name
from app.web.nav import AUDIENCE_TITLES, links_for

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def yuan(fen: int | None) -> str:
    if fen is None:
        return "—"
    return f"{fen / 100:,.2f} 元"


def zh_date(value: date | datetime | str | None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value.year}年{value.month}月{value.day}日"


def _build() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
    env = templates.env
    env.filters.update(
        yuan=yuan, zh_date=zh_date, mask_id=mask_id_number, mask_mobile=mask_mobile,
        mask_name=mask_name,
    )
    env.globals.update(engine_version=ENGINE_VERSION, audience_titles=AUDIENCE_TITLES)
    return templates


templates = _build()


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *,
    audience: str = "public", title: str = "", status_code: int = 200,
) -> HTMLResponse:
    """Render ``template`` in the base layout with the navigation of ``audience``."""
    values = {
        "audience": audience,
        "title": title,
        "nav": links_for(audience),
        "current_path": request.url.path,
        "principal": getattr(request.state, "principal", None),
        "csrf_token": csrf_token(request),
        **(context or {}),
    }
    return templates.TemplateResponse(request, template, values, status_code=status_code)
