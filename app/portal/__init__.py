"""What the citizen and enterprise portals share: the bundled policies by id (compiled once),
grant states and payment statuses in Chinese, the benefit view of a grant, and the plain-Chinese
explanation of a decision (``eligibility.explain`` run on the subject's own rows). The portals
themselves are ``app.citizen`` and ``app.enterprise``."""
