"""Staff users of the web tests (created once per city database, so a kept city can be re-used)
and signing a browser page in through the staff sign-in page."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.auth import repository, staff

PASSWORD = "correct horse battery 42"
USERS = {
    "zhang.officer": (["officer", "approver"], "张政策"),
    "li.approver": (["approver"], "李审批"),
    "wang.reviewer": (["reviewer"], "王复核"),
    "zhao.auditor": (["auditor"], "赵审计"),
}


def ensure_staff(engine: Engine) -> None:
    with Session(engine) as session:
        for username, (roles, name) in USERS.items():
            if repository.staff_user(session, username) is None:
                staff.add_user(session, username, PASSWORD, roles, name)
        session.commit()


def staff_sign_in(page: Any, username: str) -> None:
    """On the staff sign-in page (where an anonymous console visit lands), sign in."""
    assert "/staff/login" in page.url
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
