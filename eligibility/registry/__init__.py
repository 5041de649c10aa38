"""The policy registry: policy versions persisted with their lifecycle (draft → validated →
submitted → approved by a second person → effective from a date → retired).

``models`` (the ``policy_version`` table), ``schemas`` (API/CLI views), ``repository`` (all
queries), ``service`` (the lifecycle rules: four eyes, idempotent submission, immutability,
the version in force on a date, audit entries), ``catalog`` (publishing the bundled catalog as
approved by a system identity), ``api`` (``/api/v1/policies``). Parsing and evaluating policy
documents stay in ``eligibility.policy`` and ``eligibility.evaluator``.
"""
