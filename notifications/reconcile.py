"""Reconciliation of hand-offs nobody recorded: a row left in ``sending`` longer than the claim
lease (its worker was killed, or the provider's answer never came) is resolved by asking the
provider it was handed to whether it holds our unique key. Mixed into ``dispatch.Dispatcher``;
nothing here ever hands a message over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from app.db import session_scope
from app.settings import SmsSettings
from notifications import repository
from notifications.limits import QuietHours
from notifications.models import NotificationStatus
from notifications.providers import PROVIDERS, ProviderKind, SmsProvider
from notifications.providers.base import Lookup, LookupAnswer
from notifications.schemas import ReconcileReport

log = logging.getLogger(__name__)
S = NotificationStatus


@dataclass(frozen=True)
class Recipient:
    mobile: str | None
    has_address: bool
    in_registry: bool


class Reconciler:
    engine: Engine
    sms: SmsSettings
    quiet: QuietHours
    providers: dict[ProviderKind, SmsProvider]
    clock: Callable[[], datetime]
    pool: ThreadPoolExecutor  # lookups run concurrently, like hand-offs

    def _recipients(self, session: Any, subject_keys: set[str]) -> dict[str, Recipient]:
        raise NotImplementedError

    def _fail(
        self,
        session: Any,
        notification_ids: Sequence[int],
        token: str,
        status: S,
        why: str | None,
        now: datetime,
    ) -> list[int]:
        raise NotImplementedError

    def reconcile_stale(self, *, limit: int = 1000) -> ReconcileReport:
        """Resolve hand-offs claimed longer ago than the lease, asking the provider first."""
        now = self.clock()
        report = ReconcileReport()
        with session_scope(self.engine) as session:
            rows = repository.stale_sending(
                session,
                claimed_before=now - timedelta(seconds=self.sms.claim_lease_seconds),
                limit=limit,
            )
            recipients = self._recipients(session, {row.subject_key for row in rows})
        report.examined = len(rows)
        for row in rows:  # create any missing provider client before the lookups fan out
            self._provider(row.provider)

        def ask(row: Any) -> tuple[Any, LookupAnswer | None]:
            mobile = recipients.get(row.subject_key, Recipient(None, False, False)).mobile or ""
            try:
                return row, self._provider(row.provider).lookup(
                    row.unique_key, mobile, self.quiet.local(row.claimed_at).date()
                )
            except Exception:  # the provider cannot be asked now: try again next sweep
                log.warning("sms reconcile: lookup at %s failed; will retry", row.provider)
                return row, None

        answers = [(row, answer) for row, answer in self.pool.map(ask, rows) if answer]
        with session_scope(self.engine) as session:
            for row, answer in answers:
                self._resolve(session, row, answer.result, answer.provider_message_id, now, report)
        return report

    def _provider(self, name: str | None) -> SmsProvider:
        kind = ProviderKind(name or ProviderKind.CONSOLE)
        if kind not in self.providers:
            self.providers[kind] = PROVIDERS[kind](self.sms)
        return self.providers[kind]

    def _resolve(
        self,
        session: Any,
        row: Any,
        result: Lookup,
        message_id: str | None,
        now: datetime,
        report: ReconcileReport,
    ) -> None:
        token = row.claim_token
        if result is Lookup.ACCEPTED:
            if repository.move(
                session,
                [row.id],
                expected=S.SENDING.value,
                to_status=S.SENT.value,
                at=now,
                detail="reconciled: provider has it",
                token=token,
                sent_at=now,
                last_error=None,
                updated_at=now,
            ):
                repository.set_message_ids(session, {row.id: message_id} if message_id else {})
                report.accepted += 1
        elif result is Lookup.NOT_ACCEPTED and row.attempts < self.sms.max_attempts:
            why = "reconciled: provider never accepted it"
            if repository.move(
                session,
                [row.id],
                expected=S.SENDING.value,
                to_status=S.RETRYING.value,
                at=now,
                detail=why,
                token=token,
                next_attempt_at=now,
                claim_token=None,
                last_error=why,
                updated_at=now,
            ):
                report.resent_later += 1
        else:
            why = (
                "hand-off outcome unknown; not resent to avoid a duplicate"
                if result is Lookup.UNKNOWN
                else f"gave up after {row.attempts} attempts"
            )
            self._fail(session, [row.id], token, S.TECHNICAL_FAILURE, why, now)
            report.unknown += result is Lookup.UNKNOWN
