"""correlation: recompute name keys and Latin forms under the new name analysis

The name analysis changed (Arabic script read by our own letter tables instead of ICU, an initial-vowel mark in
skeletons, v dropped from the loose key, a vowel key for short skeletons), so the stored name keys ("n:...") and
the Latin form of Arabic-script names no longer match what queries compute. This revision recomputes them from
the stored names, in batches, with the analysis of the installed code (what `accord correlate rebuild` would do
for names, without touching identifier, place or lineage keys, nor notices). Name exclusions are re-keyed the same
way. Nothing to undo on downgrade: the keys are derived data; a rebuild recomputes them.

Revision ID: 0007_correlation_name_keys
Revises: 0002_correlation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_correlation_name_keys"
down_revision = "0002_correlation"
branch_labels = None
depends_on = None

_BATCH = 2000


def upgrade() -> None:
    rekey()


def rekey(forms: bool = False) -> None:
    """Recompute name keys, Latin forms and name exclusions from the stored names; with ``forms`` (stores that
    have ``corr_names.form``, from 0010_corr_forms on) the stored analyses too. Later revisions of the analysis
    rerun this (see ``accord.storage.migrate.revision_module``)."""
    from accord.correlation.names import analyse, blocking_keys, dump_form

    conn = op.get_bind()
    names = sa.table("corr_names", sa.column("item_seq"), sa.column("ord"), sa.column("name"), sa.column("latin"),
                     sa.column("script"), *([sa.column("form")] if forms else []))
    keys = sa.table("corr_keys", sa.column("key"), sa.column("item_seq"))
    excl = sa.table("corr_exclusions", sa.column("id"), sa.column("key"), sa.column("type"), sa.column("value"))
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        # A large store: inserting millions of keys one by one at random places of the key index takes hours on
        # SQLite. The new keys go to an unindexed scratch table, and the key table is rebuilt once, in key order.
        conn.exec_driver_sql("CREATE TEMP TABLE new_name_keys (key TEXT NOT NULL, item_seq INTEGER NOT NULL)")
    else:
        conn.execute(keys.delete().where(keys.c.key.like("n:%")))
    last = None
    while True:
        q = sa.select(names.c.item_seq).distinct().order_by(names.c.item_seq).limit(_BATCH)
        seqs = conn.execute(q if last is None else q.where(names.c.item_seq > last)).scalars().all()
        if not seqs:
            break
        rows = conn.execute(sa.select(*names.c).where(names.c.item_seq.in_(seqs))).all()
        new_keys: set[tuple[str, int]] = set()
        changed = []
        for r in rows:
            f = analyse(r.name)
            now = {"latin": f.latin, "script": f.script, **({"form": dump_form(f)} if forms else {})}
            if any(getattr(r, c) != v for c, v in now.items()):
                changed.append({"s": r.item_seq, "o": r.ord, **now})
            new_keys.update(("n:" + k, r.item_seq) for k in blocking_keys(f))
        if changed:  # one statement for the batch, executed many times
            conn.execute(names.update().where(names.c.item_seq == sa.bindparam("s"), names.c.ord == sa.bindparam("o"))
                         .values({c: sa.bindparam(c) for c in changed[0] if c not in ("s", "o")}), changed)
        if new_keys and sqlite:
            conn.exec_driver_sql("INSERT INTO temp.new_name_keys (key, item_seq) VALUES (?, ?)", sorted(new_keys))
        elif new_keys:
            conn.execute(keys.insert(), [{"key": k, "item_seq": s} for k, s in sorted(new_keys)])
        last = seqs[-1]
    if sqlite:
        _rebuild_sqlite_keys(conn)
    seen: set[str] = set()
    for e in conn.execute(sa.select(excl.c.id, excl.c.key, excl.c.value).where(excl.c.type == "name")
                          .order_by(excl.c.id)).all():
        joined = analyse(e.value).joined
        key = f"n:j:{joined}" if joined else e.key
        if key in seen:  # two old exclusions that now mean the same name: keep the first
            conn.execute(excl.delete().where(excl.c.id == e.id))
            continue
        seen.add(key)
        if key != e.key:
            conn.execute(excl.update().where(excl.c.id == e.id).values(key=key))


def _rebuild_sqlite_keys(conn: sa.Connection) -> None:
    ddl = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'corr_keys'").scalar_one()
    indexes = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                   "AND tbl_name = 'corr_keys' AND sql IS NOT NULL").all()
    for name, _ in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    conn.exec_driver_sql("ALTER TABLE corr_keys RENAME TO corr_keys_old")
    conn.exec_driver_sql(ddl)
    conn.exec_driver_sql("INSERT INTO corr_keys (key, item_seq) SELECT key, item_seq FROM ("
                         "SELECT key, item_seq FROM corr_keys_old WHERE substr(key, 1, 2) <> 'n:' "
                         "UNION ALL SELECT key, item_seq FROM temp.new_name_keys) ORDER BY key, item_seq")
    conn.exec_driver_sql("DROP TABLE corr_keys_old")
    conn.exec_driver_sql("DROP TABLE temp.new_name_keys")
    for _, sql in indexes:
        conn.exec_driver_sql(sql)


def downgrade() -> None:
    pass
