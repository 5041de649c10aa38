"""Imports every package's ``models`` so ``SQLModel.metadata`` knows all tables (Alembic and
tests use this). Add a line here when a domain gains tables."""

import app.audit.models  # noqa: F401
import app.datahub.models  # noqa: F401
import eligibility.events.models  # noqa: F401
import eligibility.grants.models  # noqa: F401
import eligibility.payments.models  # noqa: F401
import eligibility.sweeps.models  # noqa: F401
import notifications.models  # noqa: F401
