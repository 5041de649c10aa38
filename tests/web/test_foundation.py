"""The web foundation over real HTTP: the base layout, the HTML error page, the JSON error format
under /api/, static files, and keyboard access (skip link, landmarks)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.web.conftest import LiveServer, screenshot

pytestmark = pytest.mark.postgres


def test_home_page_is_chinese_with_landmarks(live_server: LiveServer) -> None:
    response = httpx.get(live_server.base_url + "/")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="zh-CN">' in html
    for landmark in ('role="banner"', "<nav", '<main id="main"', 'role="contentinfo"'):
        assert landmark in html
    assert "政策找人" in html


def test_unknown_page_gets_the_html_error_page_and_api_gets_json(live_server: LiveServer) -> None:
    page = httpx.get(live_server.base_url + "/no-such-page")
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]
    assert "页面不存在" in page.text
    api = httpx.get(live_server.base_url + "/api/v1/no-such-endpoint")
    assert api.status_code == 404
    assert api.json() == {"error": {"code": "http_404", "message": "页面不存在"}}


def test_api_validation_errors_use_the_one_error_format(live_server: LiveServer) -> None:
    response = httpx.get(live_server.base_url + "/api/v1/certs/some-id/qr?kind=gif")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "ValidationFailed"
    assert "kind" in error["message"]


def test_static_files_are_served(live_server: LiveServer) -> None:
    css = httpx.get(live_server.base_url + "/static/site.css")
    assert css.status_code == 200
    assert ":focus-visible" in css.text


def test_keyboard_user_reaches_main_content_through_the_skip_link(page: Any) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "跳到主要内容"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    assert page.get_by_role("heading", level=1).inner_text() == "政策找人,免申即享"
    screenshot(page, "00-home")
