"""accord migrate (SQLite <-> PostgreSQL) and backup/restore round trips: nothing lost, the chain verifies, the
copied hub works (logins, tokens, search, new writes)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from accord.cli.main import app as cli
from accord.errors import Conflict
from accord.ops.backup import backup, detect_format, restore
from accord.ops.transfer import all_tables
from accord.services import Services, build_services
from accord.sharing.items import ItemFilter
from accord.storage.schema import audit_log, items
from conftest import World


def _fill(world: World) -> dict[str, Any]:
    a = world.share("alice", content={"title": "Склад у реки", "body": "شاحنات قرب المستودع"}, tags=["depot"],
                    handling={"tlp": "amber", "classification": 1, "release": {"scope": "members",
                                                                               "members": ["BRAVO"]}})
    world.share("carol", kind="entity", content={"entity_type": "group", "name": "Northern Front"})
    world.share("bob", kind="observation")
    world.svc.items.update(world.p("alice"), a["id"], {"content": {"title": "Склад у реки", "body": "v2 body"}})
    sid, _ = world.svc.accounts.open_session(world.p("bob"))
    return {"item": a["id"], "session": sid}


def _dump(svc: Services) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with svc.db.read() as conn:
        for t in all_tables():
            order = list(t.primary_key.columns) or list(t.columns)
            out[t.name] = [tuple(r) for r in conn.execute(t.select().order_by(*order))]
    return out


def _check_works(svc: Services, world: World, facts: dict[str, Any], before: dict[str, Any]) -> None:
    after = _dump(svc)
    assert {k: v for k, v in after.items() if k not in ("audit_log", "audit_head")} == \
        {k: v for k, v in before.items() if k not in ("audit_log", "audit_head")}
    assert after["audit_log"][: len(before["audit_log"])] == before["audit_log"]
    assert after["audit_log"][-1][5] in ("hub.migrated",) or len(after["audit_log"]) == len(before["audit_log"])
    assert svc.audit.verify().ok
    bob = svc.accounts.token_principal(world.tokens["bob"])
    assert svc.accounts.session_principal(facts["session"])[0].username == "bob"
    assert svc.accounts.login("alice", "password-alice").username == "alice"
    assert [i["id"] for i in svc.items.list(bob, ItemFilter(q="склад")).items] == [facts["item"]]
    assert [i["id"] for i in svc.items.list(bob, ItemFilter(q="v2")).items] == [facts["item"]]
    assert svc.items.list(bob, ItemFilter(q="المستودع")).items == []  # old version's words are gone
    assert len(svc.items.history(bob, facts["item"])) == 2
    new = svc.items.create(svc.accounts.principal_for("alice"), {"kind": "report", "content": {"title": "after"}})
    with svc.db.read() as conn:
        top = conn.execute(items.select().order_by(items.c.seq.desc())).first()
        assert top is not None and top.id == new["id"] and top.seq == max(r[0] for r in before["items"]) + 1
        assert conn.execute(audit_log.select()).first() is not None
    svc.accounts.add_member("DELTA", "Delta Service")  # sequences were moved past the copied keys
    assert svc.audit.verify().ok


@pytest.fixture
def other_backend(request: pytest.FixtureRequest, settings, tmp_path: Path) -> str:
    """The store on the other backend from this test's: migrate goes SQLite -> PostgreSQL and back."""
    if settings.is_sqlite:
        pg = request.getfixturevalue("pg_database")
        pg.reset()
        return str(pg.url)
    return f"sqlite:///{tmp_path / 'other.db'}"


def test_migrate_to_the_other_backend(world: World, settings, other_backend: str) -> None:
    facts = _fill(world)
    before = _dump(world.svc)
    result = CliRunner().invoke(cli, ["--data", settings.data, "migrate", settings.url, other_backend])
    assert result.exit_code == 0, result.output
    assert "audit chain verifies" in result.output
    target = build_services(replace(settings, database_url=other_backend))
    try:
        _check_works(target, world, facts, before)
    finally:
        target.close()


def test_migrate_refuses_a_non_empty_target(world: World, settings) -> None:
    result = CliRunner().invoke(cli, ["--data", settings.data, "migrate", settings.url, settings.url])
    assert isinstance(result.exception, Conflict) and "refusing" in str(result.exception)


@pytest.mark.parametrize("fmt", ["auto", "sqlite"])
def test_backup_and_restore_round_trip(world: World, settings, tmp_path: Path, fmt: str) -> None:
    if settings.is_sqlite and fmt == "sqlite":
        pytest.skip("the embedded store has one backup format (auto is sqlite)")
    facts = _fill(world)
    before = _dump(world.svc)
    out = tmp_path / "hub.backup"
    used = backup(world.svc.db, out, fmt)
    assert detect_format(out) == used == ("sqlite" if settings.is_sqlite or fmt == "sqlite" else "pg_dump")
    # Damage the store after the backup: more items, a deleted user; the restore must bring back the backup.
    world.share("alice", content={"title": "after the backup", "body": "x"})
    world.svc.accounts.set_disabled("carol", True)
    world.svc.close()
    target = build_services(settings, migrate=False)
    try:
        restore(target.db, out)
        _check_works(target, world, facts, before)
    finally:
        target.close()


def test_cli_backup_restore(world: World, settings, tmp_path: Path) -> None:
    _fill(world)
    out = tmp_path / "cli.backup"
    runner = CliRunner()
    base = ["--data", settings.data, "--database-url", settings.url]
    r = runner.invoke(cli, [*base, "backup", str(out)])
    assert r.exit_code == 0, r.output
    world.svc.close()
    r = runner.invoke(cli, [*base, "restore", str(out), "--yes"])
    assert r.exit_code == 0 and "audit chain verifies" in r.output, r.output
