"""Imports every package's ``models`` so ``SQLModel.metadata`` knows all tables (Alembic and
tests use this). Add a line here when a domain gains tables."""

import app.audit.models
import app.auth.models
import app.datahub.models
import app.personal_data.models  # noqa: F401
import certs.models
import certs.verify.models  # noqa: F401
import eligibility.events.models
import eligibility.grants.models
import eligibility.payments.models
import eligibility.registry.models
import eligibility.sweeps.models  # noqa: F401
import notifications.models  # noqa: F401
