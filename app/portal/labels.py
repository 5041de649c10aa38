"""Chinese labels of grant states, payment statuses, benefit periods and review flags."""

from __future__ import annotations

GRANT_STATES_ZH = {
    "matched": "已匹配",
    "manual_review": "人工复核中",
    "internal_review": "内部审核中",
    "public_notice": "公示中",
    "objection_pending": "异议处理中",
    "awaiting_confirmation": "待您确认",
    "granted": "已享受",
    "suspended": "已暂停",
    "ended": "已终止",
    "rejected": "未通过",
    "withdrawn": "已撤回",
    "declined": "已放弃",
}
PAYMENT_STATUSES_ZH = {
    "due": "待发放",
    "held": "暂缓发放",
    "batched": "已发放",
    "cancelled": "已取消",
    "legacy": "原系统已发放",
}
PERIODS_ZH = {"month": "每月", "year": "每年", "once": "一次性", "none": ""}
OBJECTION_STATUSES_ZH = {"open": "处理中", "dismissed": "未采纳", "upheld": "已采纳"}
CERT_STATUSES_ZH = {"valid": "有效", "suspended": "暂停", "revoked": "注销"}


def grant_state_zh(state: str) -> str:
    return GRANT_STATES_ZH.get(state, state)


def payment_status_zh(status: str) -> str:
    return PAYMENT_STATUSES_ZH.get(status, status)
