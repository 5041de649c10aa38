"""The staff journeys in headless Chromium over the live server on the seeded city, with a
screenshot of every step under ``var/screenshots/``.

Officer: signs in → edits a policy with an error (sees line and column) → fixes it → runs its
test cases → previews its impact (charts, change against the version in force) → submits; the
officer, also an approver, is told why they cannot approve their own version; another approver
approves it.
Reviewer: signs in → the flagged cases of the review queue → decides one with a note, which the
review item records; an officer dismisses a citizen's objection to a grant in public notice,
and the notice resumes.
Auditor: signs in → searches decisions by a citizen's ID number (its blind index) → opens one:
provenance and plain-Chinese explanation → the inclusion of its policy version's approval in
the signed Merkle log, verified → replays it (identical) → exports the search as CSV and JSON,
which hold pseudonymous keys and no ID number.
"""

from __future__ import annotations

import random
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.audit import service as audit
from app.portal import actions
from eligibility.grants.models import Grant
from eligibility.registry import catalog
from tests.web import people
from tests.web.conftest import ROOT, WebCity, screenshot
from tests.web.staff import ensure_staff, staff_sign_in

pytestmark = pytest.mark.postgres
POLICY = ROOT / "policies" / "longevity-allowance.yaml"
RAISE = "      - {from: 2020-01-01, value: 35000}"  # amount_90_99, the only one at 35000


@pytest.fixture
def staffed_city(web_city: WebCity) -> WebCity:
    """The catalog published into the registry (the versions in force) and the staff users."""
    with Session(web_city.engine) as session:
        catalog.publish_folder(session, ROOT / "policies")
        audit.publish_tree_head(session, only_if_grown=True)  # as the periodic task does
        session.commit()
    ensure_staff(web_city.engine)
    return web_city


def _edited_text(amount: int) -> str:
    text = Path(POLICY).read_text(encoding="utf-8")
    assert RAISE in text
    return text.replace(RAISE, RAISE.replace("35000", str(amount)))


def test_officer_journey(page: Any, browser: Any, staffed_city: WebCity) -> None:
    page.goto("/officer")
    staff_sign_in(page, "zhang.officer")
    page.wait_for_url(re.compile(r"/officer$"))
    assert page.get_by_role("heading", level=1).inner_text() == "政策"
    assert "高龄津贴" in page.locator("table").inner_text()
    screenshot(page, "officer-1-policies")

    amount = random.randrange(35_500, 45_000, 100)  # a new version on a kept city, too
    broken = _edited_text(amount).replace("when: age >= 70", "when: age >= >= 70")
    page.locator("#main").get_by_role("link", name="新建政策").click()
    page.get_by_label("政策文件(YAML)").fill(broken)
    page.get_by_role("button", name="校验并保存草稿").click()
    alert = page.get_by_role("alert")
    assert "第 68 行,第 18 列" in alert.inner_text()
    assert page.locator("#line-68.issue-line").count() == 1
    screenshot(page, "officer-2-validation-error")

    page.get_by_label("政策文件(YAML)").fill(_edited_text(amount))
    page.get_by_role("button", name="校验并保存草稿").click()
    page.wait_for_url(re.compile(r"/officer/versions/\d+$"))
    version_url = page.url
    assert "草稿" in page.locator("dl.facts").inner_text()
    screenshot(page, "officer-3-draft")

    page.get_by_role("link", name="运行测试用例").click()
    heading = page.get_by_role("heading", name=re.compile("测试用例")).inner_text()
    passed, failed = map(int, re.findall(r"\d+", heading))
    assert passed >= 1 and failed == 0
    screenshot(page, "officer-4-tests")

    page.get_by_role("link", name="影响预估").click()
    eligible = int(page.locator("#eligible-count").inner_text().replace(",", ""))
    assert eligible > 0
    assert page.get_by_role("img", name="各区符合条件人数").is_visible()
    assert page.get_by_role("img", name="各档次单期发放金额").is_visible()
    assert "与现行版本" in page.locator("#preview-heading ~ h3").first.inner_text()
    assert page.get_by_role("img", name="与现行版本相比:各区金额变化").is_visible()
    screenshot(page, "officer-5-preview")

    page.get_by_role("button", name="提交审批").click()
    assert "已提交审批" in page.get_by_role("status").inner_text()
    assert "待审批" in page.locator("dl.facts").inner_text()
    version_id = version_url.rsplit("/", 1)[1]

    page.get_by_role("link", name="审批队列").click()
    row = page.locator("tr", has=page.locator(f'form[action="/officer/approvals/{version_id}"]'))
    assert "四眼原则" in row.inner_text()
    assert row.get_by_role("button", name="批准").is_disabled()
    screenshot(page, "officer-6-cannot-approve-own")

    approver = browser.new_context(base_url=page.url.split("/officer")[0], locale="zh-CN",
                                   viewport={"width": 1200, "height": 900}).new_page()
    approver.goto("/officer/approvals")
    staff_sign_in(approver, "li.approver")
    approver.wait_for_url(re.compile(r"/officer/approvals$"))
    row = approver.locator("tr", has=approver.locator(
        f'form[action="/officer/approvals/{version_id}"]'))
    row.get_by_label("生效日期").fill("2099-01-01")  # not in force during the other tests
    screenshot(approver, "officer-7-approval-queue")
    row.get_by_role("button", name="批准").click()
    assert "已审批通过" in approver.get_by_role("status").inner_text()
    facts = approver.locator("dl.facts").inner_text()
    assert "已批准" in facts and "李审批" not in facts and "li.approver" in facts
    screenshot(approver, "officer-8-approved")
    approver.context.close()


def test_auditor_journey(page: Any, staffed_city: WebCity) -> None:
    me = people.citizen_with_certificate(staffed_city.engine, staffed_city.city_dir, 2)
    page.goto("/auditor")
    staff_sign_in(page, "zhao.auditor")
    page.wait_for_url(re.compile(r"/auditor$"))
    page.get_by_label("对象(公民身份号码或统一社会信用代码)").fill(me.id_number)
    page.get_by_label("结果").select_option("eligible")
    page.get_by_role("button", name="查询").click()
    rows = page.locator("table tbody tr")
    assert rows.count() >= 1 and "符合" in rows.first.inner_text()
    assert me.id_number not in page.locator("main").inner_text()
    assert me.id_number not in page.url and me.subject_key in page.url  # blind index only
    screenshot(page, "auditor-1-search")

    csv_text = page.request.get("/auditor/export.csv?" + page.url.split("?", 1)[1]).text()
    json_rows = page.request.get("/auditor/export.json?" + page.url.split("?", 1)[1]).json()
    assert len(json_rows) == rows.count() and {r["subject_key"] for r in json_rows} == {
        me.subject_key}
    assert me.subject_key in csv_text and me.id_number not in csv_text

    rows.first.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/auditor/decisions/\d+$"))
    assert page.locator("#explanation").inner_text().startswith("符合")
    approval = page.locator("tr.inclusion", has_text="政策版本的审批记录")
    assert "已验证" in approval.inner_text() and "树头签名有效" in approval.inner_text()
    decision_row = page.locator("tr.inclusion", has_text="该决定本身")
    # sweeps log every decision, so the page proves the decision itself is in the signed log
    assert "已验证" in decision_row.inner_text() and "树头签名有效" in decision_row.inner_text()
    screenshot(page, "auditor-2-provenance-inclusion")

    page.get_by_role("link", name="重放该决定").click()
    assert "重放结果一致" in page.locator("#replay-result").inner_text()
    screenshot(page, "auditor-3-replay")


def test_reviewer_journey(page: Any, staffed_city: WebCity) -> None:
    page.goto("/officer/reviews?kind=flagged")
    staff_sign_in(page, "wang.reviewer")
    page.wait_for_url(re.compile(r"/officer/reviews\?kind=flagged$"))
    row = page.locator("tr.review").first
    assert "标记复核" in row.inner_text() and "无可用手机号码" in row.inner_text()
    review_id = int(row.get_attribute("data-review") or 0)
    screenshot(page, "reviewer-1-queue")
    row.get_by_label("复核意见").fill("已电话联系本人核实身份与户籍,同意发放。")
    row.get_by_role("button", name="同意").click()
    assert "复核决定已记录" in page.get_by_role("status").inner_text()
    assert page.locator(f'tr.review[data-review="{review_id}"]').count() == 0
    screenshot(page, "reviewer-2-decided")
    with staffed_city.engine.connect() as connection:
        status, officer, note = connection.execute(text(
            "SELECT status, officer, note FROM review_item WHERE id = :i"), {"i": review_id}).one()
    assert (status, officer) == ("approved", "officer:wang.reviewer") and "同意发放" in note


def test_city_dashboard_and_delivery_statistics(page: Any, staffed_city: WebCity) -> None:
    with staffed_city.engine.connect() as connection:
        grants_today = connection.execute(text(
            "SELECT count(*) FROM benefit_grant WHERE (created_at AT TIME ZONE 'UTC')::date = "
            "(now() AT TIME ZONE 'UTC')::date")).scalar_one()
        delivered = connection.execute(text(
            "SELECT count(*) FROM notification WHERE status = 'delivered'")).scalar_one()
        newest_person = connection.execute(text("SELECT max(as_of) FROM person")).scalar_one()
    page.goto("/officer/dashboard")
    staff_sign_in(page, "zhang.officer")
    page.wait_for_url(re.compile(r"/officer/dashboard$"))
    figures = page.locator("#city-figures").inner_text()
    assert f"{grants_today:,} 项" in figures and f"{delivered:,} 条" in figures
    assert grants_today > 0
    person_row = page.locator("#freshness tr", has_text="户籍人口").first.inner_text()
    assert "公安局" in person_row
    assert f"{newest_person.year}年{newest_person.month}月{newest_person.day}日" in person_row
    screenshot(page, "officer-9-dashboard")
    page.get_by_role("link", name="短信送达").click()
    assert page.locator("#delivery tbody tr").count() >= 1
    screenshot(page, "officer-10-delivery")


def test_officer_dismisses_an_objection(page: Any, staffed_city: WebCity) -> None:
    with Session(staffed_city.engine) as session:
        grant_id = session.execute(text(
            "SELECT id FROM benefit_grant WHERE state = 'public_notice' ORDER BY id LIMIT 1"
        )).scalar_one()
        grant = session.get(Grant, grant_id)
        assert grant is not None
        objection = actions.object_to(session, grant, "我认为公示信息有误,请核实。", date.today(),
                                      "citizen:test")
        session.commit()
    page.goto("/officer/objections")
    staff_sign_in(page, "zhang.officer")
    row = page.locator(f'tr.objection[data-objection="{objection.id}"]')
    assert "我认为公示信息有误" in row.inner_text()
    screenshot(page, "officer-11-objections")
    row.get_by_label("处理意见").fill("经核实,公示信息无误。")
    row.get_by_role("button", name="不予采纳(恢复公示)").click()
    assert "异议处理结果已记录" in page.get_by_role("status").inner_text()
    with staffed_city.engine.connect() as connection:
        status, officer = connection.execute(text(
            "SELECT status, officer FROM objection WHERE id = :i"), {"i": objection.id}).one()
        state = connection.execute(text("SELECT state FROM benefit_grant WHERE id = :g"),
                                   {"g": grant_id}).scalar_one()
    assert (status, officer, state) == ("dismissed", "officer:zhang.officer", "public_notice")
