"""schemathesis against the OpenAPI spec of the whole API, over real HTTP to the live server on
the seeded city: generated input never gets a 500. Examples per operation are few so the run
stays bounded; every operation is still exercised (anonymous, so mostly authorisation and
validation paths, plus every public route's handler)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from app.main import create_app
from tests.web import people
from tests.web.conftest import LiveServer, WebCity
from tests.web.signin import citizen, enterprise, signed_in_request

schema = schemathesis.openapi.from_dict(create_app().openapi())


@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_generated_requests_never_get_a_server_error(case: schemathesis.Case,
                                                     live_server: LiveServer) -> None:
    response = case.call(base_url=live_server.base_url, timeout=30)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} → {response.status_code}: {response.text[:300]}"
    )


signed_in_schema = schema.include(path_regex=r"^/api/v1/(me|enterprise/me)/")


@signed_in_schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_portal_endpoints_signed_in_never_get_a_server_error(
    case: schemathesis.Case, live_server: LiveServer, web_city: WebCity
) -> None:
    """The portal APIs again as a signed-in citizen or enterprise, so generated ids, bodies and
    forms reach the handlers themselves, not only the sign-in check."""
    if case.path.startswith("/api/v1/me/"):
        me = people.citizen_with_certificate(web_city.engine, web_city.city_dir, 5)
        principal = citizen(me.subject_key)
    else:
        principal = enterprise(people.enterprise_awaiting_confirmation(web_city.engine)[0])
    response = case.call(base_url=live_server.base_url, timeout=30,
                         **signed_in_request(live_server, principal))
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} → {response.status_code}: {response.text[:300]}"
    )
