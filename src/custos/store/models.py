"""The database tables (SQLAlchemy 2 typed declarative models). Schema changes need a migration.

- `runs`: one row per `custos scan` or `custos assess`, with the manifest it read (path, SHA-256).
- `evidence` and `findings`: what each scan's checks produced; the newest evidence per
  (check, system, asset) is what the next assessment uses.
- `assessments`: the finished report as its stable JSON (`reports.json_schema`), plus the overall
  and per-system scores in small columns so trends need not read whole reports.
- `control_status`: one row per (assessment, system, control) so the web UI can filter and chart
  statuses without parsing JSON.
- `ledger_*`: the append-only evidence ledger: entries (leaves), stored subtree hashes, signed
  checkpoints and the log's identity (see custos.store.ledger and docs/ledger.md);
  `ledger_keys`: the verifier keys of pushers' own ledgers, per AI system (pushed evidence).
- `vulnerabilities`: known vulnerabilities of the repositories' dependencies, tracked across
  scans: open, accepted, fixed (custos.store.vulns_store, custos.vulns).
- `users`, `role_bindings`, `sessions`, `login_attempts`, `api_tokens`, `recovery_codes`,
  `oidc_logins`: the server's accounts (custos.store.auth_store, docs/server.md). Secrets are
  stored only as hashes (the TOTP seed, which must be read back to check a code, excepted).
- `inventory_items` and `attachments`: the server's inventory (systems, assets, risks,
  attestations, exclusions as validated manifest documents) and uploaded evidence files
  (custos.store.inventory_store).

Times are timezone-aware UTC in Python; SQLite keeps them as naive UTC text, PostgreSQL as
`timestamptz`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names: Alembic's batch mode on SQLite can only alter what it can name.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

RUN_KINDS = ("scan", "assess")
EVIDENCE_RESULTS = ("pass", "fail", "error", "not_applicable")
PROVENANCE_KINDS = ("local", "verified", "claimed")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every database.

    A naive datetime is refused: its meaning depends on the machine that wrote it.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored: no timezone")
        utc = value.astimezone(dt.UTC)
        # SQLite has no time zones: keep naive UTC there so text comparisons order correctly.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# Plain JSON, not PostgreSQL's JSONB: JSONB reorders object keys, and a stored report must come
# back exactly as written, in the same key order on every database.
JSONData = JSON()


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSONData,
        list[Any]: JSONData,
    }


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (
        CheckConstraint(_in("kind", RUN_KINDS), name="kind"),
        Index("ix_runs_kind_started_at", "kind", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime]
    manifest_path: Mapped[str] = mapped_column(Text)
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    custos_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))

    evidence: Mapped[list[EvidenceRow]] = relationship(
        back_populates="run", cascade="all, delete-orphan", passive_deletes=True
    )


class EvidenceRow(Base):
    __tablename__ = "evidence"
    __table_args__ = (
        CheckConstraint(_in("result", EVIDENCE_RESULTS), name="result"),
        CheckConstraint(_in("provenance", PROVENANCE_KINDS), name="provenance"),
        # Serves "newest per (check, system, asset)" and the filter by system.
        Index("ix_evidence_target", "system", "check", "asset", "collected_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    check: Mapped[str] = mapped_column(String(200))
    check_version: Mapped[int]
    system: Mapped[str] = mapped_column(String(200))
    asset: Mapped[str | None] = mapped_column(String(200))
    result: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    controls: Mapped[list[Any]]
    examined: Mapped[list[Any]]
    collected_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]
    # local (this installation's scan), verified or claimed (a push; see custos.provenance),
    # with what was verified or why not.
    provenance: Mapped[str] = mapped_column(String(16), server_default="local")
    provenance_detail: Mapped[dict[str, Any] | None]

    run: Mapped[RunRow] = relationship(back_populates="evidence")
    findings: Mapped[list[FindingRow]] = relationship(
        back_populates="evidence",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="FindingRow.position",
    )


class FindingRow(Base):
    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]  # order within its evidence, so a round trip keeps the tuple order
    rule: Mapped[str] = mapped_column(String(200))
    severity: Mapped[int]
    message: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(Text)
    controls: Mapped[list[Any]]

    evidence: Mapped[EvidenceRow] = relationship(back_populates="findings")


class AssessmentRow(Base):
    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), unique=True)
    generated_at: Mapped[dt.datetime] = mapped_column(index=True)
    overall_score: Mapped[float] = mapped_column(Double)
    system_scores: Mapped[dict[str, Any]]
    report: Mapped[dict[str, Any]]


class ControlStatusRow(Base):
    __tablename__ = "control_status"
    __table_args__ = (
        Index("ix_control_status_filter", "assessment_id", "framework", "status"),
        Index("ix_control_status_history", "control", "system"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    system: Mapped[str] = mapped_column(String(200))
    control: Mapped[str] = mapped_column(String(200))
    framework: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    basis: Mapped[str] = mapped_column(String(16))


# -- the evidence ledger (custos.ledger): append-only; see docs/ledger.md ---------------------


class LedgerStateRow(Base):
    """One row: the log's identity and size. Appenders lock it first, so appends serialise."""

    __tablename__ = "ledger_state"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    origin: Mapped[str] = mapped_column(String(200))
    verifier_key: Mapped[str] = mapped_column(Text)  # public: "<name>+<id>+<key>"
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))  # of the tree at `size` (as signed)
    created_at: Mapped[dt.datetime]


class LedgerEntryRow(Base):
    """Leaf `seq` (0-based) of the Merkle tree: the entry's canonical bytes and their hash."""

    __tablename__ = "ledger_entries"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)  # kind, time, actor: all inside, signed


class LedgerNodeRow(Base):
    """Hash of the perfect subtree of 2**level leaves starting at leaf idx * 2**level (level >= 1;
    level 0 is ledger_entries.leaf_hash), so a proof needs O(log n) lookups."""

    __tablename__ = "ledger_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerCheckpointRow(Base):
    """A signed checkpoint (C2SP signed note) of the tree at `size` leaves."""

    __tablename__ = "ledger_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[dt.datetime]


class LedgerKeyRow(Base):
    """A ledger verifier key registered for one AI system: checkpoints it signed make pushed
    evidence of that system "verified" (custos.ledger.push_proof). Retired, not deleted: the
    evidence it verified keeps naming it."""

    __tablename__ = "ledger_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    system: Mapped[str] = mapped_column(String(200), index=True)
    verifier_key: Mapped[str] = mapped_column(Text)  # public: "<name>+<id>+<key>"
    label: Mapped[str] = mapped_column(String(200))  # e.g. "CI of fraud-scoring, 2026"
    added_at: Mapped[dt.datetime]
    added_by: Mapped[str] = mapped_column(String(200))
    retired_at: Mapped[dt.datetime | None]
    retired_by: Mapped[str | None] = mapped_column(String(200))


VULN_STATUSES = ("open", "accepted", "fixed")


class VulnerabilityRow(Base):
    """A known vulnerability of one repository asset's dependencies, tracked across scans
    (custos.vulns): open, accepted (by whom, why, until when) or fixed (by which scan)."""

    __tablename__ = "vulnerabilities"
    __table_args__ = (
        CheckConstraint(_in("status", VULN_STATUSES), name="status"),
        UniqueConstraint("system", "asset", "package", "advisory", name="uq_vulnerabilities_key"),
        Index("ix_vulnerabilities_system_status", "system", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    system: Mapped[str] = mapped_column(String(200))
    asset: Mapped[str] = mapped_column(String(200))
    package: Mapped[str] = mapped_column(String(200))
    advisory: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[int]
    versions: Mapped[list[Any]]
    fixed_in: Mapped[str | None] = mapped_column(String(200))
    aliases: Mapped[list[Any]]
    summary: Mapped[str] = mapped_column(Text)
    locations: Mapped[list[Any]]
    first_seen: Mapped[dt.datetime]
    opened_at: Mapped[dt.datetime]
    last_seen: Mapped[dt.datetime]
    last_run: Mapped[int | None]
    fixed_at: Mapped[dt.datetime | None]
    fixed_run: Mapped[int | None]
    accepted_by: Mapped[str | None] = mapped_column(String(200))
    accepted_at: Mapped[dt.datetime | None]
    accepted_until: Mapped[dt.date | None]
    accepted_reason: Mapped[str | None] = mapped_column(Text)


# -- the server's accounts (custos.server, custos.store.auth_store); see docs/server.md --------

ROLES = ("admin", "security_officer", "engineer", "auditor", "viewer")


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)  # argon2id PHC string
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime]
    password_changed_at: Mapped[dt.datetime]
    totp_secret: Mapped[str | None] = mapped_column(Text)  # base32 seed, set when enrolling
    totp_enabled_at: Mapped[dt.datetime | None]  # set once a first code confirmed the seed
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # no code is accepted twice
    oidc_subject: Mapped[str | None] = mapped_column(String(400), unique=True)  # "issuer|sub"


class RoleBindingRow(Base):
    """A role for a user, everywhere (`system` NULL) or on one AI system."""

    __tablename__ = "role_bindings"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    system: Mapped[str | None] = mapped_column(String(200))


class SessionRow(Base):
    """A browser login. Only the SHA-256 of the cookie's token is kept."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]


class LoginAttemptRow(Base):
    """One login attempt, for throttling per username and per client address."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_client_at", "client", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime]
    succeeded: Mapped[bool] = mapped_column(Boolean)


class ApiTokenRow(Base):
    """A machine credential: SHA-256 of the secret, its role, systems (empty: all) and expiry."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    hint: Mapped[str] = mapped_column(String(16))  # the secret's first characters, for lists
    name: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    systems: Mapped[list[Any]]
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]


class RecoveryCodeRow(Base):
    """A one-time TOTP recovery code (SHA-256 only); `used_at` set when spent."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    used_at: Mapped[dt.datetime | None]


class OidcLoginRow(Base):
    """An OpenID Connect sign-in in flight: the SHA-256 of its `state`, with the nonce and PKCE
    verifier the callback needs. Kept in the database so any app process can take the callback."""

    __tablename__ = "oidc_logins"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    nonce: Mapped[str] = mapped_column(String(200))
    code_verifier: Mapped[str] = mapped_column(String(200))
    next_path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]


# -- the server's inventory (custos.store.inventory_store); see docs/server.md -----------------

INVENTORY_KINDS = (
    "organisation", "signing", "system", "asset", "risk", "attestation", "exclusion", "assignment",
)  # fmt: skip
INVENTORY_SOURCES = ("manifest", "server")


class InventoryItemRow(Base):
    """One manifest document (an AI system without its assets, an asset, a risk, ...), stored
    as the JSON its pydantic model validated. `system` is the owning system of an asset."""

    __tablename__ = "inventory_items"
    __table_args__ = (
        CheckConstraint(_in("kind", INVENTORY_KINDS), name="kind"),
        CheckConstraint(_in("source", INVENTORY_SOURCES), name="source"),
        UniqueConstraint("kind", "key", name="uq_inventory_items_kind_key"),
        Index("ix_inventory_items_kind_system", "kind", "system"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(200))
    system: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[dict[str, Any]]
    source: Mapped[str] = mapped_column(String(16))  # pushed from a manifest, or made here
    # Attestations: today's SHA-256 of the evidence file (as last pushed or uploaded).
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime]
    updated_by: Mapped[str] = mapped_column(String(200))


class InventoryStateRow(Base):
    """One row: raised by every write to inventory_items, so a process can tell in one read
    whether what it built from the inventory is still current."""

    __tablename__ = "inventory_state"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    generation: Mapped[int] = mapped_column(BigInteger)


class AttachmentRow(Base):
    """An uploaded evidence file (an attestation's document), kept whole with its SHA-256."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[dt.datetime]
    uploaded_by: Mapped[str] = mapped_column(String(200))
