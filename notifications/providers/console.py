"""Local file/console provider, the embedded default: appends each message to
``<MIANSHEN_HOME>/sms-outbox.log`` (time, key, masked mobile, body) and prints nothing else.
The mobile number is masked before it is written; the body is already masked."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from app.privacy import mask_mobile
from app.settings import SmsSettings, get_settings
from notifications.providers.base import (
    Handoff,
    Lookup,
    LookupAnswer,
    OutboundSms,
    Outcome,
    ProviderKind,
    Receipt,
    SmsProvider,
)

_WRITE_LOCK = threading.Lock()


def outbox_log_path() -> Path:
    return Path(get_settings().home) / "sms-outbox.log"


class ConsoleSms(SmsProvider):
    kind = ProviderKind.CONSOLE
    max_batch = 1000

    def __init__(self, settings: SmsSettings, path: Path | None = None) -> None:
        super().__init__(settings)
        self.path = path or outbox_log_path()

    def send(self, messages: list[OutboundSms]) -> list[Handoff]:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        handoffs, lines = [], []
        for message in messages:
            message_id = uuid.uuid4().hex[:16]
            lines.append(
                f"{now}\t{message.out_id}\t{message_id}\t{mask_mobile(message.mobile)}\t{message.body}\n"
            )
            handoffs.append(
                Handoff(message.out_id, Outcome.ACCEPTED, provider_message_id=message_id)
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _WRITE_LOCK, self.path.open("a", encoding="utf-8") as log:
            log.writelines(lines)
        return handoffs

    def lookup(self, out_id: str, mobile: str, sent_on: date) -> LookupAnswer:
        if self.path.exists():
            with self.path.open(encoding="utf-8") as log:
                for line in log:
                    fields = line.split("\t")
                    if len(fields) > 2 and fields[1] == out_id:
                        return LookupAnswer(Lookup.ACCEPTED, fields[2])
        return LookupAnswer(Lookup.NOT_ACCEPTED)

    @staticmethod
    def parse_receipts(payload: Any) -> list[Receipt]:
        return []
