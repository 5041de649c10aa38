"""The officers' city dashboard (城市概览: grants today, cost this month, SMS delivered, data
freshness by department) and the SMS delivery statistics per batch (短信送达统计)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from app.auth.deps import UNIT_OF_WORK, require_staff
from app.auth.principal import Principal
from app.console import figures
from app.console.rendering import console_page
from app.web.nav import NavItem, register
from notifications import service as notifications
from notifications.schemas import STATUS_LABELS_ZH

router = APIRouter(prefix="/officer", include_in_schema=False)
any_staff = require_staff()

register("officer", NavItem("城市概览", "/officer/dashboard"),
         NavItem("短信送达", "/officer/delivery"))


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, session: Session = UNIT_OF_WORK,
              _who: Principal = Depends(any_staff)) -> HTMLResponse:
    today = date.today()
    period = f"{today.year:04d}-{today.month:02d}"
    return console_page(
        request, "officer", "dashboard.html", "城市概览", today=today, period=period,
        grants_today=figures.grants_created_on(session, today),
        cost_this_month=figures.payments_cost(session, period),
        sms=notifications.delivery_stats(session), freshness=figures.freshness(session))


@router.get("/delivery", response_class=HTMLResponse)
def delivery(request: Request, session: Session = UNIT_OF_WORK,
             _who: Principal = Depends(any_staff)) -> HTMLResponse:
    return console_page(request, "officer", "delivery.html", "短信送达统计",
                        total=notifications.delivery_stats(session),
                        batches=notifications.batch_stats(session), labels=STATUS_LABELS_ZH)
