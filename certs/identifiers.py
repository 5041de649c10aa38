"""E-certificate identifiers in the GB/T 36904 style used by provincial platforms:

``1.2.156.3005.2.<type code>.<issuer USCC>.<serial>.<3-digit version>.<check>``

The check character is ISO 7064 MOD 37,36 (``stdnum.iso7064.mod_37_36``) computed over the
middle fields (type code, issuer USCC, serial, version) concatenated without dots. Fields are
upper-case alphanumeric. Nothing here touches the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum.cn import uscc
from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_37_36

PREFIX = "1.2.156.3005.2"
_FIELD = re.compile(r"^[0-9A-Z]+$")
_VERSION = re.compile(r"^[0-9]{3}$")


class InvalidIdentifier(ValueError):
    """The text is not a well-formed certificate identifier (the message names the part)."""


@dataclass(frozen=True)
class CertificateIdentifier:
    type_code: str
    issuer_code: str
    serial: str
    version: int = 1

    @property
    def body(self) -> str:
        return f"{self.type_code}{self.issuer_code}{self.serial}{self.version:03d}"

    @property
    def check(self) -> str:
        return str(mod_37_36.calc_check_digit(self.body))

    def __str__(self) -> str:
        return (f"{PREFIX}.{self.type_code}.{self.issuer_code}.{self.serial}."
                f"{self.version:03d}.{self.check}")


def make_identifier(type_code: str, issuer_code: str, serial: str, version: int = 1) -> str:
    """Build an identifier; refuses fields that could not be parsed back."""
    for name, value in (("type code", type_code), ("issuer code", issuer_code),
                        ("serial", serial)):
        if not _FIELD.match(value):
            raise InvalidIdentifier(f"{name} must be upper-case alphanumeric")
    if not 0 <= version <= 999:
        raise InvalidIdentifier("version must be 0..999")
    if not uscc.is_valid(issuer_code):
        raise InvalidIdentifier("issuer code is not a valid unified social credit code")
    return str(CertificateIdentifier(type_code, issuer_code, serial, version))


def parse_identifier(text: str) -> CertificateIdentifier:
    """Parse and validate (prefix, fields, issuer USCC, check character)."""
    if not isinstance(text, str) or not text.startswith(PREFIX + "."):
        raise InvalidIdentifier("identifier must start with " + PREFIX)
    parts = text[len(PREFIX) + 1:].split(".")
    if len(parts) != 5:
        raise InvalidIdentifier("identifier must have type, issuer, serial, version and check")
    type_code, issuer_code, serial, version, check = parts
    if not all(_FIELD.match(p) for p in (type_code, issuer_code, serial, check)):
        raise InvalidIdentifier("identifier fields must be upper-case alphanumeric")
    if not _VERSION.match(version):
        raise InvalidIdentifier("version must be three digits")
    if len(check) != 1:
        raise InvalidIdentifier("check must be one character")
    try:
        valid_uscc = uscc.is_valid(issuer_code)
    except ValidationError:
        valid_uscc = False
    if not valid_uscc:
        raise InvalidIdentifier("issuer code is not a valid unified social credit code")
    identifier = CertificateIdentifier(type_code, issuer_code, serial, int(version))
    if identifier.check != check:
        raise InvalidIdentifier("check character does not match")
    return identifier


def is_valid_identifier(text: str) -> bool:
    try:
        parse_identifier(text)
    except InvalidIdentifier:
        return False
    return True
