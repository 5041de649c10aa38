"""The mock SMS gateway's HTTP application (Starlette): it speaks the Aliyun-style RPC format
(HMAC-SHA1 checked), the Tencent-style API 3.0 format (TC3-HMAC-SHA256 checked) and the generic
JSON format; it can fail a share of requests, be slow, or accept and then not answer in time
(an ambiguous hand-off); it pushes delivery reports back to a callback URL in each provider's
format; and it records every message it accepted, so duplicates can be counted.

Control endpoints under ``/_control`` configure it and report what it saw. It holds mobile
numbers in memory only (it plays the provider) and never logs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.privacy import mask_mobile
from notifications.providers.signing import aliyun_verify, tc3_verify

ALIYUN_KEYS = {"mock-access-key": "mock-access-secret"}
TENCENT_KEYS = {"mock-secret-id": "mock-secret-key"}
GENERIC_TOKEN = "mock-generic-token"


@dataclass
class GatewayConfig:
    fail_rate: float = 0.0  # share of requests answered with an error (nothing accepted)
    delay_ms: int = 0  # added to every send
    ambiguous_rate: float = 0.0  # share of requests accepted but answered only after ...
    ambiguous_delay_ms: int = 3000  # ... this long (longer than the client's read timeout)
    dedupe: bool = False  # answer a repeated out_id with the first result instead of sending
    delivered_share: float = 1.0  # share of accepted messages whose report says delivered
    report_delay_ms: int = 100
    callback_url: str | None = None  # e.g. http://127.0.0.1:8000/api/v1/notifications/receipts
    callback_token: str = ""
    seed: int = 1
    down: list[str] = field(default_factory=list)  # providers whose every request fails


@dataclass
class Accepted:
    provider: str
    out_id: str
    message_id: str
    mobile: str
    content: str
    at: float


@dataclass
class GatewayState:
    config: GatewayConfig = field(default_factory=GatewayConfig)
    accepted: dict[str, list[Accepted]] = field(default_factory=dict)
    requests: int = 0
    failed_requests: int = 0
    bad_signatures: int = 0
    deduped: int = 0
    reports_sent: int = 0
    report_failures: int = 0
    first_accept: float | None = None
    last_accept: float | None = None
    pending_reports: list[tuple[float, Accepted, int]] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(1))

    def stats(self) -> dict[str, Any]:
        copies = [len(items) for items in self.accepted.values()]
        return {
            "requests": self.requests,
            "failed_requests": self.failed_requests,
            "bad_signatures": self.bad_signatures,
            "accepted": sum(copies),
            "unique": len(copies),
            "duplicates": sum(c - 1 for c in copies if c > 1),
            "deduped": self.deduped,
            "reports_sent": self.reports_sent,
            "report_failures": self.report_failures,
            "pending_reports": len(self.pending_reports),
            "first_accept": self.first_accept,
            "last_accept": self.last_accept,
        }

    def accept(self, provider: str, out_id: str, mobile: str, content: str) -> Accepted:
        if self.config.dedupe and out_id in self.accepted:
            self.deduped += 1
            return self.accepted[out_id][0]
        now = time.time()
        record = Accepted(provider, out_id, uuid.uuid4().hex[:20], mobile, content, now)
        self.accepted.setdefault(out_id, []).append(record)
        self.first_accept = self.first_accept or now
        self.last_accept = now
        if self.config.callback_url:
            self.pending_reports.append((now + self.config.report_delay_ms / 1000, record, 0))
        return record

    def find(self, out_id: str) -> Accepted | None:
        items = self.accepted.get(out_id)
        return items[0] if items else None


def _state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


async def _before_send(state: GatewayState, provider: str) -> str | None:
    """``"fail"``, ``"ambiguous"`` or ``None`` for this request, after the configured delay."""
    state.requests += 1
    if state.config.delay_ms:
        await asyncio.sleep(state.config.delay_ms / 1000)
    draw = state.rng.random()
    if provider in state.config.down or draw < state.config.fail_rate:
        state.failed_requests += 1
        return "fail"
    if draw < state.config.fail_rate + state.config.ambiguous_rate:
        return "ambiguous"
    return None


async def _ambiguous_pause(state: GatewayState, verdict: str | None) -> None:
    if verdict == "ambiguous":
        await asyncio.sleep(state.config.ambiguous_delay_ms / 1000)


async def aliyun(request: Request) -> Response:
    state = _state(request)
    params = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    secret = ALIYUN_KEYS.get(params.get("AccessKeyId", ""))
    if secret is None or not aliyun_verify(secret, request.method, params):
        state.bad_signatures += 1
        return JSONResponse({"Code": "SignatureDoesNotMatch", "Message": "bad signature"}, 400)
    if params.get("Action") == "QuerySendDetails":
        matches = [
            record
            for items in state.accepted.values()
            for record in items[:1]
            if record.provider == "aliyun" and record.mobile == params.get("PhoneNumber")
        ]
        details = [{"OutId": r.out_id, "BizId": r.message_id, "SendStatus": 3} for r in matches]
        return JSONResponse(
            {
                "Code": "OK",
                "TotalCount": len(details),
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": details},
            }
        )
    verdict = await _before_send(state, "aliyun")
    if verdict == "fail":
        return JSONResponse({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "injected failure"})
    if not params.get("PhoneNumbers", "").isdigit():
        return JSONResponse({"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "bad number"})
    record = state.accept(
        "aliyun",
        params.get("OutId", ""),
        params["PhoneNumbers"],
        params.get("TemplateCode", "") + params.get("TemplateParam", ""),
    )
    await _ambiguous_pause(state, verdict)
    return JSONResponse(
        {"Code": "OK", "Message": "OK", "BizId": record.message_id, "RequestId": uuid.uuid4().hex}
    )


async def tencent(request: Request) -> Response:
    state = _state(request)
    payload = await request.body()
    try:
        timestamp = int(request.headers.get("x-tc-timestamp", "0"))
    except ValueError:
        timestamp = 0
    if not tc3_verify(
        request.headers.get("authorization", ""),
        TENCENT_KEYS,
        "sms",
        request.headers.get("host", ""),
        timestamp,
        payload,
        request.headers.get("content-type", ""),
    ):
        state.bad_signatures += 1
        return JSONResponse(
            {
                "Response": {
                    "Error": {"Code": "AuthFailure.SignatureFailure", "Message": "bad signature"}
                }
            }
        )
    body = json.loads(payload)
    action = request.headers.get("x-tc-action", "")
    if action == "PullSmsSendStatusByPhoneNumber":
        return JSONResponse(
            {"Response": {"PullSmsSendStatusSet": [], "RequestId": uuid.uuid4().hex}}
        )
    verdict = await _before_send(state, "tencent")
    if verdict == "fail":
        return JSONResponse(
            {
                "Response": {
                    "Error": {"Code": "InternalError.Timeout", "Message": "injected failure"}
                }
            }
        )
    phone = (body.get("PhoneNumberSet") or [""])[0].removeprefix("+86")
    record = state.accept(
        "tencent",
        body.get("SessionContext", ""),
        phone,
        str(body.get("TemplateId")) + json.dumps(body.get("TemplateParamSet")),
    )
    await _ambiguous_pause(state, verdict)
    status = {
        "SerialNo": record.message_id,
        "PhoneNumber": f"+86{phone}",
        "Fee": 1,
        "SessionContext": record.out_id,
        "Code": "Ok",
        "Message": "send success",
    }
    return JSONResponse({"Response": {"SendStatusSet": [status], "RequestId": uuid.uuid4().hex}})


def _generic_authorised(request: Request) -> bool:
    return request.headers.get("authorization", "") == f"Bearer {GENERIC_TOKEN}"


async def generic_send(request: Request) -> Response:
    state = _state(request)
    if not _generic_authorised(request):
        state.bad_signatures += 1
        return JSONResponse({"error": "unauthorised"}, 401)
    messages = (await request.json()).get("messages", [])
    verdict = await _before_send(state, "generic")
    if verdict == "fail":
        return JSONResponse({"error": "injected failure"}, 503)
    results = []
    for message in messages:
        record = state.accept("generic", message["out_id"], message["mobile"], message["body"])
        results.append(
            {"out_id": record.out_id, "status": "accepted", "message_id": record.message_id}
        )
    await _ambiguous_pause(state, verdict)
    return JSONResponse({"results": results})


async def generic_lookup(request: Request) -> Response:
    state = _state(request)
    if not _generic_authorised(request):
        return JSONResponse({"error": "unauthorised"}, 401)
    record = state.find(request.path_params["out_id"])
    if record is None:
        return JSONResponse({"error": "not found"}, 404)
    return JSONResponse(
        {"out_id": record.out_id, "status": "accepted", "message_id": record.message_id}
    )


async def control_config(request: Request) -> Response:
    state = _state(request)
    changes = await request.json() if request.method == "POST" else {}
    for name, value in changes.items():
        if hasattr(state.config, name):
            setattr(state.config, name, value)
    if "seed" in changes:
        state.rng = random.Random(changes["seed"])
    return JSONResponse(asdict(state.config))


async def control_stats(request: Request) -> Response:
    state = _state(request)
    return JSONResponse(state.stats())


async def control_messages(request: Request) -> Response:
    state = _state(request)
    return JSONResponse(
        [
            {
                "provider": r.provider,
                "out_id": r.out_id,
                "message_id": r.message_id,
                "mobile": mask_mobile(r.mobile),
                "content": r.content,
            }
            for items in state.accepted.values()
            for r in items
        ]
    )


async def control_reset(request: Request) -> Response:
    config = _state(request).config
    request.app.state.gateway = GatewayState(config=config, rng=random.Random(config.seed))
    return JSONResponse({"reset": True})


def _report_body(provider: str, records: list[tuple[Accepted, bool]]) -> Any:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    if provider == "aliyun":
        return [
            {
                "phone_number": r.mobile,
                "send_time": stamp,
                "report_time": stamp,
                "success": ok,
                "err_code": "DELIVERED" if ok else "MK:0001",
                "err_msg": "用户接收成功" if ok else "关机",
                "sms_size": "1",
                "biz_id": r.message_id,
                "out_id": r.out_id,
            }
            for r, ok in records
        ]
    if provider == "tencent":
        return [
            {
                "user_receive_time": stamp,
                "nationcode": "86",
                "mobile": r.mobile,
                "report_status": "SUCCESS" if ok else "FAIL",
                "errmsg": "DELIVRD" if ok else "MK:0001",
                "description": "用户短信送达成功" if ok else "关机",
                "sid": r.message_id,
            }
            for r, ok in records
        ]
    return {
        "receipts": [
            {
                "out_id": r.out_id,
                "message_id": r.message_id,
                "status": "delivered" if ok else "temporary_failure",
                "code": "DELIVRD" if ok else "MK:0001",
            }
            for r, ok in records
        ]
    }


def _acknowledged(provider: str, response: httpx.Response) -> bool:
    if response.status_code != 200:
        return False
    answer = response.json()
    if provider == "aliyun":
        return bool(answer.get("code") == 0)
    if provider == "tencent":
        return bool(answer.get("result") == 0)
    return True


async def _push_reports(app: Starlette, client: httpx.AsyncClient) -> None:
    state: GatewayState = app.state.gateway
    now = time.time()
    due = [item for item in state.pending_reports if item[0] <= now]
    if not due or not state.config.callback_url:
        return
    state.pending_reports = [item for item in state.pending_reports if item[0] > now]
    by_provider: dict[str, list[tuple[Accepted, int]]] = {}
    for _, record, tries in due:
        by_provider.setdefault(record.provider, []).append((record, tries))
    for provider, items in by_provider.items():
        for start in range(0, len(items), 500):
            chunk = items[start : start + 500]
            outcomes = [(r, state.rng.random() < state.config.delivered_share) for r, _ in chunk]
            url = f"{state.config.callback_url.rstrip('/')}/{provider}"
            try:
                response = await client.post(
                    url,
                    json=_report_body(provider, outcomes),
                    params={"token": state.config.callback_token},
                )
                ok = _acknowledged(provider, response)
            except httpx.HTTPError:
                ok = False
            if ok:
                state.reports_sent += len(chunk)
                continue
            state.report_failures += len(chunk)
            state.pending_reports.extend(
                (now + 1.0, r, tries + 1) for r, tries in chunk if tries < 5
            )


async def _report_loop(app: Starlette) -> None:
    async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
        while True:
            await asyncio.sleep(0.1)
            try:
                await _push_reports(app, client)
            except Exception:  # keep pushing whatever happens to one batch
                app.state.gateway.report_failures += 1


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    task = asyncio.create_task(_report_loop(app))
    yield
    task.cancel()


def create_gateway_app(config: GatewayConfig | None = None) -> Starlette:
    config = config or GatewayConfig()
    app = Starlette(
        routes=[
            Route("/aliyun/", aliyun, methods=["POST"]),
            Route("/tencent/", tencent, methods=["POST"]),
            Route("/generic/messages", generic_send, methods=["POST"]),
            Route("/generic/messages/{out_id}", generic_lookup, methods=["GET"]),
            Route("/_control/config", control_config, methods=["GET", "POST"]),
            Route("/_control/stats", control_stats, methods=["GET"]),
            Route("/_control/messages", control_messages, methods=["GET"]),
            Route("/_control/reset", control_reset, methods=["POST"]),
        ],
        lifespan=_lifespan,
    )
    app.state.gateway = GatewayState(config=config, rng=random.Random(config.seed))
    return app
