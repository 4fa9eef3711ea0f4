"""STIX store: versions are found through their handle, the second index on the object id goes

``stix_versions`` had an index on (stix_id, version_key) beside ``stix_handles``' unique stix_id. STIX ids are
random, so every stored version dirtied a random page of that index: a large share of what a TAXII push or a
bundle import writes per commit. Every lookup by id now goes through ``stix_handles`` and the versions' own
(handle_seq, version_key) key, which new objects fill in order.

Revision ID: 0011_stix_versions_by_handle
Revises: 0003_taxii
"""

from __future__ import annotations

from alembic import op

revision = "0011_stix_versions_by_handle"
down_revision = "0003_taxii"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_stix_versions_id", table_name="stix_versions")


def downgrade() -> None:
    op.create_index("ix_stix_versions_id", "stix_versions", ["stix_id", "version_key"])
