"""The one interface every SMS provider implements, and the shapes it speaks in.

The engine's exactly-once rule rests on :class:`Outcome`: a hand-off is retried only when the
provider is *known* not to have accepted it (``REJECTED_RETRY``: connection refused, an error
answer). A timeout after the request left us is ``UNKNOWN`` and is never retried blindly; the
reconciliation asks the provider (:meth:`SmsProvider.lookup`) by our unique key instead.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

import httpx

from app.settings import SmsSettings


class ProviderKind(StrEnum):
    ALIYUN = "aliyun"
    TENCENT = "tencent"
    GENERIC = "generic"
    CONSOLE = "console"


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED_RETRY = "rejected_retry"  # known not accepted; may succeed later
    REJECTED_PERMANENT = "rejected_permanent"  # known not accepted; will never succeed
    UNKNOWN = "unknown"  # the request may have been accepted: do not resend blindly


class Lookup(StrEnum):
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"  # authoritative: the provider has no record of our key
    UNKNOWN = "unknown"  # the provider cannot tell (e.g. only delivery reports are queryable)


@dataclass(frozen=True)
class OutboundSms:
    out_id: str  # our unique key: OutId (Aliyun), SessionContext (Tencent), out_id (generic)
    mobile: str
    body: str  # full text with the 【signature】
    sign_name: str
    template_code: str
    template_params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Handoff:
    out_id: str
    outcome: Outcome
    provider_message_id: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class LookupAnswer:
    result: Lookup
    provider_message_id: str | None = None


@dataclass(frozen=True)
class Receipt:
    """One delivery report, normalised. ``out_id`` or ``provider_message_id`` finds the row."""

    out_id: str | None
    provider_message_id: str | None
    delivered: bool
    permanent: bool  # for a failure: the number is unknown/dead, not just unreachable now
    code: str
    reported_at: datetime | None = None


# Transport errors raised before the request could reach the provider.
NOT_SENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)


def transport_outcome(error: Exception) -> Outcome:
    """Connection never made → known not accepted; anything after the request left → unknown."""
    return Outcome.REJECTED_RETRY if isinstance(error, NOT_SENT_ERRORS) else Outcome.UNKNOWN


def http_client(settings: SmsSettings) -> httpx.Client:
    timeout = httpx.Timeout(settings.read_timeout_seconds, connect=settings.connect_timeout_seconds)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
    return httpx.Client(timeout=timeout, limits=limits, trust_env=False)


class SmsProvider(abc.ABC):
    kind: ClassVar[ProviderKind]
    max_batch: ClassVar[int] = 1  # messages per request
    lookup_is_authoritative: ClassVar[bool] = True

    def __init__(self, settings: SmsSettings) -> None:
        self.settings = settings

    @abc.abstractmethod
    def send(self, messages: list[OutboundSms]) -> list[Handoff]:
        """Hand ``messages`` (at most ``max_batch``) over; one :class:`Handoff` per message."""

    @abc.abstractmethod
    def lookup(self, out_id: str, mobile: str, sent_on: date) -> LookupAnswer:
        """Did the provider accept the message with our key ``out_id``?"""

    @staticmethod
    @abc.abstractmethod
    def parse_receipts(payload: Any) -> list[Receipt]:
        """Delivery reports in this provider's callback format, normalised."""

    def close(self) -> None:  # noqa: B027 - optional hook
        pass
