"""Sweeps: evaluate every effective policy over subjects (all of them, or only those whose data
changed or whose date triggers fired), turn changed outcomes into decisions and grant changes,
and reconcile the ledger. A sweep is split into shards by subject-key range; shards run in
process (embedded default) or on Celery workers with leases (production)."""
