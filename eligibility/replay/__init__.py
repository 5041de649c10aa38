"""Replaying a stored decision (``mianshen audit replay``, ``GET /api/v1/audit/decisions/{id}/
replay``): ``service`` re-evaluates it with the recorded policy version (text from the registry
by content hash), parameters and input snapshot as of its recorded date and lists what differs;
``schemas`` the report; ``api`` the auditors' route."""
