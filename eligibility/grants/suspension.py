"""Suspending every granted grant of many subjects at once (a batch of death or deregistration
events): one ``UPDATE ... RETURNING`` over the grants locked in id order, one statement holding
their unbatched payments, the grant events written in bulk, and the changes handed to the
``GRANT_CHANGED`` hooks and the audit log through the unit of work. A grant another transaction
has just suspended is no longer ``granted`` when its lock is obtained, so each grant is
suspended (and announced to the hooks) exactly once however many batches report the same
subject.

One grant at a time (an officer's action) lives in ``review``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update

from eligibility.grants.bulk import allocate_ids, insert_rows, utcnow, where_in
from eligibility.grants.context import SweepContext
from eligibility.grants.hooks import GrantChange
from eligibility.grants.lifecycle import GrantState
from eligibility.grants.models import Grant, GrantEvent
from eligibility.payments import repository as payments_repo

GRANT = Grant.__table__  # type: ignore[attr-defined]
GRANT_EVENT = GrantEvent.__table__  # type: ignore[attr-defined]


def suspend_subjects(ctx: SweepContext, reasons: Mapping[str, tuple[str, str]]) -> int:
    """Suspend the granted grants of the subjects in ``reasons`` (subject key -> (reason,
    detail)); returns how many grants were suspended."""
    connection, now = ctx.connection, utcnow()
    granted = GrantState.GRANTED.value
    suspended: list[Any] = []
    for condition in where_in(connection, GRANT.c.subject_key, sorted(reasons)):
        # Lock the subjects' grants by the selective subject index alone (a state condition
        # here lets a planner with stale statistics scan the whole state index instead).
        locked = (select(GRANT.c.id).where(condition)
                  .order_by(GRANT.c.id).with_for_update().cte("locked"))
        statement = (
            update(GRANT).where(GRANT.c.id == locked.c.id, GRANT.c.state == granted)
            .values(state=GrantState.SUSPENDED.value, updated_at=now)
            .returning(GRANT.c.id, GRANT.c.policy_id, GRANT.c.subject_kind, GRANT.c.subject_key,
                       GRANT.c.amount_fen, GRANT.c.tier, GRANT.c.decision_id, GRANT.c.payee_key)
        )
        suspended += connection.execute(statement).all()
    suspended.sort(key=lambda row: row.id)
    payments_repo.hold_or_release(connection, [row.id for row in suspended], hold=True, now=now)
    ids = allocate_ids(connection, GRANT_EVENT, len(suspended))
    events = [
        {"id": ident, "grant_id": row.id, "from_state": granted,
         "to_state": GrantState.SUSPENDED.value, "reason": reasons[row.subject_key][0],
         "detail": reasons[row.subject_key][1], "effective_date": ctx.as_of, "actor": ctx.actor,
         "decision_id": row.decision_id, "at": now}
        for ident, row in zip(ids, suspended, strict=True)
    ]
    insert_rows(connection, GRANT_EVENT, events)
    ctx.audit.add_event_rows([  # logged when the unit of work finishes
        {**event, "policy_id": row.policy_id, "subject_key": row.subject_key}
        for event, row in zip(events, suspended, strict=True)
    ])
    ctx.changes += [
        GrantChange(row.id, row.policy_id, row.subject_kind, row.subject_key, granted,
                    GrantState.SUSPENDED.value, reasons[row.subject_key][0], ctx.as_of,
                    row.amount_fen, row.tier, row.payee_key)
        for row in suspended
    ]
    ctx.counts["suspended"] += len(suspended)
    return len(suspended)
