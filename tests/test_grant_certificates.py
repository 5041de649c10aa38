"""Granted e-certificate benefits become signed certificates in the sweep's transaction, once;
a death revokes them at once and the revocation shows in verification."""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.datahub.models import Person
from app.db import engine_for
from app.privacy import keyring
from certs import grant_hooks
from certs.models import Certificate
from certs.service import token_of, verify_online
from eligibility.grants.hooks import Death, Hook, fire
from eligibility.sweeps.service import run_sweep
from tests.conftest import truncate_all
from tests.support import data


def _certificates(engine: Engine, subject_key: str) -> list[Certificate]:
    with Session(engine) as session:
        query = select(Certificate).where(col(Certificate.subject_key) == subject_key)
        return list(session.exec(query))


def test_a_granted_elderly_card_is_issued_once_and_revoked_on_death(engine: Engine) -> None:
    grant_hooks.install()
    chen = data.add_person(engine, 61, date(1963, 3, 1))  # 62: elderly card, no bus card
    with Session(engine) as session:
        person = session.exec(select(Person).where(col(Person.subject_key) == chen)).one()
        person.pii = keyring().encrypt_json({"name": "陈大文"})
        session.add(person)
        session.commit()

    run_sweep(date(2025, 11, 22), full=True, engine=engine)
    run_sweep(date(2025, 11, 22), full=True, engine=engine)

    [card] = _certificates(engine, chen)
    assert card.cert_type == "elderly_card" and card.holder_masked == "陈**"
    with Session(engine) as session:
        assert verify_online(session, token=token_of(card)).outcome == "ok"
        fire(session, Hook.SUBJECT_DIED, [Death(chen, date(2025, 11, 23), None)])
        session.commit()
    with Session(engine) as session:
        assert verify_online(session, token=token_of(card)).outcome == "revoked"


def test_holder_names_of_more_subjects_than_one_statement_may_bind(pg_url: str) -> None:
    """A full sweep of a large city grants cards to hundreds of thousands at once: PostgreSQL
    refuses a statement with more than 65,535 bind parameters, so the names are read in chunks."""
    engine = engine_for(pg_url)
    try:
        held = data.add_person(engine, 71, date(1950, 1, 1))
        with Session(engine) as session:
            person = session.exec(select(Person).where(col(Person.subject_key) == held)).one()
            person.pii = keyring().encrypt_json({"name": "李四"})
            session.add(person)
            session.commit()
        wanted = {f"absent-{n:06d}" for n in range(70_000)} | {held}
        with Session(engine) as session:
            names = grant_hooks._holder_names(session, wanted)
        assert names == {held: "李四"}
    finally:
        truncate_all(engine)
