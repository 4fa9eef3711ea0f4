"""correlation: store each name's analysis beside it

Scoring a new entity's candidates re-analysed every candidate name (some ninety per entity); storing the analysis
at write time (``corr_names.form``, see ``accord.correlation.names.dump_form``) takes that off every read. Existing
rows are left NULL and are analysed on read as before; ``accord correlate rebuild`` fills them.

Revision ID: 0010_corr_forms
Revises: 0007_correlation_name_keys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_corr_forms"
down_revision = "0007_correlation_name_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("corr_names", sa.Column("form", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("corr_names", "form")
