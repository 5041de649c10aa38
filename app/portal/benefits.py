"""The benefit view of a grant: its policy's title, state and period in Chinese, and which
actions the holder may take now (object during a public notice or while it stands, confirm
where the policy asks)."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from sqlmodel import Session

from app.portal import repository
from app.portal.actions import objection_view
from app.portal.explanations import explain_decision
from app.portal.labels import PERIODS_ZH, grant_state_zh
from app.portal.policies import confirmation_of, title_of
from app.portal.schemas import BenefitDetail, BenefitView, PayeeAccountView
from eligibility.grants.lifecycle import GrantState
from eligibility.grants.models import Grant

# A holder may object to any outcome, an ending or a rejection included, except while an
# objection of theirs is pending or after they withdrew.
OBJECTABLE = frozenset(
    s.value for s in GrantState if s not in (GrantState.OBJECTION_PENDING, GrantState.WITHDRAWN)
)


class GrantFields(Protocol):
    """What a benefit view reads of a grant: a ``Grant`` or a row of its columns."""

    id: int | None
    policy_id: str
    state: str
    amount_fen: int | None
    period_kind: str
    tier: str | None
    start_date: date
    end_date: date | None
    notice_ends_on: date | None


def benefit_view(grant: GrantFields, *, for_child: bool = False,
                 has_open_objection: bool = False) -> BenefitView:
    """Built without validation (``model_construct``): every value comes from a stored grant."""
    return BenefitView.model_construct(
        grant_id=grant.id or 0, policy_id=grant.policy_id, title=title_of(grant.policy_id),
        state=grant.state, state_zh=grant_state_zh(grant.state), amount_fen=grant.amount_fen,
        period_kind=grant.period_kind, period_zh=PERIODS_ZH.get(grant.period_kind, ""),
        tier=grant.tier, start_date=grant.start_date, end_date=grant.end_date,
        notice_ends_on=grant.notice_ends_on, for_child=for_child,
        can_object=grant.state in OBJECTABLE and not has_open_objection,
        can_confirm=grant.state == GrantState.AWAITING_CONFIRMATION.value,
        confirmation=confirmation_of(grant.policy_id),
    )


def benefit_detail(session: Session, grant: Grant, *, for_child: bool = False) -> BenefitDetail:
    """A grant with the explanation of its decision, its objections and confirmed account."""
    objections = repository.objections_of(session, [grant.id or 0])
    account = repository.payee_account(session, grant.id or 0)
    return BenefitDetail(
        benefit=benefit_view(grant, for_child=for_child,
                             has_open_objection=any(o.status == "open" for o in objections)),
        explanation=explain_decision(session, grant.policy_id, grant.subject_key,
                                     repository.decision(session, grant.decision_id)),
        objections=[objection_view(o, False) for o in objections],
        payee_account=PayeeAccountView.model_validate(account, from_attributes=True)
        if account else None,
    )
