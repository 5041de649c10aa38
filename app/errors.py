"""The one error hierarchy. Expected business failures carry a 4xx status and a clear message
(Chinese ``user_message`` for end users, English ``str()`` for logs and the CLI)."""

from __future__ import annotations


class MianshenError(Exception):
    status_code = 400

    def __init__(self, message: str, user_message: str | None = None) -> None:
        super().__init__(message)
        self.user_message = user_message or message


class NotFound(MianshenError):
    status_code = 404


class Conflict(MianshenError):
    status_code = 409


class Unauthenticated(MianshenError):
    status_code = 401


class Forbidden(MianshenError):
    status_code = 403


class ValidationFailed(MianshenError):
    status_code = 422


class RateLimited(MianshenError):
    """Too many requests; ``retry_after_seconds`` becomes the ``Retry-After`` header."""

    status_code = 429

    def __init__(
        self, message: str, user_message: str | None = None, retry_after_seconds: int = 1
    ) -> None:
        super().__init__(message, user_message)
        self.retry_after_seconds = max(1, retry_after_seconds)


class ServiceUnavailable(MianshenError):
    """A dependency (the database) refuses connections or has none free: 503, try again."""

    status_code = 503
