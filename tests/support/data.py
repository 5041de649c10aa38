"""Rows of the shared data written straight into the real database for pipeline tests (the
import path is tested elsewhere). Subject keys are opaque 32-hex strings as in production."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.datahub.models import DeathRecord, Enterprise, HukouMove, LegacyPayment, Person

AS_OF = date(2025, 11, 1)


def key(number: int) -> str:
    return f"{number:032x}"


def _now() -> datetime:
    return datetime.now(UTC)


def _common(dept: str) -> dict[str, object]:
    return {"source_dept": dept, "as_of": AS_OF, "row_hash": "0" * 32, "updated_at": _now()}


def add_person(
    engine: Engine, number: int, birth: date, region: str = "440604", status: str = "active",
    mobile: bool = True, subject_key: str | None = None,
) -> str:
    with Session(engine) as session:
        session.add(Person(
            subject_key=subject_key or key(number), sex="M", birth_date=birth, region_code=region,
            mobile_index=f"m{number:031x}" if mobile else None, status=status,
            **_common("public_security"),  # type: ignore[arg-type]
        ))
        session.commit()
    return subject_key or key(number)


def id_number(birth: date, sequence: int, region: str = "440600") -> str:
    """A valid resident ID number (GB 11643 check digit; 440600 Foshan existed at any birth
    date, python-stdnum checks the region against the birth date)."""
    from stdnum.cn import ric

    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")  # the argument includes a check slot


def update_person(engine: Engine, number: int, **values: object) -> None:
    with Session(engine) as session:
        row = session.exec(select(Person).where(col(Person.subject_key) == key(number))).one()
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = _now()
        session.add(row)
        session.commit()


def add_death(engine: Engine, number: int, died: date, source: str = "hospital") -> None:
    with Session(engine) as session:
        session.add(DeathRecord(
            subject_key=key(number), date_of_death=died, source_kind=source,
            **_common("health"),  # type: ignore[arg-type]
        ))
        session.commit()


def add_move_out(engine: Engine, number: int, moved: date) -> None:
    with Session(engine) as session:
        session.add(HukouMove(
            move_no=f"MV{number}", subject_key=key(number), direction="out", move_date=moved,
            from_region="440604", to_region="110101", **_common("public_security"),  # type: ignore[arg-type]
        ))
        session.commit()


def add_legacy_payment(engine: Engine, number: int, period: str, amount: int, code: str) -> None:
    with Session(engine) as session:
        session.add(LegacyPayment(
            payment_ref=f"LEG-{number}-{period}", subject_key=key(number), benefit_code=code,
            period=period, amount_fen=amount, **_common("civil_affairs"),  # type: ignore[arg-type]
        ))
        session.commit()


def uscc(number: int) -> str:
    """A valid unified social credit code (GB 32100 check character)."""
    from stdnum.cn import uscc as gb32100

    body = f"91440604{number:09d}"
    return body + gb32100.calc_check_digit(body + "0")


def add_enterprise(
    engine: Engine, number: int, size: str = "small", status: str = "active",
    region: str = "440604",
) -> str:
    with Session(engine) as session:
        session.add(Enterprise(
            uscc=uscc(number), name=f"测试企业{number}", kind="enterprise", industry_code="C13",
            size_class=size, region_code=region, registration_date=date(2015, 3, 1),
            status=status, legal_rep_key=key(900_000 + number),
            **_common("market_regulation"),  # type: ignore[arg-type]
        ))
        session.commit()
    return uscc(number)


def update_enterprise(engine: Engine, number: int, **values: object) -> None:
    with Session(engine) as session:
        row = session.exec(select(Enterprise).where(col(Enterprise.uscc) == uscc(number))).one()
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = _now()
        session.add(row)
        session.commit()
