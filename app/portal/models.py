"""``payee_account``: the bank account a beneficiary confirmed for a grant whose policy asks
for bank-account confirmation (one per grant; the account number and holder are encrypted, only
a masked form is stored in clear for display)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel


class PayeeAccount(SQLModel, table=True):
    __tablename__ = "payee_account"
    id: int | None = Field(default=None, primary_key=True)
    grant_id: int = Field(unique=True)
    subject_key: str = Field(max_length=32, index=True)
    bank_name: str = Field(max_length=64)
    account_masked: str = Field(max_length=40)
    pii: str = Field(sa_column=Column(Text, nullable=False))  # encrypted: holder, account number
    confirmed_at: datetime
    confirmed_by: str = Field(max_length=64)
