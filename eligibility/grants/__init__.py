"""Decisions and grants: a decision records one evaluated outcome with its provenance; a grant
carries a matched benefit through its lifecycle (review, public notice, confirmation, granted,
re-tiered, suspended, ended). Payments live in ``eligibility.payments``; sweeps that produce
decisions live in ``eligibility.sweeps``."""
