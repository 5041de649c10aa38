"""Auditor console (审计员) under ``/auditor``: search decisions (policy, as-of date, outcome,
subject by ID number → its blind index, posted so that the number never appears in a URL), a
decision's provenance and plain-Chinese explanation, its inclusion in the Merkle audit log
(proofs re-checked on the server for the page), replay (identical or different) and export of
the searched decisions as CSV or JSON. Subjects appear only as their pseudonymous keys; no name,
ID number or phone number is shown or exported."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.auth.deps import UNIT_OF_WORK, require_staff
from app.auth.principal import Principal
from app.console import provenance
from app.console.api import decision_or_404
from app.console.rendering import console_page
from app.errors import MianshenError, ValidationFailed
from app.portal.explanations import explain_decision
from app.privacy import subject_key_of
from app.web.nav import NavItem, register
from eligibility.grants import queries
from eligibility.grants.models import Decision
from eligibility.grants.schemas import DecisionProvenance
from eligibility.replay.service import replay

router = APIRouter(prefix="/auditor", include_in_schema=False)
auditor = require_staff("auditor")
PAGE_SIZE = 50
EXPORT_LIMIT = 10_000
DECISION_ID = Path(ge=1, le=2**63 - 1)
EXPORT_FIELDS = ("id", "policy_id", "policy_version", "as_of", "eligible", "tier", "amount_fen",
                 "subject_kind", "subject_key", "inputs_hash", "engine_version", "sweep_id",
                 "created_at")

register("auditor", NavItem("决定查询", "/auditor"))


@dataclass(frozen=True)
class Search:
    policy_id: str
    as_of: str
    outcome: str
    subject: str

    def query(self, session: Session, after_id: int, limit: int) -> list[Decision]:
        eligible = {"eligible": True, "ineligible": False}.get(self.outcome)
        as_of = None
        if self.as_of:
            try:
                as_of = date.fromisoformat(self.as_of)
            except ValueError:
                raise ValidationFailed(f"bad date {self.as_of!r}",
                                       "评估基准日格式应为 YYYY-MM-DD") from None
        return queries.decisions_page(
            session, after_id=after_id, limit=limit, policy_id=self.policy_id or None,
            subject_key=subject_key_of(self.subject) if self.subject else None,
            eligible=eligible, as_of=as_of)

    def params(self) -> str:
        return urlencode({k: v for k, v in vars(self).items() if v})


def search_params(
    policy_id: str = Query("", max_length=64), as_of: str = Query("", max_length=10),
    outcome: str = Query("", pattern="^(|eligible|ineligible)$"),
    subject: str = Query("", max_length=40, description="ID number, USCC or subject key"),
) -> Search:
    return Search(policy_id.strip(), as_of.strip(), outcome, subject.strip())


@router.get("", response_class=HTMLResponse)
def search(request: Request, criteria: Search = Depends(search_params),
           after: int = Query(0, ge=0, le=2**63 - 1), session: Session = UNIT_OF_WORK,
           _who: Principal = Depends(auditor)) -> HTMLResponse:
    error, rows = "", []
    try:
        rows = criteria.query(session, after, PAGE_SIZE + 1)
    except MianshenError as failure:
        error = failure.user_message
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return console_page(request, "auditor", "search.html", "决定查询", criteria=criteria,
                        rows=rows, error=error, next_after=rows[-1].id if more else None,
                        query=criteria.params())


@router.post("/search", response_model=None)
def search_form(policy_id: str = Form("", max_length=64), as_of: str = Form("", max_length=10),
                outcome: str = Form("", pattern="^(|eligible|ineligible)$"),
                subject: str = Form("", max_length=40),
                _who: Principal = Depends(auditor)) -> Response:
    """The search form posts here so an ID number never reaches a URL (history, access logs):
    it is replaced by its blind index before the results page is requested."""
    key = subject_key_of(subject) if subject.strip() else ""
    criteria = Search(policy_id.strip(), as_of.strip(), outcome, key)
    return RedirectResponse(f"/auditor?{criteria.params()}", status_code=303)


@router.get("/decisions/{decision_id}", response_class=HTMLResponse)
def decision_page(request: Request, decision_id: int = DECISION_ID,
                  session: Session = UNIT_OF_WORK,
                  _who: Principal = Depends(auditor)) -> HTMLResponse:
    return _decision_page(request, session, decision_or_404(session, decision_id))


def _decision_page(request: Request, session: Session, decision: Decision,
                   **extra: Any) -> HTMLResponse:
    try:
        explanation = explain_decision(session, decision.policy_id, decision.subject_key,
                                       decision)
    except MianshenError:
        explanation = None
    return console_page(
        request, "auditor", "decision.html", f"决定 {decision.id}", decision=decision,
        provenance=DecisionProvenance.of(decision), explanation=explanation,
        inclusions=provenance.inclusions(session, decision), **extra)


@router.get("/decisions/{decision_id}/replay", response_class=HTMLResponse)
def replay_page(request: Request, decision_id: int = DECISION_ID,
                session: Session = UNIT_OF_WORK,
                _who: Principal = Depends(auditor)) -> HTMLResponse:
    decision = decision_or_404(session, decision_id)
    return _decision_page(request, session, decision, replayed=replay(session, decision_id))


def export_rows(decisions: list[Decision]) -> list[dict[str, Any]]:
    return [{name: getattr(d, name) for name in EXPORT_FIELDS} for d in decisions]


@router.get("/export.{fmt}", response_model=None)
def export(fmt: str = Path(pattern="^(csv|json)$"), criteria: Search = Depends(search_params),
           session: Session = UNIT_OF_WORK,
           _who: Principal = Depends(auditor)) -> Response:
    """The searched decisions (at most ``EXPORT_LIMIT``), subjects as pseudonymous keys."""
    rows = export_rows(criteria.query(session, 0, EXPORT_LIMIT))
    disposition = {"Content-Disposition": f'attachment; filename="decisions.{fmt}"'}
    if fmt == "json":
        return Response(json.dumps(rows, default=str, ensure_ascii=False),
                        media_type="application/json", headers=disposition)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers=disposition)
