"""Generic HTTP gateway: JSON POST of up to 100 messages per request, bearer token, one result
per message, and a ``GET /messages/{out_id}`` lookup. Most Chinese SMS aggregators offer a
variant of this; it is also the fastest path to the mock gateway (the benchmark uses it)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from app.settings import SmsSettings
from notifications.providers.base import (
    Handoff,
    Lookup,
    LookupAnswer,
    OutboundSms,
    Outcome,
    ProviderKind,
    Receipt,
    SmsProvider,
    http_client,
    transport_outcome,
)


class GenericHttpSms(SmsProvider):
    kind = ProviderKind.GENERIC
    max_batch = 100

    def __init__(self, settings: SmsSettings) -> None:
        super().__init__(settings)
        self.client = http_client(settings)
        self.base = settings.generic_base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {settings.generic_token.get_secret_value()}"}

    def send(self, messages: list[OutboundSms]) -> list[Handoff]:
        body = {
            "messages": [
                {
                    "out_id": m.out_id,
                    "mobile": m.mobile,
                    "body": m.body,
                    "template": m.template_code,
                }
                for m in messages
            ]
        }
        try:
            response = self.client.post(f"{self.base}/messages", json=body, headers=self.headers)
        except httpx.HTTPError as error:
            outcome = transport_outcome(error)
            return [Handoff(m.out_id, outcome, error=type(error).__name__) for m in messages]
        if response.status_code != 200:
            # An error answer: the gateway accepted none of the batch.
            permanent = response.status_code in (400, 401, 403, 422)
            outcome = Outcome.REJECTED_PERMANENT if permanent else Outcome.REJECTED_RETRY
            return [
                Handoff(m.out_id, outcome, error=f"HTTP{response.status_code}") for m in messages
            ]
        results = {r.get("out_id"): r for r in response.json().get("results", [])}
        handoffs = []
        for message in messages:
            result = results.get(message.out_id)
            if result is None:
                handoffs.append(Handoff(message.out_id, Outcome.UNKNOWN, error="missing in answer"))
            elif result.get("status") == "accepted":
                handoffs.append(Handoff(message.out_id, Outcome.ACCEPTED, result.get("message_id")))
            else:
                outcome = (
                    Outcome.REJECTED_PERMANENT
                    if result.get("permanent")
                    else Outcome.REJECTED_RETRY
                )
                handoffs.append(
                    Handoff(message.out_id, outcome, error=str(result.get("error"))[:100])
                )
        return handoffs

    def lookup(self, out_id: str, mobile: str, sent_on: date) -> LookupAnswer:
        response = self.client.get(f"{self.base}/messages/{out_id}", headers=self.headers)
        if response.status_code == 404:
            return LookupAnswer(Lookup.NOT_ACCEPTED)
        if response.status_code != 200:
            return LookupAnswer(Lookup.UNKNOWN)
        return LookupAnswer(Lookup.ACCEPTED, response.json().get("message_id"))

    @staticmethod
    def parse_receipts(payload: Any) -> list[Receipt]:
        items = payload.get("receipts", []) if isinstance(payload, dict) else []
        return [
            Receipt(
                out_id=item.get("out_id") or None,
                provider_message_id=item.get("message_id") or None,
                delivered=item.get("status") == "delivered",
                permanent=item.get("status") == "permanent_failure",
                code=str(item.get("code", ""))[:40],
            )
            for item in items
        ]

    def close(self) -> None:
        self.client.close()
