"""The enterprise portal's logic: every bundled enterprise policy evaluated for the signed-in
enterprise with the same compiled conditions the sweep uses, sorted into matched (eligible, or
already granted), near misses (in force, at most ``NEAR_MISS_FAILING`` conditions failing) and
the rest; confirmation and objection on its own grants only."""

from __future__ import annotations

from sqlmodel import Session

from app.auth.principal import Principal
from app.enterprise import repository
from app.enterprise.schemas import EnterpriseOverview, EnterpriseProfile, PolicyMatch
from app.errors import NotFound
from app.portal import actions
from app.portal import benefits as portal_benefits
from app.portal import repository as grants_repo
from app.portal.benefits import benefit_view
from app.portal.explanations import data_date, evaluate
from app.portal.policies import of_kind
from app.portal.schemas import BankAccountRequest, BenefitDetail, BenefitView, ObjectionView
from eligibility.grants.models import Grant

NEAR_MISS_FAILING = 2
NOT_YOURS = "未找到该记录"


def own_key(principal: Principal) -> str:
    assert principal.subject_key is not None  # require_enterprise guarantees it
    return principal.subject_key


def profile(session: Session, principal: Principal) -> EnterpriseProfile:
    row = repository.enterprise(session, own_key(principal))
    if row is None:
        raise NotFound("no enterprise record for this principal", "未找到本企业的登记信息")
    return EnterpriseProfile(uscc=row.uscc, name=row.name, kind=row.kind,
                             size_class=row.size_class, region_code=row.region_code)


def overview(session: Session, principal: Principal) -> EnterpriseOverview:
    key = own_key(principal)
    as_of = data_date(session)
    latest: dict[str, Grant] = {}
    for grant in grants_repo.grants_of(session, [key]):
        latest.setdefault(grant.policy_id, grant)  # newest first
    matched, near, rest = [], [], []
    for policy in of_kind("enterprise"):
        e = evaluate(session, policy, key, as_of)
        found = latest.get(policy.document.id)
        passed = sum(1 for c in e.conditions if c.passed)
        match = PolicyMatch(
            policy_id=policy.document.id, title=e.title, eligible=e.eligible, summary=e.summary,
            amount_fen=found.amount_fen if found and found.is_open else e.amount_fen,
            conditions_passed=passed, conditions_total=len(e.conditions),
            failing=list(dict.fromkeys(e.failing)),
            benefit=benefit_view(found) if found else None,
        )
        if e.eligible or (found is not None and found.is_open):
            matched.append(match)
        elif e.in_force and len(e.conditions) - passed <= NEAR_MISS_FAILING:
            near.append(match)
        else:
            rest.append(match)
    return EnterpriseOverview(profile=profile(session, principal), as_of=as_of.isoformat(),
                              matched=matched, near_misses=near, not_matched=rest)


def grant(session: Session, principal: Principal, grant_id: int) -> Grant:
    found = grants_repo.grant_of(session, [own_key(principal)], grant_id)
    if found is None:
        raise NotFound(f"grant {grant_id} not found for this enterprise", NOT_YOURS)
    return found


def benefit_detail(session: Session, principal: Principal, grant_id: int) -> BenefitDetail:
    return portal_benefits.benefit_detail(session, grant(session, principal, grant_id))


def confirm(session: Session, principal: Principal, grant_id: int, accept: bool,
            account: BankAccountRequest | None) -> BenefitView:
    updated = actions.confirm(session, grant(session, principal, grant_id), accept,
                              data_date(session), f"enterprise:{principal.id}", account)
    return benefit_view(updated)


def object_to(session: Session, principal: Principal, grant_id: int, text: str) -> ObjectionView:
    return actions.object_to(session, grant(session, principal, grant_id), text,
                             data_date(session), f"enterprise:{principal.id}")
