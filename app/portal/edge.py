"""The request owns the transaction (``db_session`` commits when the request's dependencies
close), but that happens after the answer has left: a client acting on the answer (a redirect
after a form, a second click) could reach the database first and miss the change. Handlers that
change something therefore commit through :func:`committed` before answering."""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import Session

T = TypeVar("T")


def committed(session: Session, answer: T) -> T:
    session.commit()
    return answer
