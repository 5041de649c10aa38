"""Data-subject rights and data protection around the encrypted personal data: the access log
(who viewed whose record), a citizen's export of everything held about them, refusal of
automated decisions, and rotation of the data keys. The encryption primitives themselves are
in ``app.privacy``; this package is the domain that uses them (models, repository, service,
export, rotation, api)."""
