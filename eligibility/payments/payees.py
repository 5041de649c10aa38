"""Where a payment batch pays a grant. A policy whose process asks the beneficiary to confirm a
bank account (``process.confirmation: bank_account``) is paid to the account confirmed for the
grant (``payee_account``, decrypted here for the file only); a payment of such a grant without a
confirmed account is held out of the batch with ``UNCONFIRMED_ACCOUNT`` as its reason. Other
policies are paid by pseudonymous key as before (the treasury resolves it).

Which policies ask is read from the bundled catalog, as the portals read it
(``app.portal.policies.confirmation_of``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from app.portal.models import PayeeAccount
from app.privacy import keyring
from eligibility.grants.bulk import where_in

PAYEE: Table = PayeeAccount.__table__  # type: ignore[attr-defined]
UNCONFIRMED_ACCOUNT = "payee_account_unconfirmed"
HELD_REASONS_ZH = {UNCONFIRMED_ACCOUNT: "收款银行账户未确认"}


@dataclass(frozen=True)
class Account:
    bank_name: str
    holder: str
    number: str
    masked: str


@cache
def account_policies() -> frozenset[str]:
    """Ids of the bundled policies that ask for a bank account."""
    from eligibility.policy import load_file
    from eligibility.policy.loader import policy_files
    from eligibility.service import POLICY_DIR

    found = set()
    for path in policy_files(POLICY_DIR):
        document = load_file(path).document
        if document.process.confirmation == "bank_account":
            found.add(document.id)
    return frozenset(found)


def confirmed_grants(connection: Connection, grant_ids: Sequence[int]) -> set[int]:
    """Which of the grants have a confirmed payee account (nothing decrypted)."""
    found: set[int] = set()
    for condition in where_in(connection, PAYEE.c.grant_id, sorted(set(grant_ids))):
        statement = select(PAYEE.c.grant_id).where(condition)
        found.update(row[0] for row in connection.execute(statement))
    return found


def accounts_of(connection: Connection, grant_ids: Sequence[int]) -> dict[int, Account]:
    """The confirmed accounts of the grants, decrypted (for the payment file only)."""
    ring = keyring()
    accounts: dict[int, Account] = {}
    for condition in where_in(connection, PAYEE.c.grant_id, sorted(set(grant_ids))):
        statement = select(PAYEE.c.grant_id, PAYEE.c.bank_name, PAYEE.c.account_masked,
                           PAYEE.c.pii).where(condition)
        for grant_id, bank_name, masked, pii in connection.execute(statement):
            secret = ring.decrypt_json(pii)
            accounts[grant_id] = Account(bank_name, str(secret["holder"]),
                                         str(secret["account_number"]), masked)
    return accounts
