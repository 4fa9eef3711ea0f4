"""Handling vocabulary: TLP 2.0, classification levels, releasability scopes, Admiralty grading, roles."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CLASSIFICATIONS",
    "CREDIBILITY",
    "ITEM_KINDS",
    "MEMBER_ROLES",
    "READ_ROLES",
    "RELEASE_SCOPES",
    "RELIABILITY",
    "TLP",
    "USER_ROLES",
    "WRITE_ROLES",
    "Principal",
]

TLP = ("clear", "green", "amber", "amber+strict", "red")
# Levels are ordered: a user with clearance N reads items classified at N or below.
CLASSIFICATIONS = ("unclassified", "restricted", "confidential", "secret", "top-secret")
RELEASE_SCOPES = ("originator", "members", "all")
RELIABILITY = ("A", "B", "C", "D", "E", "F")
CREDIBILITY = (1, 2, 3, 4, 5, 6)
MEMBER_ROLES = ("member", "chair", "observer")
USER_ROLES = ("hub-admin", "member-admin", "analyst", "reader", "consumer")
READ_ROLES = frozenset(USER_ROLES)  # every role may read what is released to it; see policy.py
WRITE_ROLES = frozenset({"member-admin", "analyst"})
ADMIN_ROLES = frozenset({"hub-admin", "member-admin"})
ITEM_KINDS = ("report", "observation", "entity", "relationship", "note")
ENTITY_TYPES = ("person", "group", "organisation")


@dataclass(frozen=True)
class Principal:
    """Who is asking: the one input of the access policy."""

    user_id: int
    username: str
    member_id: int
    member_code: str
    role: str
    clearance: int
    consumer_id: int | None = None
    language: str = "en"
    via: str = "session"  # session | token | cli
    token_id: str | None = None  # the token's public id (tok_...), when authenticated by one

    @property
    def is_consumer(self) -> bool:
        return self.role == "consumer"

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES
