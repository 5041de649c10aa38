"""The one settings object (pydantic-settings, ``MIANSHEN_`` prefix).

With nothing configured, Mianshen runs embedded: a SQLite file under ``MIANSHEN_HOME`` and tasks
in-process. ``MIANSHEN_DATABASE_URL`` and ``MIANSHEN_REDIS_URL`` switch to PostgreSQL and Celery.
Secrets are ``SecretStr`` (hidden in repr) and the development placeholders are refused in
production (``development`` and ``test`` may use them).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development-only keys. Anything but env=development refuses to start with them.
DEV_DATA_KEYS = "dev1:ZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcHJvZC11c2U="  # 32 bytes (AES-256)
DEV_BLIND_INDEX_KEY = "development-blind-index-key-not-for-production"
DEV_SMS_CALLBACK_TOKEN = "development-sms-callback-token"


class SmsSettings(BaseModel):
    """SMS notifications, set as ``MIANSHEN_SMS__<FIELD>`` (``MIANSHEN_SMS__PROVIDERS=aliyun``).

    ``providers`` is the preference order for failover; ``console`` (the embedded default)
    writes to ``<home>/sms-outbox.log``. Base URLs are settings so tests and the benchmark point
    the real HTTP clients at the mock gateway on 127.0.0.1.
    """

    providers: str = "console"
    aliyun_base_url: str = "https://dysmsapi.aliyuncs.com"
    aliyun_access_key_id: str = ""
    aliyun_access_key_secret: SecretStr = SecretStr("")
    aliyun_region: str = "cn-hangzhou"
    tencent_base_url: str = "https://sms.tencentcloudapi.com"
    tencent_secret_id: str = ""
    tencent_secret_key: SecretStr = SecretStr("")
    tencent_sdk_app_id: str = "1400000000"
    tencent_region: str = "ap-guangzhou"
    generic_base_url: str = "http://127.0.0.1:9090/generic"
    generic_token: SecretStr = SecretStr("")
    callback_token: SecretStr = SecretStr(DEV_SMS_CALLBACK_TOKEN)
    connect_timeout_seconds: float = 2.0
    read_timeout_seconds: float = 10.0
    max_attempts: int = 6
    backoff_base_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0
    # A message claimed longer ago than this is reconciled with its provider (worker died).
    claim_lease_seconds: float = 120.0
    batch_size: int = 500
    send_concurrency: int = 8
    per_recipient_per_hour: int = 5
    per_recipient_per_day: int = 10
    quiet_hours_enabled: bool = True
    quiet_start_hour: int = 21
    quiet_end_hour: int = 8
    timezone: str = "Asia/Shanghai"
    failover_error_rate: float = 0.5
    failover_min_samples: int = 10
    health_window_seconds: int = 60
    hotline: str = "12345"


class AuthSettings(BaseModel):
    """Sign-in and API keys, set as ``MIANSHEN_AUTH__<FIELD>`` (``MIANSHEN_AUTH__COOKIE_SECURE``).

    Sessions expire after ``session_absolute_minutes`` whatever happens and after
    ``session_idle_minutes`` without a request. Wrong staff passwords lock the account
    (``login_max_failures`` → ``login_lock_minutes``); one-time codes live ``code_ttl_seconds``,
    allow ``code_max_attempts`` guesses, and ``identity_max_failures`` wrong codes lock the ID
    number or USCC for ``identity_lock_minutes``. API keys resolved from the database are cached
    in-process for ``api_key_cache_seconds`` (the most a revocation can lag), live sessions for
    ``session_cache_seconds`` (the most a sign-out can lag in another worker process; 0: off).
    Spent sessions and sign-in codes are deleted ``purge_after_hours`` after they ended.
    A client address with more than ``ip_api_key_failures_per_minute`` wrong API keys is refused
    for the rest of the minute.
    """

    cookie_name: str = "mianshen_session"
    cookie_secure: bool = False
    session_absolute_minutes: int = 12 * 60
    session_idle_minutes: int = 30
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    code_ttl_seconds: int = 300
    code_max_attempts: int = 5
    code_resend_seconds: int = 60
    identity_max_failures: int = 10
    identity_lock_minutes: int = 30
    ip_code_requests_per_minute: int = 10
    ip_sign_ins_per_minute: int = 30
    ip_api_key_failures_per_minute: int = 30
    api_key_cache_seconds: float = 3.0
    session_cache_seconds: float = 3.0
    purge_after_hours: int = 24
    api_key_default_rate: int = 100
    sms_sign_name: str = "免申即享"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MIANSHEN_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    env: Literal["development", "test", "production"] = "development"
    home: Path = Path("var")
    database_url: str | None = None
    redis_url: str | None = None
    log_level: str = "INFO"
    # "kid:base64key;kid2:base64key" -- AES-256-GCM keys, the first one encrypts, all decrypt.
    data_keys: SecretStr = SecretStr(DEV_DATA_KEYS)
    # Keyed BLAKE2b key for blind indexes and pseudonymous subject keys.
    blind_index_key: SecretStr = SecretStr(DEV_BLIND_INDEX_KEY)
    # Rows per batch when importing or evaluating (bounded memory at any city size).
    batch_rows: int = 200_000
    # Audit log: hash of a new log (an existing log keeps its own), and optionally the Ed25519
    # signing key as base64 of its 32-byte seed (unset: a generated key stored encrypted).
    audit_hash_algorithm: Literal["sha256", "sm3"] = "sha256"
    audit_signing_key: SecretStr | None = None
    # Auto-grant pipeline (eligibility.sweeps / grants / payments).
    # Dotted path "module:attribute" of the evaluation backend the sweep calls (the seam to the
    # policy engine); tests point it at a backend written in test code.
    sweep_backend: str = "eligibility.sweeps.engine_backend:backend"
    sweep_shards: int = 4  # shards per subject kind in a distributed full sweep
    sweep_lease_seconds: int = 300  # a shard whose lease expires is redone by another worker
    backpay_months: int = 12  # how far back missed periods are paid when data arrives late
    review_amount_threshold_fen: int = 1_000_000  # grants above this go to manual review
    sms: SmsSettings = SmsSettings()
    auth: AuthSettings = AuthSettings()

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        if self.env == "production":
            placeholders = {
                "MIANSHEN_DATA_KEYS": self.data_keys.get_secret_value() == DEV_DATA_KEYS,
                "MIANSHEN_BLIND_INDEX_KEY": (
                    self.blind_index_key.get_secret_value() == DEV_BLIND_INDEX_KEY
                ),
                "MIANSHEN_SMS__CALLBACK_TOKEN": (
                    self.sms.callback_token.get_secret_value() == DEV_SMS_CALLBACK_TOKEN
                ),
            }
            bad = [name for name, is_placeholder in placeholders.items() if is_placeholder]
            if bad:
                raise ValueError(f"placeholder secret(s) not allowed in production: {bad}")
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'mianshen.db').resolve()}"

    @property
    def tasks_eager(self) -> bool:
        return not self.redis_url


@lru_cache
def get_settings() -> Settings:
    settings = Settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    return settings
