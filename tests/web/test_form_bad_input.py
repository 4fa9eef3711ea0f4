"""Hostile values posted to every page form: never a 500, no Python exception text on the page, a refused form is
answered with a 4xx (422 with the message naming the field when it is bad input), and nothing is stored."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from accord.app import create_app
from accord.services import Services
from accord.storage.schema import metadata
from conftest import World, page_login

LEAKS = re.compile(r"Traceback|object has no attribute|NoneType|sqlalchemy|psycopg|sqlite3|OperationalError|"
                   r"DataError|KeyError|TypeError|ValueError|OverflowError")
VOLATILE = {"audit_log", "audit_head", "sessions", "rate_limits"}  # a refused form may touch these
HUGE = "9" * 400
LONG = "x" * 300_000

# (path, user, form fields): each a form with one hostile value; {item} and {meeting} are filled in.
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("/share/report", "alice", {"title": LONG, "body": "b"}),
    ("/share/report", "alice", {"title": "t", "body": "b", "classification": HUGE}),
    ("/share/report", "alice", {"title": "t", "body": "b", "classification": "-1"}),
    ("/share/report", "alice", {"title": "t", "body": "b", "credibility": HUGE}),
    ("/share/report", "alice", {"title": "t", "body": "b", "tlp": "purple"}),
    ("/share/report", "alice", {"title": "t", "body": "b", "release_scope": "everyone"}),
    ("/share/report", "alice", {"title": "t", "body": "b", "release_members": "ZULU"}),
    ("/share/report", "alice", {"title": "", "body": ""}),
    ("/share/report", "alice", {"title": "t", "body": "b", "unknown_field": "x"}),
    ("/share/observation", "alice", {"position": "91, 181", "observed_from": "2026-01-01T00:00"}),
    ("/share/observation", "alice", {"position": "nan, inf", "observed_from": "2026-01-01T00:00"}),
    ("/share/observation", "alice", {"position": "1e400, 1", "observed_from": "2026-01-01T00:00"}),
    ("/share/observation", "alice", {"position": "1, 2", "observed_from": "2026-02-30T00:00"}),
    ("/share/observation", "alice", {"position": "1, 2", "observed_from": "99999-01-01"}),
    ("/share/observation", "alice", {"position": "1, 2", "observed_from": "2026-01-01", "precision_m": HUGE}),
    ("/share/observation", "alice", {"position": "1, 2", "observed_from": "2026-01-01", "precision_m": "1e999"}),
    ("/share/observation", "alice", {"position": "1, 2", "observed_from": "2026-01-01", "precision_m": "nan"}),
    ("/share/entity", "alice", {"name": "", "entity_type": "dragon"}),
    ("/share/nonsense", "alice", {"title": "t"}),
    ("/item/{item}/edit", "alice", {"title": LONG, "body": "b"}),
    ("/item/{item}/edit", "alice", {"title": "t", "body": "b", "classification": HUGE}),
    ("/item/{item}/release", "alice", {"release_scope": "members", "release_members": "ZULU"}),
    ("/item/{item}/note", "alice", {"text": LONG}),
    ("/item/{item}/note", "alice", {}),
    ("/item/report--00000000-0000-4000-8000-000000000000/revoke", "alice", {}),
    ("/admin/members", "hub", {"code": "bad code!", "name": "x"}),
    ("/admin/members", "hub", {"code": "DELTA", "name": LONG}),
    ("/admin/members", "hub", {}),
    ("/admin/consumers", "hub", {"member": "ZULU", "code": "Z", "name": "z"}),
    ("/admin/users", "hub", {"username": "zed", "member": "ALPHA", "password": "zed-password",
                             "clearance": HUGE}),
    ("/admin/users", "hub", {"username": "zed", "member": "ALPHA", "password": "zed-password",
                             "language": "xx"}),
    ("/admin/users", "hub", {"username": "zed", "member": "ALPHA", "password": "zed-password",
                             "clearance": "one"}),
    ("/admin/tokens", "hub", {"username": "alice", "days": HUGE}),
    ("/admin/tokens", "hub", {"username": "alice", "days": "-5"}),
    ("/admin/tokens", "hub", {"username": "alice", "days": "1.5"}),
    ("/admin/defaults", "hub", {"tlp": "purple"}),
    ("/admin/defaults", "hub", {"classification": HUGE}),
    ("/meetings", "alice", {"title": "t", "date": "2026-02-30", "from": "2026-01-01", "to": "2026-02-01",
                            "members": "BRAVO"}),
    ("/meetings", "alice", {"title": "t", "date": "2026-03-01", "from": "2026-02-01", "to": "2026-01-01",
                            "members": "BRAVO"}),
    ("/meetings", "alice", {"title": LONG, "date": "2026-03-01", "from": "2026-01-01", "to": "2026-02-01",
                            "members": "ZULU"}),
    ("/meetings", "alice", {}),
    ("/meetings/{meeting}/minutes", "alice", {"kind": "prophecy", "text": "t"}),
    ("/meetings/{meeting}/minutes", "alice", {"kind": "action", "text": "t", "owner": "ZULU", "due": "soon"}),
    ("/meetings/{meeting}/summary/edit", "alice", {"narrative": LONG * 5, "present_figures": HUGE}),
    ("/share/bulk/commit", "alice", {"payload": "{not json"}),
    ("/share/bulk/commit", "alice", {"payload": '{"a": 1}'}),
    ("/share/bulk/commit", "alice", {"payload": "[1, null, \"x\"]"}),
    ("/language", "alice", {"lang": "xx"}),
    ("/login", "alice", {"username": LONG, "password": LONG}),
]


def snapshot(svc: Services) -> dict[str, list[str]]:
    with svc.db.read() as conn:
        return {n: sorted(repr(tuple(r)) for r in conn.execute(select(t)))
                for n, t in metadata.tables.items() if n not in VOLATILE and n != "users"}


def changed(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    return [k for k in before if before[k] != after.get(k)]


@pytest.fixture
def pages(world: World, settings: Any) -> tuple[Any, World, dict[str, str]]:
    item = world.share("alice")
    meeting = world.svc.meetings.create(world.p("alice"), {
        "title": "Q1", "date": "2026-03-01", "period": {"from": "2026-01-01", "to": "2026-02-01"},
        "members": ["BRAVO"]})
    return create_app(settings, world.svc), world, {"item": item["id"], "meeting": meeting["id"]}


def test_hostile_form_values(pages: tuple[Any, World, dict[str, str]]) -> None:
    app, world, ids = pages
    clients = {u: page_login(app, u) for u in ("alice", "hub")}
    failures = []
    for path, user, fields in CASES:
        c, csrf = clients[user]
        before = snapshot(world.svc)
        target = path.format(**ids)
        r = c.post(target, data={"csrf_token": csrf, **fields})
        where = f"POST {path} {sorted(fields)} -> {r.status_code} {LEAKS.findall(r.text)[:3]}"
        if r.status_code >= 500 or LEAKS.search(r.text):
            failures.append(where)
        elif r.status_code >= 400 and changed(before, snapshot(world.svc)):
            failures.append(where + " stored something: " + ", ".join(changed(before, snapshot(world.svc))))
    assert not failures, "\n".join(failures)


def test_bad_csrf_token_is_refused_and_stores_nothing(pages: tuple[Any, World, dict[str, str]]) -> None:
    app, world, _ = pages
    c, _csrf = page_login(app, "alice")
    before = snapshot(world.svc)
    for token in ("", "forged", "\u0660" * 64, "x" * 10_000):
        r = c.post("/share/report", data={"csrf_token": token, "title": "t", "body": "b"})
        assert 400 <= r.status_code < 500, r.status_code
    assert not changed(before, snapshot(world.svc))
