"""Aliyun-style client: Dysmsapi ``SendSms`` / ``QuerySendDetails`` (RPC, version 2017-05-25,
HMAC-SHA1 signature) and the ``SmsReport`` delivery-report format. ``OutId`` carries our unique
key, so a report or a query finds the notification without any mobile number."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
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
from notifications.providers.signing import aliyun_signature

API_VERSION = "2017-05-25"
# Error codes after which the same request can never succeed.
PERMANENT_ERRORS = frozenset(
    {
        "isv.MOBILE_NUMBER_ILLEGAL",
        "isv.SMS_SIGNATURE_ILLEGAL",
        "isv.SMS_TEMPLATE_ILLEGAL",
        "isv.TEMPLATE_MISSING_PARAMETERS",
        "isv.INVALID_PARAMETERS",
        "isv.BLACK_KEY_CONTROL_LIMIT",
    }
)
# Report codes for a number that does not exist or was deactivated (空号/停机): permanent.
PERMANENT_REPORT_CODES = frozenset({"MN:0001", "MN:0011", "IC:0001"})


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AliyunSms(SmsProvider):
    kind = ProviderKind.ALIYUN
    max_batch = 1

    def __init__(self, settings: SmsSettings) -> None:
        super().__init__(settings)
        self.client = http_client(settings)
        self.url = settings.aliyun_base_url.rstrip("/") + "/"

    def _signed(self, action: str, params: dict[str, str]) -> dict[str, str]:
        common = {
            "AccessKeyId": self.settings.aliyun_access_key_id,
            "Action": action,
            "Format": "JSON",
            "RegionId": self.settings.aliyun_region,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": _timestamp(),
            "Version": API_VERSION,
        }
        signed = {**common, **params}
        secret = self.settings.aliyun_access_key_secret.get_secret_value()
        signed["Signature"] = aliyun_signature(secret, "POST", signed)
        return signed

    def _call(self, action: str, params: dict[str, str]) -> dict[str, Any]:
        response = self.client.post(self.url, data=self._signed(action, params))
        try:
            answer: dict[str, Any] = response.json()
        except ValueError:
            answer = {"Code": f"HTTP{response.status_code}", "Message": "non-JSON answer"}
        return answer

    def send(self, messages: list[OutboundSms]) -> list[Handoff]:
        return [self._send_one(message) for message in messages]

    def _send_one(self, message: OutboundSms) -> Handoff:
        params = {
            "PhoneNumbers": message.mobile,
            "SignName": message.sign_name,
            "TemplateCode": message.template_code,
            "TemplateParam": json.dumps(message.template_params, ensure_ascii=False),
            "OutId": message.out_id,
        }
        try:
            answer = self._call("SendSms", params)
        except httpx.HTTPError as error:
            return Handoff(message.out_id, transport_outcome(error), error=type(error).__name__)
        code = str(answer.get("Code", ""))
        if code == "OK":
            return Handoff(
                message.out_id, Outcome.ACCEPTED, provider_message_id=answer.get("BizId")
            )
        outcome = Outcome.REJECTED_PERMANENT if code in PERMANENT_ERRORS else Outcome.REJECTED_RETRY
        return Handoff(message.out_id, outcome, error=code[:100])

    def lookup(self, out_id: str, mobile: str, sent_on: date) -> LookupAnswer:
        page = 1
        while True:
            answer = self._call(
                "QuerySendDetails",
                {
                    "PhoneNumber": mobile,
                    "SendDate": sent_on.strftime("%Y%m%d"),
                    "PageSize": "50",
                    "CurrentPage": str(page),
                },
            )
            if answer.get("Code") != "OK":
                return LookupAnswer(Lookup.UNKNOWN)
            details = answer.get("SmsSendDetailDTOs", {}).get("SmsSendDetailDTO", [])
            for detail in details:
                if detail.get("OutId") == out_id:
                    return LookupAnswer(Lookup.ACCEPTED, detail.get("BizId"))
            if page * 50 >= int(answer.get("TotalCount", 0)):
                return LookupAnswer(Lookup.NOT_ACCEPTED)
            page += 1

    @staticmethod
    def parse_receipts(payload: Any) -> list[Receipt]:
        receipts = []
        for item in payload if isinstance(payload, list) else []:
            code = str(item.get("err_code", ""))
            delivered = item.get("success") in (True, "true")
            receipts.append(
                Receipt(
                    out_id=item.get("out_id") or None,
                    provider_message_id=item.get("biz_id") or None,
                    delivered=delivered,
                    permanent=not delivered and code in PERMANENT_REPORT_CODES,
                    code=code[:40],
                )
            )
        return receipts

    def close(self) -> None:
        self.client.close()
