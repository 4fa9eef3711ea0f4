"""Domain errors. They carry no HTTP status: ``accord.http.errors`` translates them, once, into problem+json,
the TAXII error shape or an HTML page, and the CLI prints them as readable messages.

    AccordError
    ├── ConfigError              a setting or config file is wrong
    ├── AuthenticationFailed     no, bad, expired or revoked credentials; locked account
    ├── PermissionDenied         authenticated, but the role may not do this (never used to hide items)
    ├── NotFound                 no such object, or one the caller may not see: the two are indistinguishable
    ├── ValidationFailed         bad input; carries a list of FieldError(field, message)
    ├── Conflict                 the request clashes with the stored state (duplicate id, stale version)
    ├── LimitExceeded            a configured limit (body size, batch size) was passed
    └── IntegrityError           stored data failed a check (the audit chain)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AccordError",
    "AuthenticationFailed",
    "ConfigError",
    "Conflict",
    "FieldError",
    "IntegrityError",
    "LimitExceeded",
    "NotFound",
    "PermissionDenied",
    "ValidationFailed",
]


class AccordError(Exception):
    """Base of every error Accord raises on purpose."""

    title = "Error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title


class ConfigError(AccordError):
    title = "Configuration error"


class AuthenticationFailed(AccordError):
    title = "Authentication required"


class PermissionDenied(AccordError):
    title = "Not permitted"


class NotFound(AccordError):
    title = "Not found"

    def __init__(self, detail: str = "No such object.") -> None:
        # The detail never names the object's kind or owner: a denied item looks exactly like a missing one.
        super().__init__(detail)


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class ValidationFailed(AccordError):
    title = "Invalid input"

    def __init__(self, errors: list[FieldError] | FieldError, detail: str = "") -> None:
        self.errors = [errors] if isinstance(errors, FieldError) else list(errors)
        first = self.errors[0] if self.errors else None
        super().__init__(detail or (f"{first.field}: {first.message}" if first else "Invalid input"))

    @classmethod
    def one(cls, field: str, message: str) -> ValidationFailed:
        return cls([FieldError(field, message)])


class Conflict(AccordError):
    title = "Conflict"


class LimitExceeded(AccordError):
    title = "Limit exceeded"


class IntegrityError(AccordError):
    title = "Integrity check failed"
