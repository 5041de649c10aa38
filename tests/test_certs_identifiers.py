"""GB/T 36904-style identifiers: round trip, check character, and rejection of any change."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.iso7064 import mod_37_36

from certs.identifiers import (
    InvalidIdentifier,
    is_valid_identifier,
    make_identifier,
    parse_identifier,
)
from certs.models import DEPARTMENTS

ALNUM = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=20)
ISSUERS = st.sampled_from([d.code for d in DEPARTMENTS.values()])


@given(type_code=ALNUM, issuer=ISSUERS, serial=ALNUM, version=st.integers(0, 999))
def test_round_trip_and_check_character(type_code: str, issuer: str, serial: str,
                                        version: int) -> None:
    identifier = make_identifier(type_code, issuer, serial, version)
    assert identifier.startswith("1.2.156.3005.2.")
    parsed = parse_identifier(identifier)
    assert (parsed.type_code, parsed.issuer_code, parsed.serial, parsed.version) == (
        type_code, issuer, serial, version)
    middle = type_code + issuer + serial + f"{version:03d}"
    assert mod_37_36.is_valid(middle + identifier[-1])


@given(type_code=ALNUM, issuer=ISSUERS, serial=ALNUM,
       replacement=st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
def test_any_changed_check_or_serial_character_is_rejected(
        type_code: str, issuer: str, serial: str, replacement: str) -> None:
    identifier = make_identifier(type_code, issuer, serial)
    if replacement != identifier[-1]:
        assert not is_valid_identifier(identifier[:-1] + replacement)
    changed = serial[:-1] + replacement
    if changed != serial:
        forged = identifier.replace(f".{serial}.", f".{changed}.", 1)
        assert not is_valid_identifier(forged)


@pytest.mark.parametrize("text", [
    "", "1.2.156.3005.2", "1.2.156.3005.2.A.B.C.001.X",
    "2.2.156.3005.2.A.11370600MB1234567Q.1.001.X",
    "1.2.156.3005.2.a.11370600MB1234567Q.1.001.X", "1.2.156.3005.2.A.11370600MB1234567Q.1.1.X",
    "1.2.156.3005.2.A.11370600MB1234567X.1.001.X",
])
def test_malformed_identifiers_are_refused(text: str) -> None:
    with pytest.raises(InvalidIdentifier):
        parse_identifier(text)


def test_make_refuses_fields_that_could_not_be_parsed_back() -> None:
    with pytest.raises(InvalidIdentifier):
        make_identifier("A.B", DEPARTMENTS["health"].code, "1")
    with pytest.raises(InvalidIdentifier):
        make_identifier("A", "91110000600037341X", "1")
