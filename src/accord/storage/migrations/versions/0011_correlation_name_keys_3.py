"""correlation: recompute name keys and stored analyses under the third revision of the name analysis

The name analysis changed again (Arabic-script letters: Uyghur ۋ as w, the Arabic Supplement letters ݨ and ݣ, a
word-initial ڭ as g; "city" as written in Uyghur and Tatar is a generic word; a consonant letter written twice kept
twice in the shape; ع inside a word read as a in the shape; an assimilated article (an, ash...) dropped only before
its own letter; Latin names made of pinyin syllables get a pinyin reading, with its keys; see the FORM_VERSION 2
changes in accord.correlation.names), so the stored name keys, the Latin form of some Arabic-script names and every
stored analysis (``corr_names.form``, written as version 1) no longer match what queries compute. The keys and
Latin forms are recomputed by 0007's routine (not a copy); the stored analyses are then rewritten, so that reads do
not fall back to analysing every candidate name until the next rebuild. It merges the two 0010 heads, since it
needs the ``form`` column of 0010_corr_forms. Nothing to undo on downgrade: all of it is derived data.

Revision ID: 0011_correlation_name_keys_3
Revises: 0010_correlation_name_keys_2, 0010_corr_forms
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0011_correlation_name_keys_3"
down_revision = ("0010_correlation_name_keys_2", "0010_corr_forms")
branch_labels = None
depends_on = None

_BATCH = 2000


def upgrade() -> None:
    # Alembic loads revision files by path (the versions folder is not a package): load 0007 the same way.
    path = Path(__file__).with_name("0007_correlation_name_keys.py")
    spec = importlib.util.spec_from_file_location("_accord_migration_0007", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.upgrade()
    _rewrite_forms()


def _rewrite_forms() -> None:
    from accord.correlation.names import analyse, dump_form

    conn = op.get_bind()
    names = sa.table("corr_names", sa.column("item_seq"), sa.column("ord"), sa.column("name"), sa.column("form"))
    last = None
    while True:
        q = sa.select(names.c.item_seq).distinct().order_by(names.c.item_seq).limit(_BATCH)
        seqs = conn.execute(q if last is None else q.where(names.c.item_seq > last)).scalars().all()
        if not seqs:
            break
        rows = conn.execute(sa.select(names.c.item_seq, names.c.ord, names.c.name, names.c.form)
                            .where(names.c.item_seq.in_(seqs))).all()
        changed = [{"s": r.item_seq, "o": r.ord, "f": form} for r in rows
                   if (form := dump_form(analyse(r.name))) != r.form]
        if changed:  # one statement for the batch, executed many times
            conn.execute(names.update().where(names.c.item_seq == sa.bindparam("s"), names.c.ord == sa.bindparam("o"))
                         .values(form=sa.bindparam("f")), changed)
        last = seqs[-1]


def downgrade() -> None:
    pass
