"""The audit trail: every kind of access leaves a record, and tampering with the stored chain (altering, removing
from the middle or the end, reordering) is caught by ``AuditLog.verify`` and ``accord audit verify``, which name
the first bad record."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from core_helpers import fast_hashing  # noqa: F401 - autouse fixture
from typer.testing import CliRunner

from accord.audit.chain import record_hash
from accord.cli.main import app as cli_app
from accord.config import Settings, load_settings
from accord.services import Services, build_services
from accord.sharing.items import ItemFilter
from conftest import World, bearer, build_world


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # The store lives at the default place under --data, so the CLI finds it with `--data` alone.
    return load_settings(env={}, data=str(tmp_path / "hub"), secret_key="a" * 40)


def records(svc: Services, **where: Any) -> list[dict[str, Any]]:
    with svc.db.read() as conn:
        rows = svc.audit.search(conn, limit=100_000, **where)
    for r in rows:
        r["detail"] = orjson.loads(r["detail"])
    return list(reversed(rows))


def db_file(settings: Settings) -> Path:
    return settings.data_path / "accord.db"


def raw_sql(settings: Settings, *statements: str) -> None:
    con = sqlite3.connect(db_file(settings), isolation_level=None)
    try:
        for s in statements:
            con.execute(s)
    finally:
        con.close()


def cli_verify(settings: Settings) -> tuple[int, str]:
    result = CliRunner().invoke(cli_app, ["--data", settings.data, "audit", "verify"])
    return result.exit_code, " ".join(result.output.split())


def active_world(world: World) -> tuple[World, list[str]]:
    """Some of everything: shares, an edit, a revocation, reads, a listing, an export."""
    svc = world.svc
    ids = [world.share("alice", handling={"release": {"scope": "all"}})["id"] for _ in range(3)]
    svc.items.update(world.p("alice"), ids[0], {"tags": ["edited"]})
    svc.items.revoke(world.p("alice"), ids[1])
    svc.items.get(world.p("bob"), ids[0])
    svc.items.list(world.p("bob"), ItemFilter())
    list(svc.items.export(world.p("carol")))
    return world, ids


def test_an_intact_chain_verifies(world: World, settings: Settings) -> None:
    active_world(world)
    v = world.svc.audit.verify(batch=7)  # several batches
    assert v.ok and v.first_bad_seq is None and v.records == len(records(world.svc)) > 20
    code, out = cli_verify(settings)
    assert code == 0 and "intact" in out and f"{v.records} records" in out


def test_an_empty_chain_verifies(services: Services) -> None:
    v = services.audit.verify()
    assert v.ok and v.records == 0


@pytest.mark.parametrize(("tamper", "first_bad", "good", "words"), [
    (["UPDATE audit_log SET member = 'CHARLIE' WHERE seq = 5"], 5, 4, "altered"),
    (["UPDATE audit_log SET detail = '{}' WHERE seq = 9"], 9, 8, "altered"),
    (["UPDATE audit_log SET at = '2020-01-01T00:00:00.000Z' WHERE seq = 2"], 2, 1, "altered"),
    (["DELETE FROM audit_log WHERE seq = 6"], 7, 5, "removed"),
    (["DELETE FROM audit_log WHERE seq = 1"], 2, 0, "removed"),
    (["DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)"], "last", "all", "removed from the end"),
    (["UPDATE audit_log SET seq = -1 WHERE seq = 4", "UPDATE audit_log SET seq = 4 WHERE seq = 5",
      "UPDATE audit_log SET seq = 5 WHERE seq = -1"], 4, 3, "does not link"),
], ids=["alter-member", "alter-detail", "alter-time", "remove-middle", "remove-first", "remove-end", "reorder"])
def test_tampering_is_caught_and_the_first_bad_record_named(world: World, settings: Settings, tamper: list[str],
                                                            first_bad: int | str, good: int | str,
                                                            words: str) -> None:
    active_world(world)
    last = records(world.svc)[-1]["seq"]
    assert world.svc.audit.verify().ok
    raw_sql(settings, *tamper)
    bad = last if first_bad == "last" else first_bad
    v = world.svc.audit.verify(batch=3)
    assert not v.ok and v.first_bad_seq == bad and words in v.reason
    assert v.records == (bad - 1 if good == "all" else good)  # the records before the bad one checked out
    code, out = cli_verify(settings)
    assert code != 0 and f"record {bad}" in out and "broken" in out


def test_rehashing_an_altered_record_breaks_the_next_link(world: World, settings: Settings) -> None:
    active_world(world)
    r = {k: v for k, v in records(world.svc)[4].items()}
    detail = orjson.dumps({"forged": True}).decode()
    h = record_hash(r["prev_hash"], r["seq"], r["at"], r["request_id"], r["user_id"], r["member"], r["action"],
                    r["item_id"], detail)
    raw_sql(settings, f"UPDATE audit_log SET detail = '{detail}', hash = '{h}' WHERE seq = {r['seq']}")  # noqa: S608
    v = world.svc.audit.verify()
    assert not v.ok and v.first_bad_seq == r["seq"] + 1 and "does not link" in v.reason


# ----- what leaves a record ----------------------------------------------------------------------------------
def test_item_writes_reads_lists_history_and_exports_are_recorded(world: World) -> None:
    svc = world.svc
    alice, bob = world.p("alice"), world.p("bob")
    item = svc.items.create(alice, {"kind": "report", "content": {"title": "a", "body": "b"},
                                    "handling": {"release": {"scope": "members", "members": ["BRAVO"]}}}, "req-create")
    iid = item["id"]
    svc.items.update(alice, iid, {"tags": ["x"]}, "req-update")
    svc.items.release(alice, iid, ["CHARLIE"], request_id="req-release")
    svc.items.get(bob, iid, "req-get")
    svc.items.history(bob, iid, "req-history")
    svc.items.list(bob, ItemFilter(), "req-list")
    list(svc.items.export(bob, request_id="req-export"))
    svc.items.revoke(alice, iid, "req-revoke")
    by_request: dict[str, dict[str, Any]] = {}
    for r in records(svc):
        by_request.setdefault(r["request_id"], r)  # the first record of each request (writes are read back)
    assert by_request["req-create"]["action"] == "item.create"
    assert by_request["req-create"]["item_id"] == iid and by_request["req-create"]["member"] == "ALPHA"
    assert by_request["req-update"]["action"] == "item.update" and by_request["req-update"]["detail"]["version"] == 2
    assert by_request["req-release"]["action"] == "item.update"
    assert by_request["req-revoke"]["action"] == "item.revoke"
    for rid, action in (("req-get", "item.read"), ("req-history", "item.history")):
        r = by_request[rid]
        assert (r["action"], r["item_id"], r["user_id"], r["member"]) == (action, iid, bob.user_id, "BRAVO")
    assert by_request["req-list"]["action"] == "item.list" and iid in by_request["req-list"]["detail"]["ids"]
    assert by_request["req-export"]["action"] == "item.export" and iid in by_request["req-export"]["detail"]["ids"]
    # A denied read leaves no content record (nothing was read) and raises like a missing item.
    before = len(records(svc))
    with pytest.raises(Exception, match="No such object"):
        svc.items.get(world.p("bunit"), iid)  # a consumer: the release excludes consumers
    assert len(records(svc)) == before


def test_account_changes_are_recorded(services: Services) -> None:
    acc = services.accounts
    acc.add_member("ALPHA", "Alpha")
    acc.add_consumer("ALPHA", "A-UNIT", "unit")
    acc.add_user("ann", "ALPHA", "analyst", None)
    token = acc.create_token("ann")
    acc.revoke_token(token.id)
    acc.set_disabled("ann")
    actions = [r["action"] for r in records(services)]
    assert actions == ["member.add", "consumer.add", "user.add", "token.create", "token.revoke", "user.disable"]
    assert services.audit.verify().ok


async def test_logins_token_use_and_http_access_are_recorded(client, world: World) -> None:
    svc = world.svc
    ok = await client.post("/api/v1/auth/login", json={"username": "bob", "password": "password-bob"},
                           headers={"X-Request-Id": "req-login"})
    assert ok.status_code == 200
    bad = await client.post("/api/v1/auth/login", json={"username": "bob", "password": "wrong-password"},
                            headers={"X-Request-Id": "req-login-bad"})
    assert bad.status_code == 401
    nobody = await client.post("/api/v1/auth/login", json={"username": "nobody", "password": "whatever-pw"},
                               headers={"X-Request-Id": "req-login-nobody"})
    assert nobody.status_code == 401
    client.cookies.clear()
    token_id = svc.accounts.list_tokens("alice")[0]["id"]
    made = await client.post("/api/v1/items", headers={**bearer(world, "alice"), "X-Request-Id": "req-token-write"},
                             json={"kind": "report", "content": {"title": "t", "body": "b"},
                                   "handling": {"release": {"scope": "all"}}})
    assert made.status_code == 201
    read = await client.get(f"/api/v1/items/{made.json()['id']}",
                            headers={**bearer(world, "alice"), "X-Request-Id": "req-token-read"})
    assert read.status_code == 200
    exported = await client.get("/api/v1/export", headers={**bearer(world, "bob"), "X-Request-Id": "req-export"})
    assert exported.status_code == 200 and made.json()["id"] in exported.text
    rows = {}
    for r in records(svc):
        if r["action"] != "token.use":  # written once a minute per token, before the request's own record
            rows.setdefault(r["request_id"], r)  # the first record of each request (a create is then read back)
    assert rows["req-login"]["action"] == "login" and rows["req-login"]["user_id"] == world.p("bob").user_id
    assert rows["req-login-bad"]["action"] == "login.failed"
    assert rows["req-login-bad"]["user_id"] == world.p("bob").user_id
    assert rows["req-login-nobody"]["action"] == "login.failed" and rows["req-login-nobody"]["user_id"] is None
    assert rows["req-login-nobody"]["detail"]["username"] == "nobody"
    for rid, action in (("req-token-write", "item.create"), ("req-token-read", "item.read")):
        assert rows[rid]["action"] == action
        assert rows[rid]["detail"]["token"] == token_id and rows[rid]["detail"]["via"] == "token"
    assert rows["req-export"]["action"] == "item.export"
    assert rows["req-export"]["detail"]["token"] == svc.accounts.list_tokens("bob")[0]["id"]
    assert svc.audit.verify().ok


def test_reads_are_not_recorded_when_switched_off_but_exports_are(tmp_path: Path) -> None:
    settings = load_settings(env={}, data=str(tmp_path / "d"), secret_key="a" * 40, audit_reads=False)
    svc = build_services(settings)
    try:
        w = build_world(svc)
        iid = w.share("alice", handling={"release": {"scope": "all"}})["id"]
        before = len(records(svc))
        svc.items.get(w.p("bob"), iid)
        assert len(records(svc)) == before
        list(svc.items.export(w.p("bob")))
        assert records(svc)[-1]["action"] == "item.export"
    finally:
        svc.close()
