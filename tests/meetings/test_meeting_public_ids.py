"""Meetings, minute entries and API tokens are named by random public ids, never by their row numbers: a row number is a
counter of the whole hub, and a member shown meetings 3 and 7 would learn that three meetings it takes no part
in were convened between them (minute entries alike). Pages, API, CLI and the audit trail show the public id;
the row number is not accepted as an id; migration 0015 gives rows written before it their public ids."""

from __future__ import annotations

import re
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select

from accord.audit.listing import listing
from accord.errors import NotFound
from accord.meetings.tables import meetings, minutes
from accord.storage.schema import tokens
from conftest import World, bearer, downgrade_and_upgrade

MEETING = re.compile(r"^mtg_[A-Za-z0-9_-]{16}$")
ENTRY = re.compile(r"^min_[A-Za-z0-9_-]{16}$")


def convene(world: World, members: list[str], title: str = "Session") -> dict[str, Any]:
    return world.svc.meetings.create(world.p("alice"), {
        "title": title, "date": "2026-11-20", "members": members,
        "period": {"from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}})


def row_ids(world: World) -> tuple[list[int], list[int]]:
    with world.svc.db.read() as conn:
        return (list(conn.execute(select(meetings.c.id)).scalars()),
                list(conn.execute(select(minutes.c.id)).scalars()))


def test_ids_shown_are_random_and_row_numbers_are_not_ids(world: World) -> None:
    mt = world.svc.meetings
    first = convene(world, ["BRAVO"])
    convene(world, ["CHARLIE"], "Not Bravo's")
    third = convene(world, ["BRAVO"])
    note = mt.add_minute(world.p("alice"), third["id"], {"kind": "action", "text": "Do it", "owner": "BRAVO"})
    shown = mt.list_for(world.p("bob"))
    assert {m["id"] for m in shown} == {first["id"], third["id"]}
    assert all(MEETING.match(m["id"]) for m in shown) and ENTRY.match(note["id"])
    got = mt.get(world.p("bob"), third["id"])
    assert [e["id"] for e in got["minutes"]] == [note["id"]]
    # The row numbers (1, 2, 3; entry 1) are not ids, as numbers or as text: the same NotFound as a missing id.
    meeting_rows, entry_rows = row_ids(world)
    for ref in [*meeting_rows, *map(str, meeting_rows), "mtg_" + "x" * 16, "", "x" * 100]:
        with pytest.raises(NotFound):
            mt.get(world.p("bob"), ref)
    for ref in [*entry_rows, *map(str, entry_rows)]:
        with pytest.raises(NotFound):
            mt.close_action(world.p("bob"), third["id"], ref)
    assert mt.close_action(world.p("bob"), third["id"], note["id"])["status"] == "done"


def test_the_trail_names_meetings_by_their_public_ids(world: World) -> None:
    mt = world.svc.meetings
    m = convene(world, ["BRAVO"])
    e = mt.add_minute(world.p("alice"), m["id"], {"kind": "note", "text": "Noted"})
    for who in ("hub", "aadmin"):
        with world.svc.db.read() as conn:
            records = [{**r, "detail": orjson.loads(r["detail"]) if isinstance(r["detail"], str) else r["detail"]}
                       for r in listing(conn, world.p(who), limit=200) if r["action"].startswith("meeting.")]
        assert {r["action"] for r in records} >= {"meeting.create", "meeting.minute.add"}
        assert {r["detail"]["meeting"] for r in records} == {m["id"]}
        assert [r["detail"]["entry"] for r in records if r["action"] == "meeting.minute.add"] == [e["id"]]


async def test_api_and_pages_take_only_public_ids(world: World, client: httpx.AsyncClient) -> None:
    m = convene(world, ["BRAVO"])
    meeting_rows, _ = row_ids(world)
    r = await client.get(f"/api/v1/meetings/{m['id']}", headers=bearer(world, "bob"))
    assert r.status_code == 200 and r.json()["id"] == m["id"]
    missing = await client.get("/api/v1/meetings/mtg_" + "y" * 16, headers=bearer(world, "bob"))
    for ref in meeting_rows:
        r = await client.get(f"/api/v1/meetings/{ref}", headers=bearer(world, "bob"))
        body, expected = r.json(), missing.json()
        for volatile in ("instance", "request_id"):
            body.pop(volatile), expected.pop(volatile)
        assert (r.status_code, body) == (404, expected)
    listed = await client.get("/api/v1/meetings", headers=bearer(world, "bob"))
    assert [x["id"] for x in listed.json()["meetings"]] == [m["id"]]


def test_migration_gives_earlier_rows_public_ids(world: World) -> None:
    mt = world.svc.meetings
    m = convene(world, ["BRAVO"])
    mt.add_minute(world.p("alice"), m["id"], {"kind": "note", "text": "Noted"})
    downgrade_and_upgrade(world.svc.db, "0014_communique_contributions")
    [again] = mt.list_for(world.p("bob"))
    assert MEETING.match(again["id"]) and again["id"] != m["id"]  # drawn again on upgrade
    entry = mt.get(world.p("bob"), again["id"])["minutes"][0]
    assert ENTRY.match(entry["id"]) and entry["text"] == "Noted"
    assert all(TOKEN.match(t["id"]) for t in world.svc.accounts.list_tokens("bob"))
    fresh = convene(world, ["BRAVO"])  # and new rows get theirs as before
    assert MEETING.match(fresh["id"]) and len({again["id"], fresh["id"]}) == 2


TOKEN = re.compile(r"^tok_[A-Za-z0-9_-]{16}$")


def test_tokens_are_named_by_public_ids(world: World) -> None:
    """API tokens too: a member administrator lists its users' tokens and reads their ids in the trail."""
    acc = world.svc.accounts
    issued = acc.create_token("bob", "script")
    listed = {t["id"] for t in acc.list_tokens("bob")}
    assert TOKEN.match(issued.id) and issued.id in listed and all(TOKEN.match(t) for t in listed)
    p = acc.token_principal(issued.secret)
    assert p.token_id == issued.id
    world.svc.items.create(p, {"kind": "report", "content": {"title": "t", "body": "b"}})
    with world.svc.db.read() as conn:
        detail = [orjson.loads(r["detail"]) if isinstance(r["detail"], str) else r["detail"]
                  for r in listing(conn, world.p("hub"), limit=50)]
    used = [d for d in detail if d.get("via") == "token"]
    assert used and {d["token"] for d in used} == {issued.id}
    with world.svc.db.read() as conn:
        rows = list(conn.execute(select(tokens.c.id)).scalars())
    for ref in [*rows, *map(str, rows)]:
        with pytest.raises(NotFound):
            acc.revoke_token(ref, world.p("hub"))
    acc.revoke_token(issued.id, world.p("bob"))
    assert [t["revoked"] for t in acc.list_tokens("bob") if t["id"] == issued.id] == [True]
