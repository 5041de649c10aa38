"""Request signing of the Chinese SMS providers, shared by the clients and the mock gateway.

* Aliyun RPC (Dysmsapi ``SendSms``): ``SignatureMethod=HMAC-SHA1``, ``SignatureVersion=1.0``;
  StringToSign = ``METHOD&%2F&`` + percent-encoded canonicalised query (parameters sorted by
  name, RFC 3986 encoding: space → ``%20``, ``*`` → ``%2A``, ``~`` kept); the key is
  ``AccessKeySecret + "&"``; the signature is base64 of the HMAC.
* Tencent Cloud API 3.0 (SMS ``2021-01-11``): ``TC3-HMAC-SHA256`` over the canonical request
  (method, ``/``, empty query, ``content-type`` and ``host`` headers, SHA-256 of the payload),
  with the key derived ``TC3+SecretKey → date → service → "tc3_request"``.

Both are checked against the providers' documented examples in ``tests/test_sms_providers.py``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import quote

TC3_ALGORITHM = "TC3-HMAC-SHA256"
TC3_CONTENT_TYPE = "application/json; charset=utf-8"


def percent_encode(value: str) -> str:
    return quote(value, safe="-_.~")


def aliyun_string_to_sign(method: str, params: dict[str, str]) -> str:
    canonical = "&".join(
        f"{percent_encode(key)}={percent_encode(params[key])}"
        for key in sorted(params)
        if key != "Signature"
    )
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical)}"


def aliyun_signature(secret: str, method: str, params: dict[str, str]) -> str:
    digest = hmac.new(
        (secret + "&").encode(), aliyun_string_to_sign(method, params).encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode()


def aliyun_verify(secret: str, method: str, params: dict[str, str]) -> bool:
    expected = aliyun_signature(secret, method, params)
    return hmac.compare_digest(expected, params.get("Signature", ""))


def _hmac256(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def tc3_canonical_request(host: str, payload: bytes, content_type: str = TC3_CONTENT_TYPE) -> str:
    return "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{content_type}\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(payload).hexdigest(),
        ]
    )


def tc3_signature(
    secret_key: str,
    service: str,
    host: str,
    timestamp: int,
    payload: bytes,
    content_type: str = TC3_CONTENT_TYPE,
) -> tuple[str, str]:
    """Returns ``(credential_scope, signature)``."""
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{day}/{service}/tc3_request"
    canonical = tc3_canonical_request(host, payload, content_type)
    string_to_sign = "\n".join(
        [TC3_ALGORITHM, str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac256(_hmac256(_hmac256(("TC3" + secret_key).encode(), day), service), "tc3_request")
    return scope, hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def tc3_authorization(
    secret_id: str, secret_key: str, service: str, host: str, timestamp: int, payload: bytes
) -> str:
    scope, signature = tc3_signature(secret_key, service, host, timestamp, payload)
    return (
        f"{TC3_ALGORITHM} Credential={secret_id}/{scope}, "
        f"SignedHeaders=content-type;host, Signature={signature}"
    )


def tc3_verify(
    authorization: str,
    secret_ids: dict[str, str],
    service: str,
    host: str,
    timestamp: int,
    payload: bytes,
    content_type: str,
) -> bool:
    """Check an ``Authorization`` header against the known ``secret_id → secret_key`` pairs."""
    try:
        algorithm, rest = authorization.split(" ", 1)
        fields = dict(part.strip().split("=", 1) for part in rest.split(","))
        secret_id = fields["Credential"].split("/", 1)[0]
    except (ValueError, KeyError):
        return False
    secret_key = secret_ids.get(secret_id)
    if algorithm != TC3_ALGORITHM or secret_key is None:
        return False
    _, expected = tc3_signature(secret_key, service, host, timestamp, payload, content_type)
    return hmac.compare_digest(expected, fields.get("Signature", ""))
