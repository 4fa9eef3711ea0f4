"""Fixtures and helpers shared by the core tests (imported by name into each test module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

import accord.sharing.accounts as accounts


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Argon2 with its production cost takes tens of milliseconds per hash on a loaded CI machine; tests that
    create many users use a cheap parameter set (the stored hash records its own parameters, so verification is
    unchanged)."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
