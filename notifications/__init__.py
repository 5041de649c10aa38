"""SMS notifications (短信通知): exactly once, in good Chinese, at a decent hour, with receipts.

Files: ``models`` (outbox tables), ``schemas`` (views and report shapes), ``templates`` (Jinja2
sandboxed templates, validation, segment count), ``repository`` (all queries), ``service``
(enqueue, cancel, opt-out, receipts, views), ``dispatch`` (claim → hand off → record, and the
reconciliation of hand-offs whose worker died), ``limits`` (per-recipient rate limits, daily caps
and provider health, in Redis or in-process), ``providers/`` (one strategy per SMS provider and
the registry keyed by ``ProviderKind``), ``mock_gateway/`` (a real HTTP server speaking the
provider formats, for tests, demo and benchmark), ``api`` (receipt callback, statistics, a
citizen's messages), ``tasks`` (thin Celery tasks).

Not here: deciding who gets a benefit (``eligibility``) or when a grant changes; those callers
``enqueue`` inside their own transaction and ``cancel_pending`` when a death arrives.
"""
