"""SMS providers: one strategy per provider behind :class:`SmsProvider`, and the registry keyed
by :class:`ProviderKind`. ``providers_from_settings`` builds them in failover order from
``MIANSHEN_SMS__PROVIDERS``."""

from __future__ import annotations

from app.settings import SmsSettings
from notifications.providers.aliyun import AliyunSms
from notifications.providers.base import ProviderKind, SmsProvider
from notifications.providers.console import ConsoleSms
from notifications.providers.generic import GenericHttpSms
from notifications.providers.tencent import TencentSms

PROVIDERS: dict[ProviderKind, type[SmsProvider]] = {
    ProviderKind.ALIYUN: AliyunSms,
    ProviderKind.TENCENT: TencentSms,
    ProviderKind.GENERIC: GenericHttpSms,
    ProviderKind.CONSOLE: ConsoleSms,
}


def provider_kinds(settings: SmsSettings) -> list[ProviderKind]:
    kinds = []
    for name in settings.providers.split(","):
        name = name.strip()
        if name:
            try:
                kinds.append(ProviderKind(name))
            except ValueError:
                raise ValueError(
                    f"unknown SMS provider {name!r}; known: {[k.value for k in ProviderKind]}"
                ) from None
    return kinds or [ProviderKind.CONSOLE]


def providers_from_settings(settings: SmsSettings) -> dict[ProviderKind, SmsProvider]:
    """Instances in failover order (dicts keep insertion order)."""
    return {kind: PROVIDERS[kind](settings) for kind in provider_kinds(settings)}


__all__ = ["PROVIDERS", "ProviderKind", "SmsProvider", "provider_kinds", "providers_from_settings"]
