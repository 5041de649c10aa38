"""The citizen portal's logic. Every lookup starts from the signed-in citizen's own keys (their
person key and the birth certificates of their children) so one citizen can never reach another's
grant, payment, certificate or message, whatever id they send. Functions flush; the request
owns the transaction."""

from __future__ import annotations

from pydantic import TypeAdapter
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.auth.deps import PendingSession
from app.auth.principal import Principal
from app.citizen import repository
from app.citizen.schemas import PaymentView, ProfileView, RefusalView
from app.db import read_connection
from app.errors import NotFound
from app.portal import actions
from app.portal import benefits as portal_benefits
from app.portal import repository as grants_repo
from app.portal.benefits import benefit_view
from app.portal.explanations import data_date
from app.portal.labels import payment_status_zh
from app.portal.policies import title_of
from app.portal.schemas import BankAccountRequest, BenefitDetail, BenefitView, ObjectionView
from app.privacy import keyring, mask_id_number, mask_mobile, mask_name
from certs import repository as certs_repo
from certs.models import Certificate
from eligibility.grants import review
from eligibility.grants.models import Grant
from notifications.schemas import CitizenMessage
from notifications.service import citizen_messages

NOT_YOURS = "未找到该记录"


def own_key(principal: Principal) -> str:
    assert principal.subject_key is not None  # require_citizen guarantees it
    return principal.subject_key


def keys_of(session: Session, principal: Principal) -> list[str]:
    own = own_key(principal)
    return [own, *repository.children_certificates(session, own)]


def profile(session: Session, principal: Principal) -> ProfileView:
    person = repository.person(session, own_key(principal))
    if person is None:
        raise NotFound("no person record for this citizen", "未找到您的户籍信息")
    values = keyring().decrypt_json(person.pii) if person.pii else {}
    return ProfileView(
        name=mask_name(values.get("name", "")),
        id_number=mask_id_number(values.get("id_number", "")),
        mobile=mask_mobile(values.get("mobile", "") or ""),
        region_code=person.region_code,
        automation_refused=repository.refusal(session, own_key(principal)) is not None,
    )


def benefits(session: Session | Connection, principal: Principal) -> list[BenefitView]:
    own = own_key(principal)
    return [benefit_view(row, for_child=row.subject_key != own, has_open_objection=row.objected)
            for row in repository.my_grants(session, own)]


BENEFITS_JSON = TypeAdapter(list[BenefitView])


def benefits_json(engine: Engine, who: Principal | PendingSession) -> bytes:
    """:func:`benefits` as the JSON body, read on an autocommit connection of its own (no unit
    of work: nothing is written; a session not cached is looked up on the same connection) and
    serialised once by pydantic-core."""
    with read_connection(engine) as connection:
        principal = who.resolve(connection) if isinstance(who, PendingSession) else who
        return BENEFITS_JSON.dump_json(benefits(connection, principal))


def grant(session: Session, principal: Principal, grant_id: int) -> Grant:
    found = grants_repo.grant_of(session, keys_of(session, principal), grant_id)
    if found is None:
        raise NotFound(f"grant {grant_id} not found for this citizen", NOT_YOURS)
    return found


def benefit_detail(session: Session, principal: Principal, grant_id: int) -> BenefitDetail:
    found = grant(session, principal, grant_id)
    return portal_benefits.benefit_detail(
        session, found, for_child=found.subject_key != own_key(principal))


def payments(session: Session, principal: Principal) -> list[PaymentView]:
    return [
        PaymentView(grant_id=p.grant_id, title=title_of(p.policy_id), period=p.period,
                    amount_fen=p.amount_fen, status=p.status,
                    status_zh=payment_status_zh(p.status), back_pay=p.back_pay)
        for p in repository.payments_of(session, keys_of(session, principal))
    ]


def certificates(session: Session, principal: Principal) -> list[Certificate]:
    return list(certs_repo.of_subject(session, own_key(principal)))


def certificate(session: Session, principal: Principal, cert_id: str) -> Certificate:
    cert = certs_repo.get_certificate(session, cert_id)
    if cert is None or cert.subject_key != own_key(principal):
        raise NotFound(f"certificate {cert_id} not found for this citizen", NOT_YOURS)
    return cert


def messages(session: Session, principal: Principal) -> list[CitizenMessage]:
    return citizen_messages(session, own_key(principal))


def object_to(session: Session, principal: Principal, grant_id: int, text: str) -> ObjectionView:
    return actions.object_to(session, grant(session, principal, grant_id), text,
                             data_date(session), f"citizen:{principal.id}")


def confirm(session: Session, principal: Principal, grant_id: int, accept: bool,
            account: BankAccountRequest | None) -> BenefitView:
    updated = actions.confirm(session, grant(session, principal, grant_id), accept,
                              data_date(session), f"citizen:{principal.id}", account)
    return benefit_view(updated, for_child=updated.subject_key != own_key(principal))


def refusal(session: Session, principal: Principal) -> RefusalView:
    row = repository.refusal(session, own_key(principal))
    return RefusalView(refused=row is not None, refused_at=row.refused_at if row else None)


def refuse_automation(session: Session, principal: Principal) -> RefusalView:
    try:
        with session.begin_nested():
            review.refuse_automation(session, own_key(principal))
    except IntegrityError:
        pass  # refused at the same moment by another request: the same outcome
    return refusal(session, principal)
