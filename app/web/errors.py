"""One error format per medium: JSON ``{"error": {"code", "message"}}`` under ``/api/``, one
HTML error page (``error.html``) everywhere else. An anonymous visitor of a page that needs
sign-in is sent to the audience's login page instead. Unexpected failures are logged by type and
path only (no request data, which may be personal) and answered with a 500 in the same format.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from app.errors import MianshenError, RateLimited
from app.web.nav import LOGIN_PATHS, audience_of
from app.web.templating import render

log = logging.getLogger("mianshen.web")

STATUS_MESSAGES_ZH = {
    400: "请求有误", 401: "请先登录", 403: "您没有权限访问此页面", 404: "页面不存在",
    405: "不支持此操作", 409: "操作与当前状态冲突", 413: "提交的内容过大", 422: "提交的内容有误",
    429: "操作过于频繁,请稍后再试", 500: "系统繁忙,请稍后再试", 503: "服务暂时不可用,请稍后再试",
}


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def respond(request: Request, status: int, code: str, message: str,
            headers: dict[str, str] | None = None) -> Response:
    if is_api(request):
        return JSONResponse(status_code=status, content={"error": {"code": code,
                                                                   "message": message}},
                            headers=headers)
    audience = audience_of(request.url.path)
    login = LOGIN_PATHS.get(audience)
    if status == 401 and login and request.method == "GET":
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"{login}?next={target}", status_code=303)
    page = render(
        request, "error.html",
        {"status": status, "code": code, "message": message,
         "heading": STATUS_MESSAGES_ZH.get(status, HTTPStatus(status).phrase)},
        audience=audience, title=STATUS_MESSAGES_ZH.get(status, "出错了"), status_code=status,
    )
    page.headers.update(headers or {})
    return page


def _validation_message(error: RequestValidationError) -> str:
    fields = []
    for item in error.errors()[:5]:
        location = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        fields.append(f"{location}: {item.get('msg', '')}" if location else item.get("msg", ""))
    return "提交的内容有误:" + ";".join(fields)


def install(app: FastAPI) -> None:
    @app.exception_handler(MianshenError)
    async def _business(request: Request, error: MianshenError) -> Response:
        headers = {}
        if isinstance(error, RateLimited):
            headers["Retry-After"] = str(error.retry_after_seconds)
        return respond(request, error.status_code, type(error).__name__, error.user_message,
                       headers)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> Response:
        message = error.detail if isinstance(error.detail, str) and not error.detail.isascii() \
            else STATUS_MESSAGES_ZH.get(error.status_code, HTTPStatus(error.status_code).phrase)
        response = respond(request, error.status_code, f"http_{error.status_code}", message)
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        return respond(request, 422, "ValidationFailed", _validation_message(error))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        log.error("unhandled %s on %s %s", type(error).__name__, request.method,
                  request.url.path)
        return respond(request, 500, "internal_error", STATUS_MESSAGES_ZH[500])
