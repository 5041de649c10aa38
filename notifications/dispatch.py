"""The sending engine: claim due messages, hand them to a provider, record what happened, and
reconcile hand-offs whose worker died. Provider APIs are not idempotent, so this is.

One cycle (:meth:`Dispatcher.dispatch_batch`) is three steps:

1. **Claim** (one transaction): up to ``batch_size`` due rows are locked (``FOR UPDATE SKIP
   LOCKED`` on PostgreSQL; SQLite has one writer). For each, the recipient is checked (deceased →
   cancelled; opted out of a non-essential message → cancelled; no usable mobile → fallback
   task), the per-recipient rate limit and daily cap are counted in Redis (over the limit → back
   in the queue, later), and the rest become ``sending`` with a fresh claim token, the chosen
   provider and ``attempts + 1``. The commit is the point of no return: from here on the message
   *may* be with the provider.
2. **Hand off** (no transaction): concurrently, in the provider's batch size.
3. **Record** (one transaction, each update conditional on ``sending`` + the claim token):
   accepted → ``sent``; known not accepted → ``retrying`` with exponential backoff, or
   ``technical_failure`` after ``max_attempts``; rejected for good → ``permanent_failure``;
   outcome unknown (timeout after the request left) → stays ``sending``. Rows are moved in
   groups (same outcome, error and backoff), each one conditional statement that also writes
   the transition rows (``repository.move``), so a batch costs a handful of round trips.

Reconciliation (``reconcile``): a row left in ``sending`` longer than ``claim_lease_seconds``
(its worker was killed, or the outcome was unknown) is never resent blindly:
:meth:`Dispatcher.reconcile_stale` asks the provider it was handed to whether it holds our
unique key (OutId / SessionContext / out_id). Held → ``sent``; authoritatively absent → retry
queue; the provider cannot tell (Tencent keeps only delivery reports) → ``technical_failure``,
visible to officers, not resent. The residual window for a duplicate is a provider whose query
lags behind its acceptance for longer than the lease, or a request the provider holds
unanswered for longer than the lease.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from app.db import session_scope
from app.privacy import Keyring, keyring
from app.settings import SmsSettings
from notifications import repository
from notifications.limits import (
    DAY_FULL,
    HOUR_FULL,
    ProviderHealth,
    QuietHours,
    RateLimiter,
    choose_provider,
)
from notifications.models import FallbackKind, NotificationStatus
from notifications.providers import ProviderKind, SmsProvider
from notifications.providers.base import Handoff, OutboundSms, Outcome
from notifications.reconcile import Recipient, Reconciler
from notifications.schemas import DispatchReport
from notifications.service import utcnow

log = logging.getLogger(__name__)
S = NotificationStatus
MOBILE = re.compile(r"1[3-9]\d{9}")
N = repository.N


class Dispatcher(Reconciler):
    def __init__(
        self,
        engine: Engine,
        providers: dict[ProviderKind, SmsProvider],
        limiter: RateLimiter,
        health: ProviderHealth,
        settings: SmsSettings,
        *,
        ring: Keyring | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine, self.providers, self.limiter, self.health = engine, providers, limiter, health
        self.sms, self.ring, self.clock = settings, ring or keyring(), clock
        self.quiet = QuietHours(settings)
        self.pool = ThreadPoolExecutor(max_workers=max(1, settings.send_concurrency))

    # -- the cycle -------------------------------------------------------------------------

    def dispatch_due(
        self,
        *,
        statuses: Sequence[str] = (S.CREATED, S.RETRYING),
        time_budget: float | None = None,
    ) -> DispatchReport:
        """Run cycles until nothing is due (or the time budget is spent)."""
        total = DispatchReport()
        started = time.monotonic()
        while True:
            report = self.dispatch_batch(statuses=statuses)
            total.add(report)
            if report.claimed == 0:
                return total
            if time_budget is not None and time.monotonic() - started > time_budget:
                return total

    def dispatch_batch(
        self, *, statuses: Sequence[str] = (S.CREATED, S.RETRYING)
    ) -> DispatchReport:
        now = self.clock()
        token = uuid.uuid4().hex
        report = DispatchReport()
        with session_scope(self.engine) as session:
            rows = repository.claim_due(
                session,
                now=now,
                limit=self.sms.batch_size,
                token=token,
                statuses=[str(s) for s in statuses],
                urgent_only=self.quiet.is_quiet(now),
            )
            report.claimed = len(rows)
            if not rows:
                return report
            provider, outbound, claimed = self._prepare(session, rows, now, token, report)
        if not outbound:
            return report
        handoffs = self._hand_off(provider, outbound)
        with session_scope(self.engine) as session:
            self._record(session, provider, handoffs, claimed, token, report)
        return report

    def _recipients(self, session: Any, subject_keys: set[str]) -> dict[str, Recipient]:
        found = {}
        for key, person in repository.persons_for(session, subject_keys).items():
            pii = self.ring.decrypt_json(person.pii) if person.pii else {}
            mobile = str(pii.get("mobile") or "").strip() or None
            found[key] = Recipient(mobile, bool(pii.get("address")), True)
        return found

    def _prepare(
        self, session: Any, rows: list[Any], now: datetime, token: str, report: DispatchReport
    ) -> tuple[SmsProvider, list[OutboundSms], dict[str, tuple[int, int]]]:
        keys = {row.subject_key for row in rows}
        recipients = self._recipients(session, keys)
        dead = repository.deceased(session, keys)
        opted_out = repository.opted_out(session, keys)
        cancel: list[tuple[Any, str]] = []
        fallback: list[tuple[Any, str, str]] = []
        candidates: list[tuple[Any, str]] = []
        for row in rows:
            recipient = recipients.get(row.subject_key, Recipient(None, False, False))
            if row.subject_key in dead:
                cancel.append((row, "recipient deceased"))
            elif not row.essential and row.subject_key in opted_out:
                cancel.append((row, "recipient opted out of non-essential messages"))
            elif not recipient.in_registry:
                fallback.append((row, FallbackKind.COMMUNITY_WORKER, "not in population registry"))
            elif recipient.mobile is None:
                kind = (
                    FallbackKind.LETTER if recipient.has_address else FallbackKind.COMMUNITY_WORKER
                )
                fallback.append((row, kind, "missing_mobile"))
            elif not MOBILE.fullmatch(recipient.mobile):
                kind = (
                    FallbackKind.LETTER if recipient.has_address else FallbackKind.COMMUNITY_WORKER
                )
                fallback.append((row, kind, "invalid_mobile"))
            else:
                candidates.append((row, recipient.mobile))
        verdicts = self.limiter.consume([self.ring.mobile_index(m) for _, m in candidates], now)
        sending = [
            (row, mobile) for (row, mobile), v in zip(candidates, verdicts, strict=True) if v == 0
        ]
        deferred: dict[tuple[str, int], list[int]] = defaultdict(list)
        for (row, _), verdict in zip(candidates, verdicts, strict=True):
            if verdict in (HOUR_FULL, DAY_FULL):
                deferred[(row.status, verdict)].append(row.id)
        for (status, verdict), ids in deferred.items():
            later = self.quiet.next_hour(now) if verdict == HOUR_FULL else self.quiet.next_day(now)
            why = "deferred: hourly limit" if verdict == HOUR_FULL else "deferred: daily cap"
            report.deferred += len(
                repository.set_status(
                    session,
                    ids,
                    expected=[status],
                    token=token,
                    next_attempt_at=later,
                    claim_token=None,
                    last_error=why,
                    updated_at=now,
                )
            )
        self._finish_without_sending(session, cancel, fallback, now, token, report)
        provider = self.providers[
            ProviderKind(choose_provider([str(k) for k in self.providers], self.health, self.sms))
        ]
        outbound, claimed = [], {}
        for status in {row.status for row, _ in sending}:
            group = [(row, mobile) for row, mobile in sending if row.status == status]
            changed = set(
                repository.move(
                    session,
                    [row.id for row, _ in group],
                    expected=status,
                    to_status=S.SENDING.value,
                    at=now,
                    detail=f"provider {provider.kind.value}",
                    token=token,
                    provider=provider.kind.value,
                    attempts=N.c.attempts + 1,
                    claimed_at=now,
                    updated_at=now,
                )
            )
            for row, mobile in group:
                if row.id in changed:
                    outbound.append(self._outbound(row, mobile))
                    claimed[row.unique_key] = (row.id, row.attempts + 1)
        report.providers[provider.kind.value] = len(outbound)
        return provider, outbound, claimed

    def _finish_without_sending(
        self,
        session: Any,
        cancel: list[tuple[Any, str]],
        fallback: list[tuple[Any, str, str]],
        now: datetime,
        token: str,
        report: DispatchReport,
    ) -> None:
        """Cancel and divert to a fallback task, one statement per (status, reason) group."""
        cancelled: dict[tuple[str, str], list[int]] = defaultdict(list)
        for row, reason in cancel:
            cancelled[(row.status, reason)].append(row.id)
        for (status, reason), ids in cancelled.items():
            report.cancelled += len(
                repository.move(
                    session,
                    ids,
                    expected=status,
                    to_status=S.CANCELLED.value,
                    at=now,
                    detail=reason,
                    token=token,
                    cancelled_at=now,
                    last_error=reason,
                    claim_token=None,
                    updated_at=now,
                )
            )
        diverted: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
        for row, kind, reason in fallback:
            diverted[(row.status, str(kind), reason)].append(row)
        tasks: list[dict[str, Any]] = []
        for (status, kind, reason), rows in diverted.items():
            changed = set(
                repository.move(
                    session,
                    [row.id for row in rows],
                    expected=status,
                    to_status=S.FALLBACK.value,
                    at=now,
                    detail=f"{kind}: {reason}",
                    token=token,
                    last_error=reason,
                    claim_token=None,
                    updated_at=now,
                )
            )
            tasks.extend(
                {
                    "notification_id": row.id,
                    "subject_key": row.subject_key,
                    "kind": kind,
                    "reason": reason,
                    "status": "open",
                    "created_at": now,
                }
                for row in rows
                if row.id in changed
            )
        repository.insert_fallback_tasks(session, tasks)
        report.fallback += len(tasks)

    @staticmethod
    def _outbound(row: Any, mobile: str) -> OutboundSms:
        params = {name: str(value) for name, value in json.loads(row.variables).items()}
        return OutboundSms(
            out_id=row.unique_key,
            mobile=mobile,
            body=row.body,
            sign_name=row.agency,
            template_code=row.template_code,
            template_params=params,
        )

    def _hand_off(self, provider: SmsProvider, messages: list[OutboundSms]) -> list[Handoff]:
        size = provider.max_batch
        chunks = [messages[start : start + size] for start in range(0, len(messages), size)]

        def send(chunk: list[OutboundSms]) -> list[Handoff]:
            try:
                return provider.send(chunk)
            except Exception as error:  # a bug or an odd answer: the outcome is unknown
                log.exception("sms hand-off to %s failed unexpectedly", provider.kind.value)
                return [
                    Handoff(m.out_id, Outcome.UNKNOWN, error=type(error).__name__) for m in chunk
                ]

        return [handoff for result in self.pool.map(send, chunks) for handoff in result]

    def _backoff(self, attempts: int) -> timedelta:
        seconds = self.sms.backoff_base_seconds * (2 ** max(attempts - 1, 0))
        return timedelta(seconds=min(seconds, self.sms.backoff_max_seconds))

    def _record(
        self,
        session: Any,
        provider: SmsProvider,
        handoffs: list[Handoff],
        claimed: dict[str, tuple[int, int]],
        token: str,
        report: DispatchReport,
    ) -> None:
        """One conditional statement per (outcome, error, backoff) group, not per message."""
        now = self.clock()
        by_outcome: dict[Outcome, list[Handoff]] = defaultdict(list)
        for handoff in handoffs:
            by_outcome[handoff.outcome].append(handoff)
        accepted = by_outcome[Outcome.ACCEPTED]
        changed = repository.move(
            session,
            [claimed[h.out_id][0] for h in accepted],
            expected=S.SENDING.value,
            to_status=S.SENT.value,
            at=now,
            detail=f"provider {provider.kind.value}",
            token=token,
            sent_at=now,
            last_error=None,
            updated_at=now,
        )
        repository.set_message_ids(
            session,
            {
                claimed[h.out_id][0]: h.provider_message_id
                for h in accepted
                if h.provider_message_id
            },
        )
        report.sent += len(changed)
        failed: dict[tuple[S, str, datetime | None], list[int]] = defaultdict(list)
        for handoff in by_outcome[Outcome.REJECTED_PERMANENT]:
            why = (handoff.error or "")[:200]
            failed[(S.PERMANENT_FAILURE, why, None)].append(claimed[handoff.out_id][0])
        for handoff in by_outcome[Outcome.REJECTED_RETRY]:
            notification_id, tries = claimed[handoff.out_id]
            if tries >= self.sms.max_attempts:
                why = f"gave up after {tries} attempts: {handoff.error}"[:200]
                failed[(S.TECHNICAL_FAILURE, why, None)].append(notification_id)
            else:
                retry_at = now + self._backoff(tries)
                failed[(S.RETRYING, (handoff.error or "")[:200], retry_at)].append(notification_id)
        for (status, why, later), ids in failed.items():
            if status is S.RETRYING:
                moved = repository.move(
                    session,
                    ids,
                    expected=S.SENDING.value,
                    to_status=status.value,
                    at=now,
                    detail=why,
                    token=token,
                    next_attempt_at=later,
                    claim_token=None,
                    last_error=why,
                    updated_at=now,
                )
                report.retrying += len(moved)
            else:
                moved = self._fail(session, ids, token, status, why, now)
                if status is S.PERMANENT_FAILURE:
                    report.permanent_failure += len(moved)
                else:
                    report.technical_failure += len(moved)
        unknown = [claimed[h.out_id][0] for h in by_outcome[Outcome.UNKNOWN]]
        repository.set_status(
            session,
            unknown,
            expected=[S.SENDING],
            token=token,
            last_error="hand-off outcome unknown; reconcile after the lease",
            updated_at=now,
        )
        report.unknown += len(unknown)
        failures = len(by_outcome[Outcome.REJECTED_RETRY]) + len(unknown)
        self.health.record(provider.kind.value, len(handoffs) - failures, failures)

    def _fail(
        self,
        session: Any,
        notification_ids: Sequence[int],
        token: str,
        status: S,
        why: str | None,
        now: datetime,
    ) -> list[int]:
        return repository.move(
            session,
            notification_ids,
            expected=S.SENDING.value,
            to_status=status.value,
            at=now,
            detail=(why or "")[:200],
            token=token,
            failed_at=now,
            claim_token=None,
            last_error=(why or "")[:200],
            updated_at=now,
        )

    def close(self) -> None:
        self.pool.shutdown(wait=False)
        for provider in self.providers.values():
            provider.close()
