"""The declared access rule of every HTTP route: ``tests/test_access_control.py`` fails for a
route missing here (and for an entry whose route is gone), then checks each rule over HTTP.

Pages (``include_in_schema=False``, outside ``/api/``) answer a browser, not an API client: an
anonymous visitor is redirected to the sign-in page; ``tests/web/test_page_access.py`` covers
them. To add a route: add one line to ``ACCESS`` — ``(METHOD, path as FastAPI declares it): rule``.
A citizen-, enterprise- or holder-owned route also needs an ownership case (a function decorated
``@owned(METHOD, path)`` in ``tests/test_access_control.py``) proving user A cannot reach
user B's records. ``PATH_VALUES`` gives a placeholder for each path parameter.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Public:
    """Anyone, signed in or not."""

    why: str = ""


@dataclass(frozen=True)
class OwnCredential:
    """The route checks a credential of its own (anonymous → 403), not a sign-in."""

    what: str


@dataclass(frozen=True)
class SignedIn:
    """Any signed-in principal, whatever its kind."""


@dataclass(frozen=True)
class Staff:
    """Staff with any of ``roles`` (any staff role when empty)."""

    roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CitizenOwned:
    """A citizen session, on the citizen's own records only."""


@dataclass(frozen=True)
class EnterpriseOwned:
    """An enterprise session, on the enterprise's own records only."""


@dataclass(frozen=True)
class HolderOrStaff:
    """The record's own citizen or enterprise, or any staff."""


@dataclass(frozen=True)
class Scope:
    """A department system whose API key carries ``scope``."""

    scope: str


Rule = Public | OwnCredential | SignedIn | Staff | CitizenOwned | EnterpriseOwned | \
    HolderOrStaff | Scope
OWNED_RULES = (CitizenOwned, EnterpriseOwned, HolderOrStaff)


def staff(*roles: str) -> Staff:
    return Staff(frozenset(roles))


ACCESS: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/health"): Public("liveness"),
    # sign-in (app/auth/api.py)
    ("POST", "/api/v1/auth/login"): Public("staff sign-in"),
    ("POST", "/api/v1/auth/citizen/code"): Public("citizen sign-in"),
    ("POST", "/api/v1/auth/citizen/login"): Public("citizen sign-in"),
    ("POST", "/api/v1/auth/enterprise/code"): Public("enterprise sign-in"),
    ("POST", "/api/v1/auth/enterprise/login"): Public("enterprise sign-in"),
    ("POST", "/api/v1/auth/logout"): SignedIn(),
    ("GET", "/api/v1/auth/me"): SignedIn(),
    # notifications (notifications/api.py)
    ("POST", "/api/v1/notifications/receipts/{provider}"): OwnCredential("SMS callback token"),
    ("GET", "/api/v1/notifications/stats"): staff("officer", "auditor", "admin"),
    ("GET", "/api/v1/notifications/batches"): staff("officer", "auditor", "admin"),
    ("GET", "/api/v1/notifications"): staff("officer", "auditor", "admin"),
    ("GET", "/api/v1/notifications/{notification_id}"): staff("officer", "auditor", "admin"),
    ("GET", "/api/v1/notifications/mine"): CitizenOwned(),
    ("POST", "/api/v1/notifications/mine/opt-out"): CitizenOwned(),
    # e-certificates (certs/api.py)
    ("GET", "/api/v1/certs/issuers"): Public("published issuer keys"),
    ("GET", "/api/v1/certs/status/{issuer}"): Public("signed status lists"),
    ("POST", "/api/v1/certs/verify"): Public("a signed token; by id: see tests/test_certs_api.py"),
    ("GET", "/api/v1/certs/{cert_id}"): HolderOrStaff(),
    ("GET", "/api/v1/certs/{cert_id}/qr"): HolderOrStaff(),
    ("GET", "/api/v1/certs/{cert_id}/page"): HolderOrStaff(),
    # verification service (certs/verify/api.py)
    ("POST", "/api/v1/verify/person"): Scope("verify:person"),
    ("POST", "/api/v1/verify/enterprise"): Scope("verify:enterprise"),
    ("POST", "/api/v1/verify/status"): Scope("verify:status"),
    ("POST", "/api/v1/verify/calls/search"): staff("auditor"),
    # grants, decisions, reviews (eligibility/grants/api.py)
    ("GET", "/api/v1/grants"): staff(),
    ("GET", "/api/v1/grants/{grant_id}"): staff(),
    ("GET", "/api/v1/decisions"): staff("auditor", "officer", "reviewer", "approver"),
    ("GET", "/api/v1/decisions/{decision_id}"): staff("auditor", "officer", "reviewer",
                                                      "approver"),
    ("GET", "/api/v1/reviews"): staff("reviewer", "officer"),
    ("POST", "/api/v1/reviews/{review_id}/decision"): staff("reviewer", "officer"),
    # payments (eligibility/payments/api.py)
    ("GET", "/api/v1/payments"): staff(),
    ("GET", "/api/v1/payments/batches"): staff(),
    ("GET", "/api/v1/payments/batches/{period}"): staff(),
    # audit log (app/audit/api.py)
    ("GET", "/api/v1/audit/tree-heads/latest"): Public("signed tree heads"),
    ("GET", "/api/v1/audit/tree-heads"): Public("signed tree heads"),
    ("GET", "/api/v1/audit/entries/{reference}/proof"): staff("auditor"),
    ("GET", "/api/v1/audit/consistency"): staff("auditor"),
    # life events pushed by departments (eligibility/events/api.py)
    ("POST", "/api/v1/events"): Scope("events:push"),
    # data records pushed by departments (app/datahub/api.py)
    ("POST", "/api/v1/data/{dataset}/batches"): Scope("data:push"),
    ("GET", "/api/v1/data/{dataset}/batches/{batch_id}"): Scope("data:push"),
    ("GET", "/api/v1/audit/decisions/{decision_id}/replay"): staff("auditor"),
    # the policy lifecycle (eligibility/registry/api.py)
    ("GET", "/api/v1/policies"): staff(),
    ("GET", "/api/v1/policies/{policy_id}/versions"): staff(),
    ("GET", "/api/v1/policies/versions/{reference}"): staff(),
    ("POST", "/api/v1/policies/versions"): staff("officer"),
    ("POST", "/api/v1/policies/versions/{reference}/validate"): staff("officer"),
    ("POST", "/api/v1/policies/versions/{reference}/test"): staff("officer"),
    ("POST", "/api/v1/policies/versions/{reference}/preview"): staff("officer"),
    ("POST", "/api/v1/policies/versions/{reference}/submit"): staff("officer"),
    ("POST", "/api/v1/policies/versions/{reference}/approve"): staff("approver"),
    ("POST", "/api/v1/policies/versions/{reference}/retire"): staff("approver"),
    # personal data rights and the access log (app/personal_data/api.py)
    ("GET", "/api/v1/me/access-log"): CitizenOwned(),
    ("GET", "/api/v1/me/export"): CitizenOwned(),
    ("POST", "/api/v1/me/refuse-automation"): CitizenOwned(),
    ("GET", "/api/v1/privacy/access"): staff("auditor"),
    # citizen portal API (app/citizen/api.py, app/portal/api.py)
    ("GET", "/api/v1/me/profile"): CitizenOwned(),
    ("GET", "/api/v1/me/benefits"): CitizenOwned(),
    ("GET", "/api/v1/me/benefits/{grant_id}"): CitizenOwned(),
    ("POST", "/api/v1/me/benefits/{grant_id}/objection"): CitizenOwned(),
    ("POST", "/api/v1/me/benefits/{grant_id}/confirmation"): CitizenOwned(),
    ("GET", "/api/v1/me/payments"): CitizenOwned(),
    ("GET", "/api/v1/me/certificates"): CitizenOwned(),
    ("GET", "/api/v1/me/certificates/{cert_id}/qr"): CitizenOwned(),
    ("GET", "/api/v1/me/messages"): CitizenOwned(),
    ("GET", "/api/v1/me/automation-refusal"): CitizenOwned(),
    # enterprise portal API (app/enterprise/api.py, app/portal/api.py)
    ("GET", "/api/v1/enterprise/me/policies"): EnterpriseOwned(),
    ("GET", "/api/v1/enterprise/me/benefits/{grant_id}"): EnterpriseOwned(),
    ("POST", "/api/v1/enterprise/me/benefits/{grant_id}/objection"): EnterpriseOwned(),
    ("POST", "/api/v1/enterprise/me/benefits/{grant_id}/confirmation"): EnterpriseOwned(),
    # staff explanations (app/console/api.py)
    ("GET", "/api/v1/decisions/{decision_id}/explanation"): staff("auditor", "officer",
                                                                 "reviewer", "approver"),
}

PATH_VALUES = {
    "provider": "generic",
    "issuer": "unknown",
    "cert_id": "1.2.156.3005.2.X",
    "period": "2026-11",
    "reference": "1",
    "dataset": "social_assistance",
    "batch_id": "b-1",
}
QUERY_VALUES = {
    "/api/v1/audit/consistency": {"old_size": "1", "new_size": "1"},
    "/api/v1/policies/versions/{reference}/preview": {"as_of": "2026-11-01"},
}
