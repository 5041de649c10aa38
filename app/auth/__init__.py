"""Authentication and authorisation: who is calling (``principal``) and the FastAPI
dependencies every domain's routes use to demand a role, a scope or ownership (``deps``).

Sign-in lives beside them: department API keys (``apikeys``), staff passwords (``staff``),
citizen and enterprise SMS codes (``codes``, sent by ``code_sms``), server-side sessions
(``sessions``), cookie and CSRF helpers for pages (``web``), the routes under ``/api/v1/auth``
(``api``), and request counters (``throttle``). See ``docs/access-control.md``."""
