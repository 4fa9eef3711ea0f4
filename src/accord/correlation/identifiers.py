"""Typed identifiers (phone, e-mail, vehicle plate, document number, crypto address, URL) reduced to one
canonical string each, so that two items correlate on an exact match of the canonical form.

Canonical forms are chosen so that the ways people write the same value collapse: "+44 (0)20 7946-0958" and
"00442079460958" are one phone number (E.164 through libphonenumber); "John.Doe@Example.COM" and
"john.doe@example.com" one mailbox; "AB-123 CD" and "ab123cd" one plate.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

import phonenumbers

__all__ = ["canonical", "extract"]

_SPACE_PUNCT = re.compile(r"[\s\-./_:·]+")
_HEX_ADDR = re.compile(r"^0x[0-9a-f]{40}$")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_URL = re.compile(r"https?://[^\s<>\"']+")
_BTC = re.compile(r"\b(?:bc1[02-9ac-hj-np-z]{25,87}|[13][1-9A-HJ-NP-Za-km-z]{25,34})\b")
_ETH = re.compile(r"\b0x[0-9a-fA-F]{40}\b")
_PHONE_TEXT = re.compile(r"(?:\+|00)\d[\d\s().\-]{6,18}\d")


def _phone(value: str) -> str | None:
    v = value.strip()
    if v.startswith("00"):
        v = "+" + v[2:]
    try:
        # Without a leading + there is no country to assume; keep the digits so exact digit strings still meet.
        n = phonenumbers.parse(v, None if v.startswith("+") else "ZZ")
    except phonenumbers.NumberParseException:
        digits = re.sub(r"\D", "", v)
        return digits if len(digits) >= 6 else None
    if not phonenumbers.is_possible_number(n):
        digits = re.sub(r"\D", "", v)
        return digits if len(digits) >= 6 else None
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)


def _email(value: str) -> str | None:
    v = value.strip().lower()
    if v.startswith("mailto:"):
        v = v[7:]
    local, at, domain = v.rpartition("@")
    if not at or not local or "." not in domain:
        return None
    local = local.split("+", 1)[0]  # sub-addressing: user+tag@ reaches user@
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain.rstrip('.')}"


def _url(value: str) -> str | None:
    v = value.strip()
    if "://" not in v:
        v = "http://" + v
    try:
        parts = urlsplit(v)
        host = (parts.hostname or "").rstrip(".")
        host = host.encode("idna").decode("ascii") if host else ""
        port = parts.port
    except (ValueError, UnicodeError):
        return None
    if not host:
        return None
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = parts.path.rstrip("/") or ""
    scheme = "http" if parts.scheme.lower() in ("http", "https") else parts.scheme.lower()
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def _plate(value: str) -> str | None:
    v = _SPACE_PUNCT.sub("", unicodedata.normalize("NFKC", value)).upper()
    return v or None


def _document(value: str) -> str | None:
    v = _SPACE_PUNCT.sub("", unicodedata.normalize("NFKC", value)).upper()
    return v if len(v) >= 4 else None


def _crypto(value: str) -> str | None:
    v = value.strip()
    if _HEX_ADDR.match(v.lower()):
        return v.lower()  # Ethereum: the checksum is only letter case
    if v.lower().startswith("bc1"):
        return v.lower()  # bech32 is case-insensitive
    return v or None  # base58 is case-sensitive


_CANON = {"phone": _phone, "email": _email, "url": _url, "vehicle-plate": _plate, "document": _document,
          "crypto": _crypto}


def canonical(kind: str, value: str) -> str | None:
    """The canonical form, or None when the value cannot be one of its kind (it is then not correlated)."""
    fn = _CANON.get(kind)
    return fn(value) if fn else None


def extract(text: str, limit: int = 200) -> list[tuple[str, str]]:
    """Identifiers found in free text (report bodies): e-mail addresses, URLs, crypto addresses and
    international phone numbers, as (type, raw value)."""
    out: list[tuple[str, str]] = []
    for kind, rx in (("email", _EMAIL), ("url", _URL), ("crypto", _BTC), ("crypto", _ETH), ("phone", _PHONE_TEXT)):
        for m in rx.finditer(text):
            out.append((kind, m.group(0)))
            if len(out) >= limit:
                return out
    return out
