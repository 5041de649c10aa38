"""The tamper-evident audit log: shared infrastructure every domain appends to.

Decisions, grant state changes, payments, certificate issuance and revocation, and policy
approvals are appended to one RFC 9162 Merkle log inside the caller's own transaction
(:func:`app.audit.service.append`). The log lives in ``app/`` rather than in a domain package
because every domain (``eligibility``, ``notifications``, ``certs``, payments) writes to it and
none of them owns it, the same reason the shared data platform is ``app.datahub``.

Files: ``merkle`` (RFC 9162 tree arithmetic and proof verification, no database), ``models``
(tables), ``schemas`` (entry kinds, payload schemas, the canonical leaf and tree-head formats,
proof and report shapes), ``keys`` (the Ed25519 log key), ``repository`` (every query),
``service`` (append, publish signed tree heads, proofs), ``verification`` (recompute the whole
log and check it against the signed tree heads), ``tasks`` (thin Celery task).
What does not live here: the records themselves (decisions, grants, payments, certificates stay
in their domains; the log keeps a canonical copy of what was decided) and ``audit replay``
(it needs the evaluator; it reads the decision payload documented in ``schemas``).
"""
