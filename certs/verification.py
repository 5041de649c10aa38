"""Offline verification of a certificate token: signature against the issuer's published keys
(a key retired before the certificate's issue date does not vouch for it), identifier and
check character, validity dates, and the issuer's signed status list when given (a list past
its ``validUntil`` is stale and not trusted). Pure functions; no database access. Online
verification (``service.verify_online``) feeds this the current keys and a fresh list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from certs import signing, status_list
from certs.identifiers import InvalidIdentifier, parse_identifier
from certs.schemas import PublishedIssuer, PublishedKey, VerificationResult

MESSAGES = {
    "ok": "证照有效",
    "bad_token": "证照码无法识别",
    "unknown_issuer": "颁发机构不在可信名单中",
    "unknown_key": "签名密钥未公布，无法验证",
    "bad_signature": "证照签名无效，内容可能被篡改",
    "bad_identifier": "证照标识校验失败",
    "not_yet_valid": "证照尚未生效",
    "expired": "证照已过有效期",
    "revoked": "证照已被注销",
    "suspended": "证照已被暂停使用",
    "key_retired": "签名密钥停用后签发的证照无效",
    "status_list_invalid": "状态列表签名无效，无法确认证照状态",
    "status_list_stale": "状态列表已过期，请获取最新状态列表",
    "not_found": "未找到该证照",
}


def result(outcome: str, **extra: Any) -> VerificationResult:
    return VerificationResult(valid=outcome == "ok", outcome=outcome, message=MESSAGES[outcome],
                              **extra)


def _as_issuers(issuers: Sequence[PublishedIssuer | Mapping[str, Any]]) -> dict[str, Any]:
    """Trusted issuers by code; a malformed entry is simply not trusted."""
    trusted: dict[str, PublishedIssuer] = {}
    for entry in issuers if isinstance(issuers, Sequence) else ():
        try:
            issuer = (entry if isinstance(entry, PublishedIssuer)
                      else PublishedIssuer.model_validate(entry))
        except ValidationError:
            continue
        trusted[issuer.code] = issuer
    return trusted


def _key(issuer: PublishedIssuer, key_id: str) -> PublishedKey | None:
    return next((k for k in issuer.keys if k.key_id == key_id), None)


def _in_service(key: PublishedKey, day: date) -> bool:
    """A retired key vouches only for what it signed up to its retirement day."""
    return key.retired_at is None or day <= key.retired_at.date()


def _check_status(issuer: PublishedIssuer, list_token: str, index: int,
                  today: date) -> str:
    try:
        body, payload, signature, key_id = signing.decode_token(list_token)
        key = _key(issuer, key_id)
        if (payload.get("issuer") != issuer.code or key is None
                or not signing.verify(key.algorithm, key.public_key, signature, body)):
            return "status_list_invalid"
        if not _in_service(key, datetime.fromisoformat(payload["validFrom"]).date()):
            return "status_list_invalid"
        if today > datetime.fromisoformat(payload["validUntil"]).date():
            return "status_list_stale"
        for purpose, outcome in (("revocation", "revoked"), ("suspension", "suspended")):
            if status_list.is_set(status_list.decode(payload[purpose]), index):
                return outcome
    except (signing.TokenError, status_list.StatusListError, KeyError, TypeError, ValueError):
        return "status_list_invalid"
    return "ok"


def verify_token(
    token: str, issuers: Sequence[PublishedIssuer | Mapping[str, Any]],
    status_lists: Mapping[str, str] | None = None, today: date | None = None,
) -> VerificationResult:
    """Verify a certificate token offline from published issuer keys (and status-list tokens,
    issuer code → token, when given; without them ``status_checked`` is False)."""
    try:
        body, payload, signature, key_id = signing.decode_token(token)
    except signing.TokenError:
        return result("bad_token")
    issuer = _as_issuers(issuers).get(str(payload.get("issuerCode")))
    if issuer is None:
        return result("unknown_issuer", key_id=key_id)
    key = _key(issuer, key_id)
    if key is None:
        return result("unknown_key", key_id=key_id)
    if not signing.verify(key.algorithm, key.public_key, signature, body):
        return result("bad_signature", key_id=key_id)
    seen = {"key_id": key_id, "certificate": payload}
    try:
        identifier = parse_identifier(str(payload.get("id")))
        issued_on = date.fromisoformat(payload["issuedOn"])
        valid_from = date.fromisoformat(payload["validFrom"])
        valid_to = date.fromisoformat(payload["validTo"]) if payload.get("validTo") else None
        index = int(payload["statusIndex"])
    except (InvalidIdentifier, KeyError, TypeError, ValueError):
        return result("bad_identifier", **seen)
    if identifier.issuer_code != issuer.code:
        return result("bad_identifier", **seen)
    if not _in_service(key, issued_on):
        return result("key_retired", **seen)
    today = today or datetime.now(UTC).date()
    if today < valid_from:
        return result("not_yet_valid", **seen)
    if valid_to is not None and today > valid_to:
        return result("expired", **seen)
    list_token = (status_lists or {}).get(issuer.code)
    if list_token is None:
        return result("ok", **seen)
    return result(_check_status(issuer, list_token, index, today), status_checked=True, **seen)
