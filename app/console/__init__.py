"""Staff consoles (pages, zh-CN): the staff sign-in page, the officer console under ``/officer``
(policies: editor, tests, impact preview, submit; approval queue; review queue) and the auditor
console under ``/auditor`` (decision search, provenance, inclusion proof, replay, export).

``signin`` is the password sign-in, ``charts`` draws server-side SVG bar charts, ``policies``,
``approvals``, ``reviews`` and ``auditor`` are page routers that call the domains' services.
"""
