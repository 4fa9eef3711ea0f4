"""correlation: recompute name keys and stored analyses under the third revision of the name analysis

The name analysis changed again (Arabic-script letters: Uyghur ۋ as w, the Arabic Supplement letters ݨ and ݣ, a
word-initial ڭ as g; "city" as written in Uyghur and Tatar is a generic word; a consonant letter written twice kept
twice in the shape; ع inside a word read as a in the shape; an assimilated article (an, ash...) dropped only before
its own letter; Latin names made of pinyin syllables get a pinyin reading, with its keys; see the FORM_VERSION 2
changes in accord.correlation.names), so the stored name keys, the Latin form of some Arabic-script names and every
stored analysis (``corr_names.form``, written as version 1) no longer match what queries compute. The keys and
Latin forms are recomputed by 0007's routine (not a copy), which rewrites the stored analyses in the same pass,
so that reads do not fall back to analysing every candidate name until the next rebuild. It merges the two 0010
heads, since it needs the ``form`` column of 0010_corr_forms. Nothing to undo on downgrade: all of it is derived data.

Revision ID: 0011_correlation_name_keys_3
Revises: 0010_correlation_name_keys_2, 0010_corr_forms
"""

from __future__ import annotations

revision = "0011_correlation_name_keys_3"
down_revision = ("0010_correlation_name_keys_2", "0010_corr_forms")
branch_labels = None
depends_on = None


def upgrade() -> None:
    from accord.storage.migrate import revision_module

    revision_module("0007_correlation_name_keys.py").rekey(forms=True)


def downgrade() -> None:
    pass
