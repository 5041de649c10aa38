"""Queries only the enterprise portal needs (grants are in ``app.portal.repository``)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.datahub.models import Enterprise


def enterprise(session: Session, uscc: str) -> Enterprise | None:
    return session.exec(select(Enterprise).where(col(Enterprise.uscc) == uscc)).first()
