"""HTTP routes of the personal-data domain (mounted under ``/api/v1``): a citizen's own access
log, export and refusal of automated decisions (``/me/...``, own records only: the subject is
always the signed-in citizen's key, never a parameter), and the auditor's access-log query.
Handlers parse, call the service and answer; the request's unit of work commits."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlmodel import Session

from app.auth.deps import db_session, require_citizen, require_staff
from app.auth.principal import Principal
from app.errors import ValidationFailed
from app.personal_data import export, service
from app.personal_data.schemas import AccessRecord, RefusalReceipt

router = APIRouter(tags=["privacy"])


@router.get("/me/access-log")
def my_access_log(principal: Principal = Depends(require_citizen),
                  session: Session = Depends(db_session)) -> list[AccessRecord]:
    """Who viewed my record, when and why (newest first)."""
    assert principal.subject_key is not None
    return service.access_log(session, principal.subject_key)


@router.get("/me/export")
def my_export(
    archive: bool = Query(False, alias="zip", description="a zip with export.json and a readme"),
    principal: Principal = Depends(require_citizen), session: Session = Depends(db_session),
) -> Response:
    """Everything held about me, decrypted (PIPL); other people's data is left out."""
    assert principal.subject_key is not None
    service.record_access(session, principal, principal.subject_key, "citizen_export", ["*"])
    document = export.export_subject(session, principal.subject_key)
    if archive:
        return Response(export.export_zip(document), media_type="application/zip",
                        headers={"Content-Disposition": 'attachment; filename="my-data.zip"'})
    return Response(export.export_json(document), media_type="application/json")


@router.post("/me/refuse-automation")
def refuse_automation(principal: Principal = Depends(require_citizen),
                      session: Session = Depends(db_session)) -> RefusalReceipt:
    """PIPL art. 24: my cases go to an officer instead of being decided automatically."""
    assert principal.subject_key is not None
    return service.refuse_automated_decisions(session, principal.subject_key)


@router.get("/privacy/access", dependencies=[Depends(require_staff("auditor"))])
def access_log(
    subject: str | None = Query(None, description="ID number or subject key"),
    viewer: str | None = Query(None, max_length=64, description="viewer id"),
    since: datetime | None = Query(None),
    limit: int = Query(500, ge=1, le=5000),
    session: Session = Depends(db_session),
) -> list[AccessRecord]:
    """Who viewed whose record: by subject, or everything one viewer looked at."""
    if subject:
        return service.access_log(session, service.subject_key_of(subject), since=since,
                                  limit=limit)
    if viewer:
        return service.access_by_viewer(session, viewer, limit=limit)
    raise ValidationFailed("give subject or viewer", "请指定查询对象或查看人")
