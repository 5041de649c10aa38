"""Server-rendered pages (Jinja2, zh-CN): the shared foundation every audience's pages build on.

``templating`` renders a page inside the base layout (navigation per audience, masked personal
data filters, money in yuan), ``nav`` holds each audience's navigation (a portal registers its
links once), ``errors`` turns any failure on a page into the one HTML error page (API paths keep
the JSON error format), ``pages`` holds the public pages and mounts ``static/``.

The citizen portal lives in ``app.citizen``, the enterprise portal in ``app.enterprise``; an
officer or auditor console adds its own package with a ``pages`` router and registers its
navigation here. No business logic lives in this package.
"""
