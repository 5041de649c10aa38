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

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development-only keys. Anything but env=development refuses to start with them.
DEV_DATA_KEYS = "dev1:ZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcHJvZHVjdCE="  # 32 bytes
DEV_BLIND_INDEX_KEY = "development-blind-index-key-not-for-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MIANSHEN_", env_file=".env", extra="ignore")

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
    # Auto-grant pipeline (eligibility.sweeps / grants / payments).
    # Dotted path "module:attribute" of the evaluation backend the sweep calls (the seam to the
    # policy engine); tests point it at a backend written in test code.
    sweep_backend: str = "eligibility.sweeps.engine_backend:backend"
    sweep_shards: int = 4  # shards per subject kind in a distributed full sweep
    sweep_lease_seconds: int = 300  # a shard whose lease expires is redone by another worker
    backpay_months: int = 12  # how far back missed periods are paid when data arrives late
    review_amount_threshold_fen: int = 1_000_000  # grants above this go to manual review

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        if self.env == "production":
            placeholders = {
                "MIANSHEN_DATA_KEYS": self.data_keys.get_secret_value() == DEV_DATA_KEYS,
                "MIANSHEN_BLIND_INDEX_KEY": (
                    self.blind_index_key.get_secret_value() == DEV_BLIND_INDEX_KEY
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
