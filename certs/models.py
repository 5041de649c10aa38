"""Certificate type registry and the tables of the e-certificate domain.

``cert_issuer`` is an issuing department (颁发机构: USCC code, name) with the counter that hands
out status-list indexes. ``cert_signing_key`` holds department keys: the public key (SPKI DER,
base64) and the private key (PKCS#8 DER) encrypted with ``app.privacy.keyring()``; a retired
key keeps its row so certificates it signed still verify. ``certificate`` is one e-certificate
with the record fields of the DESIGN brief; the holder's name is only stored encrypted in
``pii`` (``holder_masked`` is the display form), the holder code is the pseudonymous subject
key. ``cert_import`` keeps externally issued certificates and the reason a rejected one is
quarantined. Queries live in ``repository``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class CertType(enum.StrEnum):
    ELDERLY_CARD = "elderly_card"
    BUS_CARD = "bus_card"
    MARRIAGE_CHECK_VOUCHER = "marriage_check_voucher"
    PREGNANCY_CHECK_VOUCHER = "pregnancy_check_voucher"
    DISABILITY_CARD = "disability_card"
    MARRIAGE_CERTIFICATE = "marriage_certificate"


class CertStatus(enum.StrEnum):
    VALID = "valid"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


@dataclass(frozen=True)
class CertTypeInfo:
    code: str  # 证照类型代码
    name: str  # 证照类型名称
    department: str  # default issuing department (key of DEPARTMENTS)


CERT_TYPES: dict[CertType, CertTypeInfo] = {
    CertType.ELDERLY_CARD: CertTypeInfo("11100000MB0001", "老年人优待证", "civil_affairs"),
    CertType.BUS_CARD: CertTypeInfo("11100000MB0002", "敬老乘车卡", "transport"),
    CertType.MARRIAGE_CHECK_VOUCHER: CertTypeInfo("11100000MB0003", "婚前医学检查电子券",
                                                  "health"),
    CertType.PREGNANCY_CHECK_VOUCHER: CertTypeInfo("11100000MB0004", "孕前优生健康检查电子券",
                                                   "health"),
    CertType.DISABILITY_CARD: CertTypeInfo("11100000MB0005", "残疾人证", "disabled_federation"),
    CertType.MARRIAGE_CERTIFICATE: CertTypeInfo("11100000MB0006", "结婚证", "civil_affairs"),
}


@dataclass(frozen=True)
class Department:
    code: str  # unified social credit code (synthetic city, valid check digit)
    name: str


DEPARTMENTS: dict[str, Department] = {
    "civil_affairs": Department("11440604MB1234567W", "佛山市禅城区民政局"),
    "transport": Department("11440604MB2345678E", "佛山市禅城区交通运输局"),
    "health": Department("11440604MB34567890", "佛山市禅城区卫生健康局"),
    "disabled_federation": Department("13440604MC4567890E", "佛山市禅城区残疾人联合会"),
}


class CertIssuer(SQLModel, table=True):
    __tablename__ = "cert_issuer"
    code: str = Field(primary_key=True, max_length=18)
    name: str = Field(max_length=128)
    department: str = Field(max_length=32, unique=True)
    next_status_index: int = 0
    created_at: datetime


class CertSigningKey(SQLModel, table=True):
    __tablename__ = "cert_signing_key"
    key_id: str = Field(primary_key=True, max_length=16)
    issuer_code: str = Field(foreign_key="cert_issuer.code", index=True, max_length=18)
    algorithm: str = Field(max_length=16)
    public_key: str = Field(sa_column=Column(Text, nullable=False))
    private_key: str = Field(sa_column=Column(Text, nullable=False))
    active: bool = True
    created_at: datetime
    retired_at: datetime | None = None


class Certificate(SQLModel, table=True):
    __tablename__ = "certificate"
    __table_args__ = (UniqueConstraint("issuer_code", "status_index"),)
    id: int | None = Field(default=None, primary_key=True)
    cert_id: str = Field(max_length=96, unique=True)  # 证照标识
    cert_type: str = Field(max_length=32)
    type_code: str = Field(max_length=32)  # 证照类型代码
    type_name: str = Field(max_length=64)  # 证照类型名称
    cert_number: str = Field(max_length=32)  # 证照编号
    issued_on: date  # 颁发日期
    issuer_code: str = Field(foreign_key="cert_issuer.code", max_length=18)  # 颁发机构代码
    issuer_name: str = Field(max_length=128)  # 颁发机构名称
    valid_from: date  # 有效期起始
    valid_to: date | None = None  # 有效期截止 (None: long-term)
    subject_key: str = Field(max_length=32, index=True)  # 持证主体代码 (pseudonymous)
    subject_key_type: str = Field(max_length=32)  # 持证主体代码类型
    holder_masked: str = Field(max_length=64)
    pii: str = Field(sa_column=Column(Text, nullable=False))  # 持证主体, encrypted
    status: str = Field(max_length=16, default=CertStatus.VALID.value)  # 状态
    status_index: int
    status_reason: str | None = Field(default=None, max_length=64)
    idempotency_key: str = Field(max_length=160, unique=True)
    grant_ref: str | None = Field(default=None, max_length=96)
    key_id: str = Field(max_length=16)
    signature: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime
    updated_at: datetime


class CertImport(SQLModel, table=True):
    """An externally issued signed certificate: ``accepted`` or ``quarantined`` with reason."""

    __tablename__ = "cert_import"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    token: str = Field(sa_column=Column(Text, nullable=False))
    outcome: str = Field(max_length=16)
    reason: str = Field(max_length=32)
    cert_id: str | None = Field(default=None, max_length=96)
    issuer_code: str | None = Field(default=None, max_length=18)
    subject_key: str | None = Field(default=None, max_length=32, index=True)
    imported_at: datetime
