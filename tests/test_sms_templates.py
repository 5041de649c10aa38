"""SMS templates: signature rules, variable validation, personal data, segment counting."""

from __future__ import annotations

from datetime import date

import pytest

from notifications.models import EventKind
from notifications.templates import (
    TEMPLATES,
    TemplateError,
    get_template,
    preview,
    render,
    salutation,
    segment_count,
    template_for,
)

PAYMENT = get_template("longevity_allowance.payment_made")


def test_payment_message_reads_like_the_story() -> None:
    sms = render(
        PAYMENT,
        {"paid_on": "2026-11-22", "amount_fen": 20050},
        agency="禅城区民政局",
        salutation="陈伯",
    )
    assert sms.body.startswith(
        "【禅城区民政局】陈伯您好，您的高龄津贴已于11月22日发放，金额200.50元"
    )
    assert sms.body.count("【") == 1 and sms.body.count("】") == 1
    assert sms.segments == 1


def test_every_template_renders_within_one_segment_with_sample_values() -> None:
    for code in TEMPLATES:
        sms = preview(code)
        assert sms.body.startswith("【禅城区民政局】")
        assert "【" not in sms.body[1:].split("】", 1)[1]
        assert sms.segments == 1, code


@pytest.mark.parametrize("value", ["【广告】", "通知】", "【"])
def test_signature_brackets_in_a_variable_are_rejected(value: str) -> None:
    with pytest.raises(TemplateError, match="【 or 】"):
        render(
            get_template("default.suspended"),
            {"benefit": "高龄津贴", "start_month": "2026-12", "reason": value},
            agency="禅城区民政局",
        )


def test_signature_brackets_in_the_agency_are_rejected() -> None:
    with pytest.raises(TemplateError):
        render(PAYMENT, {"paid_on": "2026-11-22", "amount_fen": 1}, agency="【民政局】")


def test_missing_and_extra_variables_are_rejected() -> None:
    with pytest.raises(TemplateError, match=r"missing variables \['amount_fen'\]"):
        render(PAYMENT, {"paid_on": "2026-11-22"}, agency="禅城区民政局")
    with pytest.raises(TemplateError, match=r"extra \['name'\]"):
        render(
            PAYMENT,
            {"paid_on": "2026-11-22", "amount_fen": 1, "name": "陈大文"},
            agency="禅城区民政局",
        )


def test_unmasked_personal_numbers_are_rejected() -> None:
    template = get_template("default.suspended")
    for leak in ("请联系13812345678", "440604195611221234"):
        with pytest.raises(TemplateError, match="unmasked"):
            render(
                template,
                {"benefit": "高龄津贴", "start_month": "2026-12", "reason": leak},
                agency="禅城区民政局",
            )


def test_segment_count_70_then_67_per_part() -> None:
    assert segment_count("字" * 70) == 1
    assert segment_count("字" * 71) == 2
    assert segment_count("字" * 134) == 2
    assert segment_count("字" * 135) == 3


def test_long_variables_rejected_and_amount_must_be_fen() -> None:
    with pytest.raises(TemplateError, match="longer"):
        render(
            get_template("default.suspended"),
            {"benefit": "字" * 36, "start_month": "2026-12", "reason": "x"},
            agency="禅城区民政局",
        )
    with pytest.raises(TemplateError, match="integer fen"):
        render(PAYMENT, {"paid_on": "2026-11-22", "amount_fen": "200元"}, agency="禅城区民政局")


def test_policy_set_falls_back_to_default_and_unknown_set_is_an_error() -> None:
    assert template_for("longevity_allowance", EventKind.PAYMENT_MADE).code == PAYMENT.code
    assert template_for("longevity_allowance", EventKind.SUSPENDED).code == "default.suspended"
    with pytest.raises(TemplateError):
        template_for("no_such_policy", EventKind.GRANTED)


def test_salutation_keeps_only_the_surname() -> None:
    today = date(2026, 11, 22)
    assert salutation("陈大文", "M", date(1956, 11, 22), today) == "陈伯"
    assert salutation("李秀英", "F", date(1950, 1, 1), today) == "李姨"
    assert salutation("欧阳娜娜", "F", date(1990, 1, 1), today) == "欧阳女士"
    assert salutation("王强", "M", date(1990, 1, 1), today) == "王先生"
    assert salutation(None, "M", None, today) == ""
