"""Eligibility: the policy language, compiler and evaluator (top-level modules), and the
auto-grant pipeline built on them in sub-packages: ``sweeps`` (who is evaluated when, sharded
across workers), ``grants`` (decisions with provenance, the grant lifecycle, the review queue),
``payments`` (the ledger and payment batches) and ``events`` (life events correlated with
durable_rules)."""
