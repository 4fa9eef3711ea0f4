"""Migration 0007 recomputes stale name keys, Latin forms and name exclusions from the stored names."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from accord.correlation.tables import corr_exclusions, corr_keys, corr_names
from conftest import downgrade_and_upgrade


def test_name_keys_are_recomputed(world: Any) -> None:
    a = world.share("alice", kind="entity", content={"entity_type": "person", "name": "Abu Bakr al-Baghdadi"},
                    handling={"release": {"scope": "all"}})
    b = world.share("bob", kind="entity", content={"entity_type": "person", "name": "أبو بكر البغدادي"},
                    handling={"release": {"scope": "all"}})
    db = world.svc.db
    corr = world.svc.correlation
    corr.add_exclusion(world.p("aadmin"), "name", "Jean Dupont")
    with db.read() as conn:
        before = sorted(conn.execute(select(corr_keys.c.key, corr_keys.c.item_seq)).all())
        excl = conn.execute(select(corr_exclusions.c.key)).scalars().all()
    # What a store indexed by the earlier analysis looks like: other name keys, ICU's Latin form.
    with db.write() as conn:
        conn.execute(corr_keys.delete().where(corr_keys.c.key.like("n:%")))
        seq = conn.execute(select(corr_names.c.item_seq).where(corr_names.c.script == "Arabic")).scalar_one()
        conn.execute(insert(corr_keys).values(key="n:j:old", item_seq=seq))
        conn.execute(update(corr_names).where(corr_names.c.item_seq == seq).values(latin="abw bkr albghdady"))
        conn.execute(update(corr_exclusions).values(key="n:j:dbnt"))
    downgrade_and_upgrade(db, "0002_correlation")
    with db.read() as conn:
        assert sorted(conn.execute(select(corr_keys.c.key, corr_keys.c.item_seq)).all()) == before
        assert conn.execute(select(corr_exclusions.c.key)).scalars().all() == excl
        assert conn.execute(select(corr_names.c.latin).where(corr_names.c.item_seq == seq)).scalar_one() == (
            "abw bkr al bghdady")
    ids = [c["id"] for c in corr.for_item(world.p("carol"), a["id"])["correlations"]]
    assert ids == [b["id"]]


def test_name_keys_are_recomputed_by_0010(world: Any) -> None:
    world.share("alice", kind="entity", content={"entity_type": "person", "name": "Juan Trujillo"},
                handling={"release": {"scope": "all"}})
    db = world.svc.db
    with db.read() as conn:
        before = sorted(conn.execute(select(corr_keys.c.key, corr_keys.c.item_seq)).all())
    with db.write() as conn:  # a store keyed by the analysis before its Spanish reading
        conn.execute(corr_keys.delete().where(corr_keys.c.key.like("n:%")))
    downgrade_and_upgrade(db, "0007_correlation_name_keys")
    with db.read() as conn:
        assert sorted(conn.execute(select(corr_keys.c.key, corr_keys.c.item_seq)).all()) == before


def test_name_keys_and_stored_forms_are_recomputed_by_0011(world: Any) -> None:
    world.share("alice", kind="entity", content={"entity_type": "group", "name": "باۋتۇ شەھەرى"},
                handling={"release": {"scope": "all"}})
    db = world.svc.db
    with db.read() as conn:
        before = sorted(conn.execute(select(corr_keys.c.key, corr_keys.c.item_seq)).all())
        forms = conn.execute(select(corr_names.c.form)).scalars().all()
    with db.write() as conn:  # a store keyed and analysed by the analysis before Uyghur ۋ read as w
        conn.execute(corr_keys.delete().where(corr_keys.c.key.like("n:%")))
        conn.execute(update(corr_names).values(form="1\x1fstale"))
    downgrade_and_upgrade(db, "0010_correlation_name_keys_2")
    with db.read() as conn:
        assert sorted(conn.execute(select(corr_keys.c.key, corr_keys.c.item_seq)).all()) == before
        assert conn.execute(select(corr_names.c.form)).scalars().all() == forms
