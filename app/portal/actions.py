"""What a beneficiary does to one of their grants: object to it, or confirm it (intent or bank
account) where the policy asks. The caller has already checked ownership; these functions flush,
the request owns the transaction.

An objection during a public notice goes through ``eligibility.grants.review.file_objection``
(the notice window pauses until an officer resolves it). An objection at any other time is
recorded as an open ``objection`` row without a state change, for an officer to review (PIPL
art. 24: explanation and a human decision on request); a second one while the first is open is
refused, so a double submit cannot file twice.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from app.errors import Conflict, ValidationFailed
from app.portal import repository
from app.portal.labels import OBJECTION_STATUSES_ZH
from app.portal.models import PayeeAccount
from app.portal.policies import confirmation_of
from app.portal.schemas import BankAccountRequest, ObjectionView
from app.privacy import keyring
from eligibility.grants import review
from eligibility.grants.bulk import utcnow
from eligibility.grants.context import SweepContext
from eligibility.grants.lifecycle import GrantState
from eligibility.grants.models import Grant, Objection


def objection_view(objection: Objection, pauses_notice: bool) -> ObjectionView:
    return ObjectionView(
        id=objection.id or 0, grant_id=objection.grant_id, filed_on=objection.filed_on,
        status=objection.status, status_zh=OBJECTION_STATUSES_ZH.get(objection.status, ""),
        pauses_notice=pauses_notice,
    )


def lock(session: Session, grant: Grant) -> Grant:
    """Lock the grant's row for this transaction, so that two requests acting on the same grant
    at once (a double click, two devices) are serialised and the second sees the first's work."""
    locked = session.get(Grant, grant.id, with_for_update=True, populate_existing=True)
    assert locked is not None
    return locked


def object_to(session: Session, grant: Grant, text: str, today: date, actor: str
              ) -> ObjectionView:
    text = text.strip()
    if len(text) < 5:
        raise ValidationFailed("objection text too short", "请填写至少 5 个字的异议理由")
    grant = lock(session, grant)
    if repository.open_objection(session, grant.id or 0) is not None:
        raise Conflict("an objection is already open", "您已对该事项提出异议,正在处理中")
    if grant.state == GrantState.PUBLIC_NOTICE.value:
        ctx = SweepContext(session=session, backend_or_none=None, as_of=today, actor=actor)
        return objection_view(review.file_objection(ctx, grant.id or 0, text), True)
    if grant.state in (GrantState.OBJECTION_PENDING.value, GrantState.WITHDRAWN.value):
        raise Conflict(f"grant is {grant.state}", "该待遇当前状态不能提出异议")
    objection = Objection(
        grant_id=grant.id or 0, filed_on=today, filed_at=utcnow(),
        text_enc=keyring().encrypt_json({"text": text}), status="open",
    )
    session.add(objection)
    session.flush()
    return objection_view(objection, False)


def mask_account(number: str) -> str:
    return "**** **** " + number[-4:]


def confirm(
    session: Session, grant: Grant, accepted: bool, today: date, actor: str,
    account: BankAccountRequest | None = None,
) -> Grant:
    """Accept (with the bank account where the policy asks) or decline a matched benefit."""
    needs_account = confirmation_of(grant.policy_id) == "bank_account"
    grant = lock(session, grant)
    if grant.state != GrantState.AWAITING_CONFIRMATION.value:
        raise Conflict(f"grant is {grant.state}", "该待遇当前无需确认")
    if accepted and needs_account:
        if account is None:
            raise ValidationFailed("bank account required", "请填写收款银行账户")
        session.add(PayeeAccount(
            grant_id=grant.id or 0, subject_key=grant.subject_key, bank_name=account.bank_name,
            account_masked=mask_account(account.account_number),
            pii=keyring().encrypt_json({"holder": account.holder,
                                        "account_number": account.account_number}),
            confirmed_at=utcnow(), confirmed_by=actor,
        ))
    ctx = SweepContext(session=session, backend_or_none=None, as_of=today, actor=actor)
    return review.confirm(ctx, grant.id or 0, accepted)
