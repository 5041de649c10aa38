"""E-certificates (电子证照) and identity verification (核验).

What lives here: the GB/T 36904-style certificate identifier (``identifiers``), the certificate
type registry and tables (``models``), department signing keys and signatures (``signing``),
the W3C Bitstring Status List model for revocation and suspension (``status_list``), issuance,
verification and revocation (``service``), queries (``repository``), HTTP routes (``api``) and
the real-name check against the population registry (``person_check``). The CLI is
``app/cli/certs.py``. What does not: eligibility decisions (the grant pipeline calls
:func:`certs.service.issue_certificate`), SMS, the audit log.
"""
