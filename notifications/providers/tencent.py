"""Tencent-style client: SMS API 2021-01-11 ``SendSms`` and ``PullSmsSendStatusByPhoneNumber``
with TC3-HMAC-SHA256 signing, and the ``report_status`` callback format. ``SessionContext``
carries our unique key; a callback names the message by ``sid`` (the ``SerialNo``) and, where
the account passes it back, by ``ext.SessionContext``.

Tencent can only be asked for delivery *reports*, so a message without a report yet is not
proof that nothing was accepted: ``lookup`` answers ``UNKNOWN`` there, never ``NOT_ACCEPTED``.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from datetime import time as day_time
from typing import Any
from urllib.parse import urlsplit

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
from notifications.providers.signing import TC3_CONTENT_TYPE, tc3_authorization

API_VERSION = "2021-01-11"
SERVICE = "sms"
PERMANENT_ERRORS = frozenset(
    {
        "InvalidParameterValue.IncorrectPhoneNumber",
        "FailedOperation.PhoneNumberInBlacklist",
        "FailedOperation.SignatureIncorrectOrUnapproved",
        "FailedOperation.TemplateIncorrectOrUnapproved",
        "InvalidParameterValue.TemplateParameterFormatError",
        "UnauthorizedOperation.SmsSdkAppIdVerifyFail",
    }
)
PERMANENT_REPORT_CODES = frozenset({"MN:0001", "MN:0011", "IC:0001"})


class TencentSms(SmsProvider):
    kind = ProviderKind.TENCENT
    max_batch = 1  # one TemplateParamSet per request: personalised messages go one by one
    lookup_is_authoritative = False

    def __init__(self, settings: SmsSettings) -> None:
        super().__init__(settings)
        self.client = http_client(settings)
        self.url = settings.tencent_base_url.rstrip("/") + "/"
        self.host = urlsplit(self.url).netloc

    def _call(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = json.dumps(body, ensure_ascii=False).encode()
        timestamp = int(time.time())
        headers = {
            "Authorization": tc3_authorization(
                self.settings.tencent_secret_id,
                self.settings.tencent_secret_key.get_secret_value(),
                SERVICE,
                self.host,
                timestamp,
                payload,
            ),
            "Content-Type": TC3_CONTENT_TYPE,
            "Host": self.host,
            "X-TC-Action": action,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": API_VERSION,
            "X-TC-Region": self.settings.tencent_region,
        }
        response = self.client.post(self.url, content=payload, headers=headers)
        try:
            answer: dict[str, Any] = response.json().get("Response", {})
        except (ValueError, AttributeError):
            answer = {"Error": {"Code": f"HTTP{response.status_code}"}}
        return answer

    def send(self, messages: list[OutboundSms]) -> list[Handoff]:
        return [self._send_one(message) for message in messages]

    def _send_one(self, message: OutboundSms) -> Handoff:
        body = {
            "PhoneNumberSet": [f"+86{message.mobile}"],
            "SmsSdkAppId": self.settings.tencent_sdk_app_id,
            "SignName": message.sign_name,
            "TemplateId": message.template_code,
            "TemplateParamSet": list(message.template_params.values()),
            "SessionContext": message.out_id,
        }
        try:
            answer = self._call("SendSms", body)
        except httpx.HTTPError as error:
            return Handoff(message.out_id, transport_outcome(error), error=type(error).__name__)
        if "Error" in answer:
            code = str(answer["Error"].get("Code", ""))
            permanent = code in PERMANENT_ERRORS
            outcome = Outcome.REJECTED_PERMANENT if permanent else Outcome.REJECTED_RETRY
            return Handoff(message.out_id, outcome, error=code[:100])
        statuses = answer.get("SendStatusSet") or [{}]
        status = statuses[0]
        code = str(status.get("Code", ""))
        if code == "Ok":
            return Handoff(
                message.out_id, Outcome.ACCEPTED, provider_message_id=status.get("SerialNo")
            )
        outcome = Outcome.REJECTED_PERMANENT if code in PERMANENT_ERRORS else Outcome.REJECTED_RETRY
        return Handoff(message.out_id, outcome, error=code[:100])

    def lookup(self, out_id: str, mobile: str, sent_on: date) -> LookupAnswer:
        begin = int(datetime.combine(sent_on, day_time.min, UTC).timestamp()) - 86_400
        answer = self._call(
            "PullSmsSendStatusByPhoneNumber",
            {
                "BeginTime": begin,
                "Offset": 0,
                "Limit": 100,
                "PhoneNumber": f"+86{mobile}",
                "SmsSdkAppId": self.settings.tencent_sdk_app_id,
            },
        )
        for status in answer.get("PullSmsSendStatusSet") or []:
            if status.get("SessionContext") == out_id:
                return LookupAnswer(Lookup.ACCEPTED, status.get("SerialNo"))
        return LookupAnswer(Lookup.UNKNOWN)

    @staticmethod
    def parse_receipts(payload: Any) -> list[Receipt]:
        receipts = []
        for item in payload if isinstance(payload, list) else []:
            code = str(item.get("errmsg", ""))
            delivered = item.get("report_status") == "SUCCESS"
            ext = item.get("ext") if isinstance(item.get("ext"), dict) else {}
            receipts.append(
                Receipt(
                    out_id=ext.get("SessionContext") or None,
                    provider_message_id=item.get("sid") or None,
                    delivered=delivered,
                    permanent=not delivered and code in PERMANENT_REPORT_CODES,
                    code=code[:40],
                )
            )
        return receipts

    def close(self) -> None:
        self.client.close()
