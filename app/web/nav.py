"""Navigation per audience (公众首页, 个人, 企业, and later 工作人员 / 审计): each portal registers
its links once at import; the base layout shows the links of the page's audience and marks the
current one with ``aria-current``."""

from __future__ import annotations

from dataclasses import dataclass

AUDIENCE_TITLES = {
    "public": "免申即享服务平台",
    "citizen": "个人服务",
    "enterprise": "企业服务",
    "officer": "政策专员工作台",
    "auditor": "审计工作台",
}


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str


NAVIGATION: dict[str, list[NavItem]] = {audience: [] for audience in AUDIENCE_TITLES}

# Page paths start with their audience's prefix; a page that needs sign-in sends an anonymous
# visitor to the audience's login page.
PREFIXES = {"/citizen": "citizen", "/enterprise": "enterprise", "/officer": "officer",
            "/auditor": "auditor"}
LOGIN_PATHS = {"citizen": "/citizen/login", "enterprise": "/enterprise/login",
               "officer": "/staff/login", "auditor": "/staff/login"}


def register(audience: str, *items: NavItem) -> None:
    """Add links to an audience's navigation (idempotent: a path is listed once)."""
    links = NAVIGATION.setdefault(audience, [])
    known = {item.path for item in links}
    links.extend(item for item in items if item.path not in known)


def links_for(audience: str) -> list[NavItem]:
    return NAVIGATION.get(audience, [])


register(
    "public",
    NavItem("首页", "/"),
    NavItem("个人登录", "/citizen/login"),
    NavItem("企业登录", "/enterprise/login"),
    NavItem("工作人员登录", "/staff/login"),
)


def audience_of(path: str) -> str:
    for prefix, audience in PREFIXES.items():
        if path == prefix or path.startswith(prefix + "/"):
            return audience
    return "public"
