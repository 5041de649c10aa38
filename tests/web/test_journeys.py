"""Each user's main journey in headless Chromium over the live server on the seeded city, with
a screenshot of every step under ``var/screenshots/`` (Chinese pages, real data).

Citizen: sign in with ID number and SMS code → my benefits → a decision's explanation → an
e-certificate's QR code → object to a decision → messages → download my data.
Enterprise: sign in with USCC, legal representative and SMS code → matched policies and near
misses → a grant's explanation → confirm the bank account.
The SMS code is read from the console SMS provider's outbox log, as the person would read it on
their phone.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.settings import get_settings
from tests.web import people
from tests.web.conftest import WebCity, screenshot

pytestmark = pytest.mark.postgres
CODE = re.compile(r"验证码为(\d{6})")


def _codes() -> list[str]:
    log = Path(get_settings().home) / "sms-outbox.log"
    return CODE.findall(log.read_text(encoding="utf-8")) if log.exists() else []


def next_code(seen: int, timeout: float = 20.0) -> str:
    """The first code sent after ``seen`` codes (codes are handed over off the request thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        codes = _codes()
        if len(codes) > seen:
            return str(codes[seen])
        time.sleep(0.1)
    raise AssertionError("no sign-in code arrived")


def sign_in(page: Any, fields: dict[str, str], name: str) -> None:
    for label, value in fields.items():
        page.get_by_label(label).fill(value)
    screenshot(page, f"{name}-1-sign-in")
    seen = len(_codes())
    page.get_by_role("button", name="获取验证码", exact=True).click()
    page.get_by_label("短信验证码").fill(next_code(seen))
    screenshot(page, f"{name}-1-code")
    page.get_by_role("button", name="登录", exact=True).click()


def test_citizen_journey(page: Any, web_city: WebCity) -> None:
    me = people.citizen_with_certificate(web_city.engine, web_city.city_dir, 4)
    page.goto("/citizen")
    assert "/citizen/login" in page.url
    sign_in(page, {"公民身份号码": me.id_number}, "citizen")

    page.wait_for_url(re.compile(r"/citizen$"))
    assert page.get_by_role("heading", level=1).inner_text() == "我的待遇"
    masked = me.id_number[:6] + "********" + me.id_number[-4:]
    assert masked in page.content() and me.id_number not in page.content()
    rows = page.locator("table tbody tr")
    assert rows.count() >= 1
    assert "已享受" in rows.first.inner_text() or "已享受" in page.content()
    screenshot(page, "citizen-2-benefits")

    page.get_by_role("link", name=re.compile("查看依据")).first.click()
    assert page.get_by_role("heading", name="决定依据").is_visible()
    assert page.locator(".lead").first.inner_text().startswith("符合")
    assert page.locator("ul.conditions li.pass").count() >= 1
    screenshot(page, "citizen-3-explanation")
    benefit_url = page.url

    page.get_by_role("link", name="电子证照").click()
    page.get_by_role("link", name=re.compile("出示证照二维码")).first.click()
    assert page.get_by_role("img", name=re.compile("核验二维码")).is_visible()
    assert "有效" in page.locator("dl.facts").inner_text()
    screenshot(page, "citizen-4-certificate-qr")

    page.goto(benefit_url)
    page.get_by_label("异议理由").fill("我的户籍地址已变更,请工作人员人工核实该决定。")
    page.get_by_role("button", name="提交异议").click()
    assert "异议已提交" in page.get_by_role("status").inner_text()
    screenshot(page, "citizen-5-objection")
    grant_id = int(benefit_url.rstrip("/").rsplit("/", 1)[1])
    with web_city.engine.connect() as connection:
        assert connection.execute(text(
            "SELECT count(*) FROM objection WHERE grant_id = :g AND status = 'open'"),
            {"g": grant_id}).scalar() == 1

    page.get_by_role("link", name="我的消息").click()
    assert page.get_by_role("heading", name="我的消息").is_visible()
    screenshot(page, "citizen-6-messages")

    page.get_by_role("link", name="个人信息与权利").click()
    download = page.get_by_role("link", name="下载我的数据")
    assert download.get_attribute("href") == "/api/v1/me/export"
    screenshot(page, "citizen-7-privacy")


def test_enterprise_journey(page: Any, web_city: WebCity) -> None:
    uscc, grant_id = people.enterprise_awaiting_confirmation(web_city.engine)
    page.goto("/enterprise")
    assert "/enterprise/login" in page.url
    sign_in(page, {"统一社会信用代码": uscc,
                   "法定代表人姓名": people.legal_rep_name(web_city.city_dir, uscc)}, "enterprise")

    page.wait_for_url(re.compile(r"/enterprise$"))
    assert page.get_by_role("heading", name="符合的政策", exact=True).is_visible()
    assert uscc in page.content()
    assert re.search(r"[\d,]+\.\d\d 元", page.locator("table").first.inner_text())
    screenshot(page, "enterprise-2-policies")

    page.locator(f'a[href="/enterprise/benefits/{grant_id}"]').click()
    assert page.get_by_role("heading", name="决定依据").is_visible()
    screenshot(page, "enterprise-3-explanation")
    page.get_by_label("开户银行").fill("中国工商银行佛山祖庙支行")
    page.get_by_label("账户名称").fill("佛山市测试企业有限公司")
    page.get_by_label("银行账号").fill("6222 0202 0011 2233 445")
    page.get_by_role("button", name="确认领取").click()
    assert "已确认" in page.get_by_role("status").inner_text()
    assert "**** **** 3445" in page.content()
    screenshot(page, "enterprise-4-confirmed")
    with web_city.engine.connect() as connection:
        state = connection.execute(text("SELECT state FROM benefit_grant WHERE id = :g"),
                                   {"g": grant_id}).scalar()
    assert state != "awaiting_confirmation"
