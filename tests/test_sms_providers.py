"""Provider signing against the providers' documented examples, and the mock gateway refusing
requests whose signature does not check out (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date

import pytest

from notifications.mock_gateway import ThreadedGateway
from notifications.providers.aliyun import AliyunSms
from notifications.providers.base import Lookup, OutboundSms, Outcome
from notifications.providers.generic import GenericHttpSms
from notifications.providers.signing import aliyun_signature, tc3_signature
from notifications.providers.tencent import TencentSms
from tests.sms_support import sms_settings

MESSAGE = OutboundSms(
    out_id="k" * 32,
    mobile="13812345678",
    body="【禅城区民政局】您好",
    sign_name="禅城区民政局",
    template_code="default.granted",
    template_params={"benefit": "高龄津贴"},
)


def test_aliyun_signature_matches_documented_example() -> None:
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "Version": "2017-05-25",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "TemplateCode": "SMS_71390007",
        "Timestamp": "2017-07-12T02:42:19Z",
        "PhoneNumbers": "15300000001",
        "TemplateParam": '{"customer":"test"}',
        "OutId": "123",
    }
    assert aliyun_signature("testSecret", "GET", params) == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_tc3_signature_matches_documented_example() -> None:
    payload = (
        b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    )
    assert hashlib.sha256(payload).hexdigest().startswith("35e9c5b0e3ae6753")
    scope, signature = tc3_signature(
        "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "cvm", "cvm.tencentcloudapi.com", 1551113065, payload
    )
    assert scope == "2019-02-25/cvm/tc3_request"
    assert signature == "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"


@pytest.fixture(scope="module")
def gateway() -> Iterator[ThreadedGateway]:
    with ThreadedGateway() as served:
        yield served


@pytest.mark.parametrize("client_class", [AliyunSms, TencentSms, GenericHttpSms])
def test_signed_request_accepted_and_found_by_our_key(
    gateway: ThreadedGateway, client_class: type
) -> None:
    gateway.client.reset()
    client = client_class(sms_settings(gateway.url))
    [handoff] = client.send([MESSAGE])
    assert handoff.outcome is Outcome.ACCEPTED and handoff.provider_message_id
    assert gateway.client.stats()["accepted"] == 1
    answer = client.lookup(MESSAGE.out_id, MESSAGE.mobile, date.today())
    assert answer.result is (Lookup.UNKNOWN if client_class is TencentSms else Lookup.ACCEPTED)


@pytest.mark.parametrize("client_class", [AliyunSms, TencentSms, GenericHttpSms])
def test_wrong_secret_is_refused_by_the_gateway(
    gateway: ThreadedGateway, client_class: type
) -> None:
    gateway.client.reset()
    client = client_class(
        sms_settings(
            gateway.url,
            aliyun_access_key_secret="wrong",
            tencent_secret_key="wrong",
            generic_token="wrong",
        )
    )
    [handoff] = client.send([MESSAGE])
    assert handoff.outcome is not Outcome.ACCEPTED
    stats = gateway.client.stats()
    assert stats["accepted"] == 0 and stats["bad_signatures"] == 1


def test_connection_refused_is_known_not_accepted_and_timeout_is_unknown(
    gateway: ThreadedGateway,
) -> None:
    gateway.client.reset()
    closed = GenericHttpSms(sms_settings("http://127.0.0.1:9"))
    assert closed.send([MESSAGE])[0].outcome is Outcome.REJECTED_RETRY
    gateway.client.configure(ambiguous_rate=1.0, ambiguous_delay_ms=1500)
    try:
        slow = GenericHttpSms(sms_settings(gateway.url, read_timeout_seconds=0.5))
        assert slow.send([MESSAGE])[0].outcome is Outcome.UNKNOWN
    finally:
        gateway.client.configure(ambiguous_rate=0.0)
