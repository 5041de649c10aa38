"""Access to the pages over real HTTP: an anonymous visitor of any portal page is sent to that
portal's sign-in page (and back afterwards, never to another site), a principal of the wrong
kind gets the HTML error page, and logging out ends the session."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi.routing import APIRoute

from app.main import create_app
from app.web.signin import CITIZEN, safe_next
from tests.web import people
from tests.web.conftest import LiveServer, WebCity
from tests.web.signin import citizen, client_as, enterprise

pytestmark = pytest.mark.postgres


def page_paths(prefix: str) -> list[str]:
    routes: Iterable[Any] = create_app().routes
    resolve = getattr(fastapi.routing, "iter_route_contexts", None)
    return sorted(route.path for route in (resolve(routes) if resolve else routes)
                  if isinstance(getattr(route, "original_route", route), APIRoute)
                  and route.path.startswith(prefix) and "GET" in route.methods
                  and "/login" not in route.path)


@pytest.mark.parametrize("prefix", ["/citizen", "/enterprise"])
def test_anonymous_visitors_are_sent_to_the_sign_in_page(live_server: LiveServer,
                                                         prefix: str) -> None:
    paths = page_paths(prefix)
    assert paths
    with client_as(live_server, None) as client:
        for path in paths:
            url = path.replace("{grant_id}", "1").replace("{cert_id}", "x")
            answer = client.get(url)
            assert answer.status_code == 303, url
            assert answer.headers["location"].startswith(f"{prefix}/login?next=")


def test_the_wrong_kind_of_principal_gets_the_error_page(live_server: LiveServer,
                                                         web_city: WebCity) -> None:
    uscc, _ = people.enterprise_awaiting_confirmation(web_city.engine)
    with client_as(live_server, enterprise(uscc)) as client:
        answer = client.get("/citizen")
    assert answer.status_code == 403
    assert "text/html" in answer.headers["content-type"] and "请以个人身份登录" in answer.text


def test_sign_in_returns_only_to_a_page_of_the_same_portal() -> None:
    assert safe_next(CITIZEN, "/citizen/payments") == "/citizen/payments"
    for hostile in ("https://evil.example/", "//evil.example/citizen", "/enterprise",
                    "/citizen/../enterprise", "/citizen/login", "/citizen\\evil"):
        assert safe_next(CITIZEN, hostile) in ("/citizen", hostile) and \
            not safe_next(CITIZEN, hostile).startswith(("//", "http", "/enterprise"))


def test_logout_ends_the_session(live_server: LiveServer, web_city: WebCity) -> None:
    me = people.citizen_with_certificate(web_city.engine, web_city.city_dir)
    with client_as(live_server, citizen(me.subject_key)) as client:
        assert client.get("/citizen").status_code == 200
        csrf = client.headers["X-CSRF-Token"]
        answer = client.post("/citizen/logout", data={"csrf_token": csrf},
                             headers={"X-CSRF-Token": ""})
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        assert client.get("/citizen").status_code == 303


def test_a_form_post_without_its_csrf_token_is_refused(live_server: LiveServer,
                                                        web_city: WebCity) -> None:
    me = people.citizen_with_certificate(web_city.engine, web_city.city_dir)
    with client_as(live_server, citizen(me.subject_key)) as client:
        answer = client.post("/citizen/privacy/refuse-automation",
                             headers={"X-CSRF-Token": ""}, data={})
    assert answer.status_code == 403
    assert "页面已过期" in answer.text
    with httpx.Client(base_url=live_server.base_url) as anonymous:
        assert anonymous.get("/citizen/login").status_code == 200


STAFF_PATH_VALUES = {"{reference}": "1", "{version_id}": "1", "{decision_id}": "1",
                     "{fmt}": "csv", "{review_id}": "1"}


@pytest.mark.parametrize("prefix", ["/officer", "/auditor"])
def test_anonymous_visitors_of_a_console_are_sent_to_the_staff_sign_in(
        live_server: LiveServer, prefix: str) -> None:
    paths = page_paths(prefix)
    assert paths
    with client_as(live_server, None) as client:
        for path in paths:
            url = path
            for name, value in STAFF_PATH_VALUES.items():
                url = url.replace(name, value)
            answer = client.get(url)
            assert answer.status_code == 303, url
            assert answer.headers["location"].startswith("/staff/login?next=")


def test_a_citizen_cannot_open_the_consoles(live_server: LiveServer, web_city: WebCity) -> None:
    me = people.citizen_with_certificate(web_city.engine, web_city.city_dir)
    with client_as(live_server, citizen(me.subject_key)) as client:
        for path in ("/officer", "/officer/approvals", "/auditor", "/auditor/export.json"):
            answer = client.get(path)
            assert answer.status_code == 403, path
            assert "您没有权限执行此操作" in answer.text
