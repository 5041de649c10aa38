"""Running the mock gateway: in a background thread of this process (tests) or standalone
(``mianshen sms gateway``, the benchmark), always on 127.0.0.1; plus a small HTTP client for its
control endpoints, which works the same whichever way it runs."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import httpx
import uvicorn

from notifications.mock_gateway.app import (
    ALIYUN_KEYS,
    GENERIC_TOKEN,
    TENCENT_KEYS,
    GatewayConfig,
    create_gateway_app,
)

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def sms_settings_for(url: str, providers: str = "generic") -> dict[str, Any]:
    """``SmsSettings`` fields that point every provider client at a gateway at ``url``."""
    access_key, access_secret = next(iter(ALIYUN_KEYS.items()))
    secret_id, secret_key = next(iter(TENCENT_KEYS.items()))
    return {
        "providers": providers,
        "aliyun_base_url": f"{url}/aliyun/",
        "aliyun_access_key_id": access_key,
        "aliyun_access_key_secret": access_secret,
        "tencent_base_url": f"{url}/tencent/",
        "tencent_secret_id": secret_id,
        "tencent_secret_key": secret_key,
        "generic_base_url": f"{url}/generic",
        "generic_token": GENERIC_TOKEN,
    }


class GatewayClient:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10, trust_env=False)

    def configure(self, **changes: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self.http.post("/_control/config", json=changes).json()
        return answer

    def stats(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.http.get("/_control/stats").json()
        return answer

    def messages(self) -> list[dict[str, Any]]:
        answer: list[dict[str, Any]] = self.http.get("/_control/messages").json()
        return answer

    def reset(self) -> None:
        self.http.post("/_control/reset")


class ThreadedGateway:
    """The gateway served by uvicorn in a daemon thread; ``with ThreadedGateway() as gw:``."""

    def __init__(self, config: GatewayConfig | None = None, port: int | None = None) -> None:
        self.app = create_gateway_app(config)
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host=HOST,
                port=self.port,
                log_level="warning",
                access_log=False,
                lifespan="on",
            )
        )
        self.thread = threading.Thread(target=self._run, name="mock-sms-gateway", daemon=True)
        self.client = GatewayClient(self.url)

    def _run(self) -> None:
        asyncio.run(self.server.serve())

    def start(self) -> ThreadedGateway:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("mock SMS gateway did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.client.http.close()

    def __enter__(self) -> ThreadedGateway:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def serve_forever(port: int, config: GatewayConfig) -> None:
    """Standalone: block serving on 127.0.0.1:``port`` until interrupted."""
    uvicorn.run(
        create_gateway_app(config), host=HOST, port=port, log_level="warning", access_log=False
    )
