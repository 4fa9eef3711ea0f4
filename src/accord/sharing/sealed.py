"""Opaque paging tokens: a position in the store, encrypted and authenticated.

A page token must name where the next page starts, and that position is a global sequence number (``items.seq``,
``stix_versions.seq``). Shown in the clear, the gap between two tokens counts the items stored in between that the
reader may not see. So a token is the position sealed with ChaCha20-Poly1305 (a random 96-bit nonce per token, so
two tokens for the same position differ) under a subkey of the ``secret_key`` setting derived with HKDF-SHA256
and a purpose label: a token of one purpose never opens as another, and every server process sharing the secret
accepts the tokens of the others. A token that was altered, forged, or sealed under another secret fails to
open, and the caller reports it exactly as any other bad token.

Layout, URL-safe base64 without padding: nonce (12 bytes) | ciphertext | tag (16 bytes).
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["BadToken", "open_number", "open_token", "seal", "seal_number"]

_NONCE = 12
_TAG = 16


class BadToken(ValueError):
    """The token was not sealed by this hub for this purpose (callers turn it into their own field error)."""


def _aead(secret: str, purpose: str) -> ChaCha20Poly1305:
    # HKDF costs a few microseconds: derived per call, so nothing is kept at module level.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"accord paging token v1 " + purpose.encode()).derive(secret.encode())
    return ChaCha20Poly1305(key)


def seal(secret: str, purpose: str, payload: bytes) -> str:
    """``payload`` sealed for ``purpose`` under ``secret``, as URL-safe text."""
    nonce = os.urandom(_NONCE)
    blob = nonce + _aead(secret, purpose).encrypt(nonce, payload, purpose.encode())
    return base64.urlsafe_b64encode(blob).decode().rstrip("=")


def open_token(secret: str, purpose: str, token: str) -> bytes:
    """The payload ``seal`` put in ``token``; ``BadToken`` if it was not sealed here for ``purpose``."""
    try:
        blob = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise BadToken from None
    if len(blob) < _NONCE + _TAG:
        raise BadToken
    try:
        return _aead(secret, purpose).decrypt(blob[:_NONCE], blob[_NONCE:], purpose.encode())
    except InvalidTag:
        raise BadToken from None


def seal_number(secret: str, purpose: str, n: int) -> str:
    """A position (a global seq) sealed for ``purpose``: the paging tokens that name one row."""
    return seal(secret, purpose, n.to_bytes(8, "big"))


def open_number(secret: str, purpose: str, token: str) -> int:
    """The number `seal_number` put in ``token``; ``BadToken`` otherwise."""
    raw = open_token(secret, purpose, token)
    if len(raw) != 8:
        raise BadToken
    return int.from_bytes(raw, "big")
