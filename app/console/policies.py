"""Officer console pages for policies (政策专员): the policy list, the YAML editor (validation
issues shown at line and column; nothing is stored until the text validates), a version's page
with its test cases, its impact preview (charts by region and tier, change against the version
in force) and the submit button. Writes go through ``eligibility.registry.service``."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from app.auth.deps import UNIT_OF_WORK, require_staff
from app.auth.principal import Principal
from app.console import charts
from app.console.rendering import console_page
from app.errors import MianshenError
from app.web.nav import NavItem, register
from app.web.templating import yuan
from eligibility.policy.source import MAX_DOCUMENT_BYTES
from eligibility.registry import reports, service
from eligibility.registry.models import PolicyVersion
from eligibility.schemas import PreviewGroup, PreviewReport

router = APIRouter(prefix="/officer", include_in_schema=False)
officer = require_staff("officer")
any_staff = require_staff()
REFERENCE = Path(max_length=80, description="version id or content hash")
STATES_ZH = {"draft": "草稿", "validated": "已校验", "submitted": "待审批", "approved": "已批准",
             "retired": "已停用"}

register(
    "officer",
    NavItem("政策", "/officer"),
    NavItem("新建政策", "/officer/policies/new"),
    NavItem("审批队列", "/officer/approvals"),
    NavItem("复核队列", "/officer/reviews"),
)


@router.get("", response_class=HTMLResponse)
def policy_list(request: Request, session: Session = UNIT_OF_WORK,
                _who: Principal = Depends(any_staff)) -> HTMLResponse:
    return console_page(request, "officer", "policies.html", "政策",
                        policies=service.summaries(session, date.today()), states=STATES_ZH)


@router.get("/policies/new", response_class=HTMLResponse)
def editor(request: Request, start: str = Query("", alias="from", max_length=80),
           session: Session = UNIT_OF_WORK,
           _who: Principal = Depends(officer)) -> HTMLResponse:
    text = service.resolve(session, start).text if start else ""
    return _editor(request, text, [])


def _editor(request: Request, text: str, issues: list[object], status_code: int = 200
            ) -> HTMLResponse:
    return console_page(request, "officer", "editor.html", "编辑政策", status_code=status_code,
                        text=text, issues=issues, lines=text.splitlines(),
                        issue_lines={getattr(i, "line", 0) for i in issues})


@router.post("/policies", response_model=None)
def save_draft(request: Request, text: str = Form("", max_length=MAX_DOCUMENT_BYTES),
               session: Session = UNIT_OF_WORK,
               who: Principal = Depends(officer)) -> Response:
    issues = reports.issues_of(text)
    if issues:
        return _editor(request, text, list(issues), status_code=422)
    version, _ = service.create_draft(session, text, who.id)
    version_id = version.id
    return RedirectResponse(f"/officer/versions/{version_id}", status_code=303)


def _version_page(request: Request, version: PolicyVersion, **context: Any) -> HTMLResponse:
    return console_page(request, "officer", "version.html", version.title or "政策版本",
                        version=version, states=STATES_ZH, today=date.today(), **context)


@router.get("/versions/{reference}", response_class=HTMLResponse)
def show_version(request: Request, reference: str = REFERENCE,
                 session: Session = UNIT_OF_WORK,
                 _who: Principal = Depends(any_staff)) -> HTMLResponse:
    return _version_page(request, service.resolve(session, reference))


@router.get("/versions/{reference}/tests", response_class=HTMLResponse)
def run_tests(request: Request, reference: str = REFERENCE,
              session: Session = UNIT_OF_WORK,
              _who: Principal = Depends(officer)) -> HTMLResponse:
    version = service.resolve(session, reference)
    return _version_page(request, version, tests=reports.test_report(session, version))


@router.get("/versions/{reference}/preview", response_class=HTMLResponse)
def preview(request: Request, reference: str = REFERENCE, as_of: date | None = None,
            session: Session = UNIT_OF_WORK,
            _who: Principal = Depends(officer)) -> HTMLResponse:
    version = service.resolve(session, reference)
    report = reports.preview_report(session, version, as_of or date.today())
    return _version_page(request, version, preview=report, charts=preview_charts(report))


def _by(groups: list[PreviewGroup], key: str, value: str) -> list[charts.Bar]:
    totals: dict[str, int] = {}
    for group in groups:
        label = (group.region_name if key == "region" else group.tier) or "(无档次)"
        totals[label] = totals.get(label, 0) + int(getattr(group, value))
    return [charts.Bar(label, amount) for label, amount in totals.items()]


def preview_charts(report: PreviewReport) -> list[Markup]:
    groups = report.by_group
    drawn = [
        charts.bar_chart("各区符合条件人数", _by(groups, "region", "eligible")),
        charts.bar_chart("各区单期发放金额", _by(groups, "region", "amount_fen"), yuan),
        charts.bar_chart("各档次符合条件人数", _by(groups, "tier", "eligible")),
        charts.bar_chart("各档次单期发放金额", _by(groups, "tier", "amount_fen"), yuan),
    ]
    if report.change is not None:
        delta = report.change.by_group
        drawn += [
            charts.bar_chart("与现行版本相比:各区人数变化", _by(delta, "region", "eligible")),
            charts.bar_chart("与现行版本相比:各区金额变化", _by(delta, "region", "amount_fen"),
                             yuan),
        ]
    return drawn


@router.post("/versions/{reference}/submit", response_model=None)
def submit(request: Request, reference: str = REFERENCE, session: Session = UNIT_OF_WORK,
           who: Principal = Depends(officer)) -> Response:
    version = service.resolve(session, reference)
    try:
        version_id = service.submit(session, version, who.id).id
    except MianshenError as error:
        session.rollback()
        return _version_page(request, service.resolve(session, reference),
                             submit_error=error.user_message)
    return RedirectResponse(f"/officer/versions/{version_id}?done=submitted", status_code=303)
