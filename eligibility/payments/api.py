"""HTTP routes of the payments ledger for staff (under ``/api/v1/payments``): ledger rows by
grant, period, status or subject, and the payment batch of each period."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlmodel import Session

from app.auth.deps import UNIT_OF_WORK, require_staff
from app.auth.principal import Principal
from app.errors import NotFound
from app.pagination import Page, PageParams, page_of, page_params
from app.privacy import subject_key_of
from eligibility.payments import repository as repo
from eligibility.payments.schemas import BatchView, PaymentView

router = APIRouter(prefix="/payments", tags=["payments"])
any_staff = require_staff()
PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"


@router.get("", response_model=Page[PaymentView])
def list_payments(
    grant_id: int | None = None,
    period: str | None = Query(None, pattern=PERIOD),
    status: str | None = Query(None, max_length=12),
    subject: str | None = Query(None, max_length=40, description="ID number, USCC or key."),
    page: PageParams = Depends(page_params),
    session: Session = UNIT_OF_WORK,
    _staff: Principal = Depends(any_staff),
) -> Page[PaymentView]:
    rows = repo.payments_page(
        session, after_id=page.after_id, limit=page.limit + 1, grant_id=grant_id, period=period,
        status=status, subject_key=subject_key_of(subject) if subject else None,
    )
    return page_of(rows, page, PaymentView.of, lambda p: p.id)


@router.get("/batches", response_model=list[BatchView])
def list_batches(session: Session = UNIT_OF_WORK,
                 _staff: Principal = Depends(any_staff)) -> list[BatchView]:
    return [BatchView.of(b) for b in repo.batches(session)]


@router.get("/batches/{period}", response_model=BatchView)
def show_batch(period: str, session: Session = UNIT_OF_WORK,
               _staff: Principal = Depends(any_staff)) -> BatchView:
    batch = repo.get_batch(session, period)
    if batch is None:
        raise NotFound(f"no payment batch for {period}", "该期间尚无支付批次")
    return BatchView.of(batch)
