"""Parsing of the portals' HTML form fields into the API's request shapes; invalid input is a
``ValidationFailed`` with a Chinese message (shown on the page), never a crash."""

from __future__ import annotations

from pydantic import ValidationError

from app.errors import ValidationFailed
from app.portal.schemas import BankAccountRequest


def bank_account(bank_name: str, holder: str, account_number: str) -> BankAccountRequest:
    try:
        return BankAccountRequest(bank_name=bank_name.strip(), holder=holder.strip(),
                                  account_number=account_number.replace(" ", ""))
    except ValidationError as error:
        raise ValidationFailed(
            "invalid bank account form",
            "银行账户信息有误:请填写开户银行、账户名称,账号应为 10-30 位数字",
        ) from error
