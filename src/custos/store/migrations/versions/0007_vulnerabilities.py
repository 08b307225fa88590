"""vulnerabilities: known vulnerabilities of the repositories' dependencies, tracked across
scans (open, accepted with reason and expiry, fixed by a later scan).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

# Spelled out, as in 0001: a revision keeps meaning what it meant when it was written.
STATUS = "status IN ('open', 'accepted', 'fixed')"
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "vulnerabilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(200), nullable=False),
        sa.Column("asset", sa.String(200), nullable=False),
        sa.Column("package", sa.String(200), nullable=False),
        sa.Column("advisory", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("fixed_in", sa.String(200), nullable=True),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("locations", sa.JSON(), nullable=False),
        sa.Column("first_seen", WHEN, nullable=False),
        sa.Column("opened_at", WHEN, nullable=False),
        sa.Column("last_seen", WHEN, nullable=False),
        sa.Column("last_run", sa.Integer(), nullable=True),
        sa.Column("fixed_at", WHEN, nullable=True),
        sa.Column("fixed_run", sa.Integer(), nullable=True),
        sa.Column("accepted_by", sa.String(200), nullable=True),
        sa.Column("accepted_at", WHEN, nullable=True),
        sa.Column("accepted_until", sa.Date(), nullable=True),
        sa.Column("accepted_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(STATUS, name=op.f("ck_vulnerabilities_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vulnerabilities")),
        sa.UniqueConstraint(
            "system", "asset", "package", "advisory", name=op.f("uq_vulnerabilities_key")
        ),
    )
    op.create_index("ix_vulnerabilities_system_status", "vulnerabilities", ["system", "status"])


def downgrade() -> None:
    op.drop_table("vulnerabilities")
