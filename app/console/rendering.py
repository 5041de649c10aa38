"""``console_page``: renders a console template (``officer/`` or ``auditor/``) in the base
layout with the staff navigation, the logout form and the flash message of ``?done=...``."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.web.templating import render

FLASHES = {
    "submitted": "已提交审批,等待另一位审批人审批。",
    "approved": "已审批通过,该版本将按生效日期生效。",
    "decided": "复核决定已记录。",
    "resolved": "异议处理结果已记录。",
}


def console_page(request: Request, audience: str, template: str, title: str,
                 status_code: int = 200, **context: Any) -> HTMLResponse:
    values = {"flash": FLASHES.get(request.query_params.get("done", "")),
              "logout_path": "/staff/logout", **context}
    return render(request, f"{audience}/{template}", values, audience=audience, title=title,
                  status_code=status_code)
