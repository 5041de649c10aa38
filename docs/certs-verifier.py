#!/usr/bin/env python3
"""Standalone offline verifier of a Mianshen e-certificate token (the QR code's content).

    mianshen certs issuers --json > issuers.json            # pin these from a trusted channel
    mianshen certs status <issuer USCC> --json > status.json  # refresh daily
    python3 certs-verifier.py <token> --issuers issuers.json [--status status.json]

Checks the signature (Ed25519, ECDSA P-256, or SM2/SM3 when tongsuopy is installed) with the
issuer's published key named in the token, that a retired key signed nothing dated after its
retirement, the identifier's ISO 7064 MOD 37,36 check character, the validity dates and, with
--status, the issuer's signed bitstring status list (revocation, suspension, validUntil).
Prints VALID or INVALID <reason> and exits 0 or 1. Needs only the Python standard library and
`cryptography` (and `tongsuopy` for SM2 issuers). Format: docs/certs.md.
"""

import argparse
import base64
import gzip
import json
import sys
from datetime import date, datetime, timezone

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PREFIX = "1.2.156.3005.2."


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def split_token(token):
    payload_b64, signature_b64, key_id = token.strip().split(".")
    body = unb64url(payload_b64)
    return body, json.loads(body), unb64url(signature_b64), key_id


def sm2_signature_ok(key, signature, body):
    try:
        from tongsuopy.crypto import hashes as sm_hashes
        from tongsuopy.crypto import serialization as sm_serialization
        from tongsuopy.crypto.asymciphers import ec as sm_ec
        from tongsuopy.crypto.exceptions import InternalError as Sm2InternalError
        from tongsuopy.crypto.exceptions import InvalidSignature as Sm2InvalidSignature
        from tongsuopy.crypto.exceptions import UnsupportedAlgorithm as Sm2Unsupported
    except ImportError:
        return False
    try:
        public = sm_serialization.load_der_public_key(base64.b64decode(key["public_key"]))
        if not isinstance(getattr(public, "curve", None), sm_ec.SM2):
            return False
        public.verify(signature, body, sm_ec.ECDSA(sm_hashes.SM3()))
    except (Sm2InvalidSignature, Sm2Unsupported, Sm2InternalError):
        return False
    return True


def signature_ok(key, signature, body):
    if key["algorithm"] == "sm2-sm3":
        return sm2_signature_ok(key, signature, body)
    try:
        public = serialization.load_der_public_key(base64.b64decode(key["public_key"]))
    except UnsupportedAlgorithm:
        return False
    try:
        if key["algorithm"] == "ed25519" and isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(signature, body)
            return True
        if key["algorithm"] == "ecdsa-p256" and isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, body, ec.ECDSA(hashes.SHA256()))
            return True
    except InvalidSignature:
        return False
    return False


def mod_37_36_ok(text):
    """ISO 7064 MOD 37,36 over the text including its check character."""
    check = 18
    for char in text:
        check = (((check or 36) * 2) % 37 + ALPHABET.index(char)) % 36
    return check == 1


def identifier_ok(identifier, issuer_code):
    if not identifier.startswith(PREFIX):
        return False
    parts = identifier[len(PREFIX):].split(".")
    if len(parts) != 5 or parts[1] != issuer_code or len(parts[3]) != 3 or len(parts[4]) != 1:
        return False
    text = "".join(parts)
    return all(c in ALPHABET for c in text) and mod_37_36_ok(text)


def in_service(key, day):
    return not key.get("retired_at") or day <= datetime.fromisoformat(key["retired_at"]).date()


def verify(token, issuers, status_token, today):
    body, payload, signature, key_id = split_token(token)
    issuer = next((i for i in issuers if i["code"] == payload.get("issuerCode")), None)
    if issuer is None:
        return "unknown_issuer"
    key = next((k for k in issuer["keys"] if k["key_id"] == key_id), None)
    if key is None:
        return "unknown_key"
    if not signature_ok(key, signature, body):
        return "bad_signature"
    if not identifier_ok(str(payload["id"]), issuer["code"]):
        return "bad_identifier"
    if not in_service(key, date.fromisoformat(payload["issuedOn"])):
        return "key_retired"
    if today < date.fromisoformat(payload["validFrom"]):
        return "not_yet_valid"
    if payload.get("validTo") and today > date.fromisoformat(payload["validTo"]):
        return "expired"
    if status_token is None:
        return "ok (status not checked)"
    list_body, status, list_signature, list_key_id = split_token(status_token)
    list_key = next((k for k in issuer["keys"] if k["key_id"] == list_key_id), None)
    if (status.get("issuer") != issuer["code"] or list_key is None
            or not signature_ok(list_key, list_signature, list_body)
            or not in_service(list_key, datetime.fromisoformat(status["validFrom"]).date())):
        return "status_list_invalid"
    if today > datetime.fromisoformat(status["validUntil"]).date():
        return "status_list_stale"
    index = int(payload["statusIndex"])
    for purpose, outcome in (("revocation", "revoked"), ("suspension", "suspended")):
        bits = gzip.decompress(unb64url(status[purpose][1:]))
        if bits[index // 8] & (0x80 >> (index % 8)):
            return outcome
    return "ok"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("token")
    parser.add_argument("--issuers", required=True, help="JSON from `mianshen certs issuers`")
    parser.add_argument("--status", help="JSON from `mianshen certs status ISSUER --json`")
    parser.add_argument("--today", help="YYYY-MM-DD (default: today, UTC)")
    args = parser.parse_args()
    with open(args.issuers, encoding="utf-8") as handle:
        issuers = json.load(handle)
    status_token = None
    if args.status:
        with open(args.status, encoding="utf-8") as handle:
            status_token = json.load(handle)["token"]
    today = (date.fromisoformat(args.today) if args.today
             else datetime.now(timezone.utc).date())  # noqa: UP017 - runs on old Pythons too
    try:
        outcome = verify(args.token, issuers, status_token, today)
    except (ValueError, KeyError, IndexError, TypeError, OSError, EOFError):
        outcome = "malformed"
    print("VALID" if outcome.startswith("ok") else "INVALID", outcome)
    sys.exit(0 if outcome.startswith("ok") else 1)


if __name__ == "__main__":
    main()
