"""Tables of sign-in and authorisation.

``api_key``: a department system's key; only a keyed hash of its secret is stored
(``key_id`` is the public prefix shown in listings). ``staff_user``: a staff account with its
argon2 password hash, roles and lockout counters. ``auth_session``: a signed-in browser or
client; only the SHA-256 of the session token is stored. ``one_time_code``: an SMS sign-in code
for a citizen or enterprise identity, stored as a keyed hash. ``sign_in_lock``: failures and
lockout per identity (an ID number or USCC, by its blind index), kept whether or not the
identity exists so that answers never reveal it. Times are naive UTC.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"
    id: int | None = Field(default=None, primary_key=True)
    key_id: str = Field(max_length=16, unique=True)
    secret_hash: str = Field(max_length=64)
    department: str = Field(max_length=40, index=True)
    scopes: str = Field(max_length=400)  # space-separated
    rate_per_second: int
    description: str = Field(default="", max_length=200)
    enabled: bool = True
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_user"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(default="", max_length=64)
    password_hash: str = Field(max_length=200)
    roles: str = Field(max_length=200)  # space-separated
    enabled: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime
    last_login_at: datetime | None = None

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.split())


class AuthSession(SQLModel, table=True):
    __tablename__ = "auth_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=16)  # staff | citizen | enterprise
    principal_id: str = Field(max_length=64, index=True)
    roles: str = Field(default="", max_length=200)
    subject_key: str | None = Field(default=None, max_length=32)
    display_name: str = Field(default="", max_length=64)
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None


class OneTimeCode(SQLModel, table=True):
    __tablename__ = "one_time_code"
    id: int | None = Field(default=None, primary_key=True)
    identity: str = Field(max_length=48, index=True)  # "citizen:<blind index>" etc.
    code_hash: str = Field(max_length=64)
    created_at: datetime
    expires_at: datetime
    attempts: int = 0
    used_at: datetime | None = None


class SignInLock(SQLModel, table=True):
    __tablename__ = "sign_in_lock"
    identity: str = Field(max_length=48, primary_key=True)
    failures: int = 0
    locked_until: datetime | None = None
    updated_at: datetime
