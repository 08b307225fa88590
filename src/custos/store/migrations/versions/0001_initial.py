"""Initial schema: runs, evidence, findings, assessments, control_status.

Revision ID: 0001
Revises:
Create Date: 2025-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Spelled out rather than imported from custos.store.models: a revision must keep meaning what
# it meant when it was written, whatever the models become later.
JSONData = sa.JSON()


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("manifest_path", sa.Text(), nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("custos_version", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.CheckConstraint("kind IN ('scan', 'assess')", name=op.f("ck_runs_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_index("ix_runs_kind_started_at", "runs", ["kind", "started_at"])

    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("check", sa.String(200), nullable=False),
        sa.Column("check_version", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(200), nullable=False),
        sa.Column("asset", sa.String(200), nullable=True),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("controls", JSONData, nullable=False),
        sa.Column("examined", JSONData, nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "result IN ('pass', 'fail', 'error', 'not_applicable')",
            name=op.f("ck_evidence_result"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_evidence_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
    )
    op.create_index(op.f("ix_evidence_run_id"), "evidence", ["run_id"])
    op.create_index("ix_evidence_target", "evidence", ["system", "check", "asset", "collected_at"])

    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("controls", JSONData, nullable=False),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["evidence.id"],
            name=op.f("fk_findings_evidence_id_evidence"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
    )
    op.create_index(op.f("ix_findings_evidence_id"), "findings", ["evidence_id"])

    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("overall_score", sa.Double(), nullable=False),
        sa.Column("system_scores", JSONData, nullable=False),
        sa.Column("report", JSONData, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_assessments_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
        sa.UniqueConstraint("run_id", name=op.f("uq_assessments_run_id")),
    )
    op.create_index(op.f("ix_assessments_generated_at"), "assessments", ["generated_at"])

    op.create_table(
        "control_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(200), nullable=False),
        sa.Column("control", sa.String(200), nullable=False),
        sa.Column("framework", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("basis", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_control_status_assessment_id_assessments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_control_status")),
    )
    op.create_index(
        "ix_control_status_filter", "control_status", ["assessment_id", "framework", "status"]
    )
    op.create_index("ix_control_status_history", "control_status", ["control", "system"])


def downgrade() -> None:
    op.drop_table("control_status")
    op.drop_table("assessments")
    op.drop_table("findings")
    op.drop_table("evidence")
    op.drop_table("runs")
