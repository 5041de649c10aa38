"""Keyset pagination shared by every list endpoint: ``?limit=&cursor=`` in, ``{"items",
"next_cursor"}`` out. The cursor is the last id of the page (opaque to callers), so pages stay
stable while rows are appended."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

Item = TypeVar("Item")
Row = TypeVar("Row")


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    next_cursor: str | None = None


@dataclass(frozen=True)
class PageParams:
    limit: int
    after_id: int


def page_params(
    limit: int = Query(50, ge=1, le=500, description="Items per page (1–500)."),
    cursor: str | None = Query(None, pattern=r"^\d{0,18}$", description="From next_cursor."),
) -> PageParams:
    return PageParams(limit=limit, after_id=int(cursor) if cursor else 0)


def page_of(rows: Sequence[Row], params: PageParams, convert: Callable[[Row], Item],
            row_id: Callable[[Row], Any]) -> Page[Item]:
    """``rows`` were fetched with ``limit + 1`` to learn whether another page follows."""
    shown = list(rows[: params.limit])
    more = len(rows) > params.limit
    return Page(items=[convert(r) for r in shown],
                next_cursor=str(row_id(shown[-1])) if more and shown else None)
