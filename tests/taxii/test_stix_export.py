"""Exports pass stix2-validator with no errors, and an export imported into another hub gives back the same
items (the mapping both ways), through the real ``accord`` commands."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from stix2validator import ValidationOptions, validate_string
from taxii_servers import module_hub
from typer.testing import CliRunner

from accord.cli.main import app as cli
from accord.cli.stix import export_bundle
from accord.config import load_settings
from accord.services import build_services
from accord.stix import mapping


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with module_hub(tmp_path_factory.mktemp("export")) as w:
        yield w


def _share_every_kind(world: Any) -> list[str]:
    g = world.share("alice", kind="entity", content={"entity_type": "group", "name": "Grp", "aliases": ["G1", "Группа"],
                                                      "description": "d"},
                    handling={"tlp": "green", "classification": 1, "release": {"scope": "all", "consumers": True}},
                    grading={"reliability": "B", "credibility": 2}, tags=["t1"],
                    identifiers=[{"type": "phone", "value": "+1 555"}], language="en")
    p = world.share("alice", kind="entity", content={"entity_type": "person", "name": "P",
                                                      "formerly_known_as": [g["id"]]},
                    handling={"release": {"scope": "members", "members": ["BRAVO"]}})
    o = world.share("alice", kind="entity", content={"entity_type": "organisation", "name": "Org", "aliases": ["O"]})
    ob = world.share("alice", kind="observation", content={
        "lat": 35.1, "lon": 51.4, "precision_m": 10, "observed_from": "2026-01-01T00:00:00Z",
        "observed_to": "2026-01-02T00:00:00Z", "place_name": "Depot", "description": "seen"},
        handling={"tlp": "red", "release": {"scope": "all"}})
    r = world.share("alice", kind="report", content={"title": "R", "body": "text"})
    rel = world.share("alice", kind="relationship", content={"relationship_type": "member-of", "source_ref": p["id"],
                                                              "target_ref": g["id"]})
    n = world.share("alice", kind="note", content={"content": "n", "object_refs": [g["id"], ob["id"], r["id"]]})
    world.svc.items.update(world.p("alice"), g["id"], {"content": {"description": "d2"}})
    world.svc.items.revoke(world.p("alice"), r["id"])
    return [x["id"] for x in (g, p, o, ob, r, rel, n)]


def test_export_is_valid_stix(world: Any) -> None:
    _share_every_kind(world)
    buf = io.BytesIO()
    export_bundle(world.svc, world.p("alice"), buf)
    result = validate_string(buf.getvalue().decode(), ValidationOptions(version="2.1"))
    errors = list(result.errors)
    assert result.is_valid and not errors, errors
    types = {o["type"] for o in json.loads(buf.getvalue())["objects"]}
    assert {"intrusion-set", "threat-actor", "identity", "location", "sighting", "report", "relationship", "note",
            "marking-definition", "extension-definition"} <= types


def _comparable(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("version",)}


def test_cli_export_then_import_into_another_hub(world: Any, tmp_path: Path) -> None:
    settings = world.settings
    ids = _share_every_kind(world)
    runner = CliRunner()
    out = tmp_path / "bundle.json"
    res = runner.invoke(cli, ["--data", str(settings.data_path), "--database-url", settings.url, "export", "--as",
                              "alice", "--format", "stix", "-o", str(out)])
    assert res.exit_code == 0, res.output
    # A second hub with the same members; ALPHA's analyst imports ALPHA's export.
    other = load_settings(env={}, data=str(tmp_path / "other"), database_url=f"sqlite:///{tmp_path / 'other.db'}",
                          secret_key="t" * 40)
    svc2 = build_services(other)
    try:
        for code in ("ALPHA", "BRAVO", "CHARLIE"):
            svc2.accounts.add_member(code, code.title())
        svc2.accounts.add_user("alice", "ALPHA", "analyst", "password-alice", clearance=3)
        alice2 = svc2.accounts.principal_for("alice")
        res = runner.invoke(cli, ["--data", str(other.data_path), "--database-url", other.url, "import", str(out),
                                  "--as", "alice"])
        assert res.exit_code == 0, res.output
        for item_id in ids:
            before = world.svc.items.get(world.p("alice"), item_id)
            after = svc2.items.get(alice2, item_id)
            assert after["handling"] == before["handling"], item_id
            assert after["content"] == before["content"], item_id
            assert after["grading"] == before["grading"]
            assert after["tags"] == before["tags"] and after["identifiers"] == before["identifiers"]
            assert after["modified"] == before["modified"] and after["revoked"] == before["revoked"]
        # The store serves the same objects, byte for byte the same JSON.
        # Member identities are each hub's own (stamped with the member's creation there) and are not imported.
        members = {mapping.member_identity_id(c) for c in ("ALPHA", "BRAVO", "CHARLIE")}
        original = [o for o in json.loads(out.read_text())["objects"] if o["id"] not in members]
        buf = io.BytesIO()
        export_bundle(svc2, alice2, buf)
        again = [o for o in json.loads(buf.getvalue())["objects"] if o["id"] not in members]
        key = lambda o: (o["id"], o.get("modified", ""))  # noqa: E731
        assert sorted(map(json.dumps, sorted(again, key=key))) == sorted(map(json.dumps, sorted(original, key=key)))
    finally:
        svc2.close()


def test_an_entity_whose_type_changes_revokes_its_old_object(world: Any) -> None:
    """A person found to be a group maps to another STIX type, hence another id: the old object gets a revoked
    version (same modified as the new object), so a member's system does not keep it as current."""
    e = world.share("alice", kind="entity", content={"entity_type": "person", "name": "Lone Courier"})
    uid = e["id"].split("--", 1)[1]
    world.svc.items.update(world.p("alice"), e["id"], {"content": {"entity_type": "group", "name": "Courier Cell"}})
    from sqlalchemy import select

    from accord.stix.tables import stix_versions

    with world.svc.db.read() as conn:
        rows = conn.execute(select(stix_versions.c.stix_id, stix_versions.c.latest, stix_versions.c.body)
                            .where(stix_versions.c.stix_id.like(f"%--{uid}"))).all()
    latest = {r.stix_id: json.loads(r.body) for r in rows if r.latest}
    assert set(latest) == {f"threat-actor--{uid}", f"intrusion-set--{uid}"}
    old = latest[f"threat-actor--{uid}"]
    assert old["revoked"] is True and old["name"] == "Lone Courier"
    assert "revoked" not in latest[f"intrusion-set--{uid}"]
    assert latest[f"threat-actor--{uid}"]["modified"] == latest[f"intrusion-set--{uid}"]["modified"]
    assert len([r for r in rows if r.stix_id == f"threat-actor--{uid}"]) == 2
    # Both pass the validator; a second edit adds no further revoked version.
    for body in latest.values():
        assert validate_string(json.dumps(body), ValidationOptions(version="2.1")).is_valid
    world.svc.items.update(world.p("alice"), e["id"], {"content": {"entity_type": "group", "name": "Courier Cell 2"}})
    with world.svc.db.read() as conn:
        n = conn.execute(select(stix_versions.c.seq).where(stix_versions.c.stix_id == f"threat-actor--{uid}")).all()
    assert len(n) == 2
