"""Rendering of a certificate for people: the QR code carrying its compact signed token
(``segno``, pure Python, SVG or PNG) and a minimal HTML page in Simplified Chinese. No database
access, no verification here."""

from __future__ import annotations

import html
import io

import segno

from certs.schemas import CertificateView


def qr_code(token: str, kind: str = "svg", scale: int = 4) -> bytes:
    """The token as a QR code (error correction M, byte mode)."""
    if kind not in {"svg", "png"}:
        raise ValueError("kind must be svg or png")
    buffer = io.BytesIO()
    segno.make(token, error="m", micro=False).save(buffer, kind=kind, scale=scale)
    return buffer.getvalue()


def page(view: CertificateView, token: str) -> str:
    svg = qr_code(token).decode()
    rows = [
        ("证照标识", view.cert_id), ("证照类型", f"{view.type_name}（{view.type_code}）"),
        ("证照编号", view.cert_number), ("持证主体", view.holder),
        ("颁发机构", f"{view.issuer_name}（{view.issuer_code}）"),
        ("颁发日期", view.issued_on.isoformat()),
        ("有效期", f"{view.valid_from.isoformat()} 至 "
                   f"{view.valid_to.isoformat() if view.valid_to else '长期'}"),
        ("状态", {"valid": "有效", "suspended": "暂停", "revoked": "注销"}.get(view.status,
                                                                          view.status)),
    ]
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                    for k, v in rows)
    return ("<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">"
            f"<title>{html.escape(view.type_name)}</title><body><h1>{html.escape(view.type_name)}"
            f"</h1><table>{cells}</table><div>{svg}</div>"
            "<p>扫描二维码可离线核验本证照的真实性。</p></body></html>")
