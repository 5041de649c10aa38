"""Mianshen application shell: settings, database session, privacy primitives, CLI, web service.

Domain logic lives in the domain packages (``eligibility``, ``notifications``, ``certs``) and in
``app.datahub`` (the shared data platform); this package wires them together.
"""

ENGINE_VERSION = "0.1.0"
