"""Encryption at rest, blind indexes and masking."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidTag

from app.privacy import Keyring, mask_id_number, mask_mobile, mask_name

KEY_A = "a:" + base64.b64encode(b"A" * 32).decode()
KEY_B = "b:" + base64.b64encode(b"B" * 32).decode()


def test_round_trip_and_no_plaintext_in_ciphertext() -> None:
    ring = Keyring.from_secrets(KEY_A, "blind")
    token = ring.encrypt_json({"name": "陈大文", "id_number": "440604195601011234"})
    assert "440604195601011234" not in token and "陈" not in token
    assert ring.decrypt_json(token)["name"] == "陈大文"


def test_rotation_keeps_old_ciphertext_readable() -> None:
    old = Keyring.from_secrets(KEY_A, "blind")
    token = old.encrypt(b"secret")
    rotated = Keyring.from_secrets(f"{KEY_B};{KEY_A}", "blind")
    assert rotated.decrypt(token) == b"secret"
    assert rotated.encrypt(b"x").startswith("b.")


def test_tampered_ciphertext_is_rejected() -> None:
    ring = Keyring.from_secrets(KEY_A, "blind")
    kid, _, b64 = ring.encrypt(b"secret").partition(".")
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 1
    with pytest.raises(InvalidTag):
        ring.decrypt(f"{kid}.{base64.b64encode(bytes(raw)).decode()}")


def test_blind_index_is_keyed_and_purpose_separated() -> None:
    one = Keyring.from_secrets(KEY_A, "key-one")
    two = Keyring.from_secrets(KEY_A, "key-two")
    assert one.subject_key("440604195601011234") == one.subject_key(" 440604195601011234 ")
    assert one.subject_key("440604195601011234") != two.subject_key("440604195601011234")
    assert one.subject_key("13812345678") != one.mobile_index("13812345678")


def test_masking() -> None:
    assert mask_id_number("440604195601011234") == "440604********1234"
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_name("陈大文") == "陈**"
