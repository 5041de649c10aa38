"""SMS templates: Chinese text per (template set, event), rendered in a Jinja2 sandbox.

A policy names a template *set* (``notification_template: longevity_allowance`` in the policy
format); :func:`template_for` picks that set's template for an event and falls back to the
``default`` set. Every template starts with the agency signature 【机构名】, which
:func:`render` adds; 【 and 】 may appear nowhere else. Variables are checked against the
template before anything is sent (missing or extra → :class:`TemplateError`), values must be
short plain text without personal numbers, and the rendered body is checked again.

What is not here: choosing the recipient or the moment (``service``), sending (``providers``).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, meta
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.sandbox import SandboxedEnvironment

from app.errors import ValidationFailed
from notifications.models import EventKind

SINGLE_SEGMENT_CHARS = 70
CONCATENATED_SEGMENT_CHARS = 67
MAX_VARIABLE_CHARS = 35  # what the Chinese providers accept per template variable
DEFAULT_SET = "default"
# Variables the engine fills itself: the masked salutation and the agency hotline.
SYSTEM_VARIABLES = frozenset({"salutation", "hotline"})

_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_SIGNATURE_BRACKETS = ("【", "】")


class TemplateError(ValidationFailed):
    """A template, a variable or a rendered body breaks the SMS rules."""


def _yuan(fen: Any) -> str:
    if not isinstance(fen, int) or isinstance(fen, bool):
        raise TemplateError(f"amount must be integer fen, got {type(fen).__name__}")
    yuan, rest = divmod(fen, 100)
    return f"{yuan}元" if rest == 0 else f"{yuan}.{rest:02d}元"


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise TemplateError(f"not an ISO date: {value!r}") from None


def _month_day(value: Any) -> str:
    day = _as_date(value)
    return f"{day.month}月{day.day}日"


def _year_month(value: Any) -> str:
    text = str(value)
    if re.fullmatch(r"\d{4}-\d{2}", text):
        year, month = text.split("-")
        return f"{int(year)}年{int(month)}月"
    day = _as_date(value)
    return f"{day.year}年{day.month}月"


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
    )
    env.filters.update(yuan=_yuan, md=_month_day, ym=_year_month)
    return env


ENV = _environment()


@lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    return ENV.from_string(source)


@lru_cache(maxsize=256)
def _declared(source: str) -> frozenset[str]:
    return frozenset(meta.find_undeclared_variables(ENV.parse(source)))


@dataclass(frozen=True)
class SmsTemplate:
    code: str  # "<set>.<event>"
    event: EventKind
    source: str

    @property
    def variables(self) -> frozenset[str]:
        return _declared(self.source)

    @property
    def caller_variables(self) -> frozenset[str]:
        """Variables the caller must pass (the system ones are filled in by the engine)."""
        return self.variables - SYSTEM_VARIABLES


@dataclass(frozen=True)
class RenderedSms:
    template_code: str
    body: str  # 【机构名】 + text: exactly what the handset shows
    segments: int
    variables: dict[str, Any]

    @property
    def length(self) -> int:
        return len(self.body)


_E = EventKind
_SOURCES: dict[str, dict[EventKind, str]] = {
    DEFAULT_SET: {
        _E.GRANTED: "{{ salutation }}您好，经数据比对，您符合{{ benefit }}条件，已为您自动办理，"
        "无需申请，自{{ start_month|ym }}起发放。咨询电话{{ hotline }}。",
        _E.PAYMENT_MADE: "{{ salutation }}您好，您的{{ benefit }}已于{{ paid_on|md }}发放，"
        "金额{{ amount_fen|yuan }}，请注意查收。咨询电话{{ hotline }}。",
        _E.TIER_CHANGED: "{{ salutation }}您好，您的{{ benefit }}自{{ start_month|ym }}起调整为"
        "每月{{ amount_fen|yuan }}，无需办理任何手续。咨询电话{{ hotline }}。",
        _E.SUSPENDED: "{{ salutation }}您好，您的{{ benefit }}自{{ start_month|ym }}起暂停发放，"
        "原因：{{ reason }}。如有异议，请致电{{ hotline }}。",
        _E.ENDED: "{{ salutation }}您好，您的{{ benefit }}自{{ start_month|ym }}起停止发放，"
        "原因：{{ reason }}。如有异议，请致电{{ hotline }}。",
        _E.CONFIRMATION_NEEDED: "{{ salutation }}您好，您可享受{{ benefit }}，"
        "请于{{ deadline|md }}前通过{{ channel }}确认领取意愿和收款账户。"
        "咨询电话{{ hotline }}。",
        _E.PUBLIC_NOTICE_START: "{{ salutation }}您好，"
        "贵单位拟享受{{ benefit }}{{ amount_fen|yuan }}，现予公示，公示期至{{ end_date|md }}。"
        "如有异议，请在公示期内致电{{ hotline }}。",
        _E.OBJECTION_RESULT: "{{ salutation }}您好，您对{{ benefit }}提出的异议已办结，"
        "结果：{{ result }}。详情可在{{ channel }}查看。",
        _E.CERTIFICATE_ISSUED: "{{ salutation }}您好，您的{{ certificate }}电子证照已签发，"
        "可在{{ channel }}查看和出示，无需另行办理。",
        _E.REMINDER: "{{ salutation }}您好，温馨提醒：{{ matter }}将于{{ deadline|md }}截止，"
        "请及时办理。咨询电话{{ hotline }}。",
    },
    "longevity_allowance": {
        _E.GRANTED: "{{ salutation }}您好，祝您生日快乐！您已符合高龄津贴条件，无需申请，"
        "已为您自动办理，每月{{ amount_fen|yuan }}，按月发放到社保卡。",
        _E.PAYMENT_MADE: "{{ salutation }}您好，您的高龄津贴已于{{ paid_on|md }}发放，"
        "金额{{ amount_fen|yuan }}，请注意查收。咨询电话{{ hotline }}。",
        _E.TIER_CHANGED: "{{ salutation }}您好，祝您健康长寿！自{{ start_month|ym }}起您的高龄津贴"
        "调整为每月{{ amount_fen|yuan }}，无需办理任何手续。",
    },
}

TEMPLATES: dict[str, SmsTemplate] = {
    f"{set_code}.{event.value}": SmsTemplate(f"{set_code}.{event.value}", event, source)
    for set_code, events in _SOURCES.items()
    for event, source in events.items()
}
TEMPLATE_SETS = frozenset(_SOURCES)


def template_for(set_code: str | None, event: EventKind) -> SmsTemplate:
    """The set's template for ``event``, else the default set's."""
    if set_code and set_code not in TEMPLATE_SETS:
        raise TemplateError(f"unknown template set {set_code!r}; known: {sorted(TEMPLATE_SETS)}")
    return TEMPLATES.get(f"{set_code}.{event.value}") or TEMPLATES[f"{DEFAULT_SET}.{event.value}"]


def get_template(code: str) -> SmsTemplate:
    try:
        return TEMPLATES[code]
    except KeyError:
        raise TemplateError(f"unknown template {code!r}") from None


def segment_count(text: str) -> int:
    """China Mobile/Unicom/Telecom billing: 70 characters fit one SMS, 67 per concatenated part."""
    if len(text) <= SINGLE_SEGMENT_CHARS:
        return 1
    return math.ceil(len(text) / CONCATENATED_SEGMENT_CHARS)


def _check_signature_free(what: str, text: str) -> None:
    if any(bracket in text for bracket in _SIGNATURE_BRACKETS):
        raise TemplateError(
            f"{what} contains 【 or 】, which only the signature may use",
            "短信内容中不能包含【】符号",
        )


def _check_no_personal_numbers(what: str, text: str) -> None:
    if _MOBILE.search(text) or _ID_NUMBER.search(text):
        raise TemplateError(
            f"{what} contains an unmasked mobile or ID number", "短信内容不能包含未脱敏的个人号码"
        )


def validate_variables(template: SmsTemplate, variables: dict[str, Any]) -> dict[str, Any]:
    """Caller variables must be exactly the template's; values short, plain, JSON-able."""
    given = set(variables)
    missing = sorted(template.caller_variables - given)
    extra = sorted(given - template.caller_variables)
    if missing or extra:
        raise TemplateError(f"template {template.code}: missing variables {missing}, extra {extra}")
    clean: dict[str, Any] = {}
    for name, value in variables.items():
        if isinstance(value, date):
            value = value.isoformat()
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise TemplateError(f"variable {name!r} must be text, a number or a date")
        text = str(value)
        if len(text) > MAX_VARIABLE_CHARS:
            raise TemplateError(f"variable {name!r} is longer than {MAX_VARIABLE_CHARS} characters")
        _check_signature_free(f"variable {name!r}", text)
        _check_no_personal_numbers(f"variable {name!r}", text)
        clean[name] = value
    return clean


def render(
    template: SmsTemplate,
    variables: dict[str, Any],
    *,
    agency: str,
    salutation: str = "",
    hotline: str = "12345",
) -> RenderedSms:
    """Validate, render and check one message. Raises :class:`TemplateError`."""
    if not agency or len(agency) > 12:
        raise TemplateError("the signature (agency name) must be 1 to 12 characters")
    _check_signature_free("agency signature", agency)
    _check_signature_free("salutation", salutation)
    clean = validate_variables(template, variables)
    context = {**clean, "salutation": salutation, "hotline": hotline}
    try:
        text = _compiled(template.source).render(context).strip()
    except JinjaTemplateError as error:
        raise TemplateError(f"template {template.code} failed to render: {error}") from error
    _check_signature_free(f"rendered body of {template.code}", text)
    _check_no_personal_numbers(f"rendered body of {template.code}", text)
    body = f"【{agency}】{text}"
    return RenderedSms(template.code, body, segment_count(body), clean)


SAMPLE_VALUES: dict[str, Any] = {
    "benefit": "高龄津贴",
    "start_month": "2026-12",
    "paid_on": "2026-11-22",
    "amount_fen": 20000,
    "reason": "户籍已迁出本区",
    "deadline": "2026-12-05",
    "channel": "粤省事",
    "end_date": "2026-11-29",
    "result": "维持原认定",
    "certificate": "老年人优待证",
    "matter": "高龄津贴年度资格确认",
}


def preview(
    code: str, variables: dict[str, Any] | None = None, *, agency: str = "禅城区民政局"
) -> RenderedSms:
    """Render a template with sample values for anything not given (officers' preview)."""
    template = get_template(code)
    given = dict(variables or {})
    sample = {
        name: given.pop(name, SAMPLE_VALUES.get(name, "示例")) for name in template.caller_variables
    }
    return render(template, {**sample, **given}, agency=agency, salutation="陈伯")


def dumps_variables(variables: dict[str, Any]) -> str:
    return json.dumps(variables, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


_COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "令狐",
        "端木",
        "轩辕",
        "钟离",
        "申屠",
    ]
)


def surname(name: str) -> str:
    name = name.strip()
    return name[:2] if name[:2] in _COMPOUND_SURNAMES else name[:1]


def salutation(name: str | None, sex: str | None, birth_date: date | None, on: date) -> str:
    """The masked, polite form of address: surname only (陈伯, 陈姨, 陈先生, 陈女士)."""
    family = surname(name or "")
    if not family or not re.fullmatch(r"[\u4e00-\u9fff]{1,2}", family):
        return ""
    senior = birth_date is not None and (on.year - birth_date.year) >= 60
    if sex == "M":
        return family + ("伯" if senior else "先生")
    if sex == "F":
        return family + ("姨" if senior else "女士")
    return ""
