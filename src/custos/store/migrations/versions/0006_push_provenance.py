"""Provenance of pushed evidence: where each evidence record comes from (local, verified,
claimed) with what was verified or why not, and the ledger verifier keys registered per AI
system that make a push verified.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

# Spelled out, as in 0001: a revision keeps meaning what it meant when it was written.
PROVENANCE = "provenance IN ('local', 'verified', 'claimed')"
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Evidence stored before this revision was produced by the installation's own scans, or
    # pushed when pushes carried no proof; both read as "local", as they counted until now.
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(
            sa.Column("provenance", sa.String(16), nullable=False, server_default="local")
        )
        batch.add_column(sa.Column("provenance_detail", sa.JSON(), nullable=True))
        batch.create_check_constraint(op.f("ck_evidence_provenance"), PROVENANCE)
    op.create_table(
        "ledger_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(200), nullable=False),
        sa.Column("verifier_key", sa.Text(), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("added_at", WHEN, nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("retired_at", WHEN, nullable=True),
        sa.Column("retired_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_keys")),
    )
    op.create_index(op.f("ix_ledger_keys_system"), "ledger_keys", ["system"])


def downgrade() -> None:
    op.drop_table("ledger_keys")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_constraint(op.f("ck_evidence_provenance"), type_="check")
        batch.drop_column("provenance_detail")
        batch.drop_column("provenance")
