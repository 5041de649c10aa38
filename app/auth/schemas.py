"""Request and response shapes of the sign-in API (``/api/v1/auth``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.auth.principal import Principal


class StaffLogin(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class CitizenCodeRequest(BaseModel):
    id_number: str = Field(min_length=1, max_length=32)


class CitizenLogin(CitizenCodeRequest):
    code: str = Field(min_length=1, max_length=12)


class EnterpriseCodeRequest(BaseModel):
    uscc: str = Field(min_length=1, max_length=32)
    legal_rep_name: str = Field(min_length=1, max_length=64)


class EnterpriseLogin(BaseModel):
    uscc: str = Field(min_length=1, max_length=32)
    code: str = Field(min_length=1, max_length=12)


class CodeSent(BaseModel):
    message: str


class Me(BaseModel):
    kind: str
    id: str
    roles: list[str]
    display_name: str
    department: str | None = None
    csrf_token: str | None = None  # for cookie sessions: send it as X-CSRF-Token
    expires_at: datetime | None = None

    @classmethod
    def of(cls, principal: Principal, csrf_token: str | None = None,
           expires_at: datetime | None = None) -> Me:
        return cls(
            kind=principal.kind, id=principal.id, roles=sorted(principal.roles),
            display_name=principal.display_name, department=principal.department,
            csrf_token=csrf_token, expires_at=expires_at,
        )
