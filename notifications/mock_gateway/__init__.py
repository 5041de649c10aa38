"""A mock SMS gateway: a small real HTTP server that speaks the Aliyun-style, Tencent-style and
generic formats, for tests, the demo and the benchmark. ``app`` is the HTTP application,
``server`` runs it (thread or standalone) and talks to its control endpoints."""

from notifications.mock_gateway.app import GatewayConfig, create_gateway_app
from notifications.mock_gateway.server import (
    GatewayClient,
    ThreadedGateway,
    free_port,
    serve_forever,
    sms_settings_for,
)

__all__ = [
    "GatewayClient",
    "GatewayConfig",
    "ThreadedGateway",
    "create_gateway_app",
    "free_port",
    "serve_forever",
    "sms_settings_for",
]
