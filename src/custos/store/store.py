"""`Store`: the only way the rest of Custos reads and writes the database.

Every write is one transaction: a scan's run row, evidence and findings, or an assessment's run,
report and status rows, are all kept or none is. Every method maps database failures to
`custos.store.errors` (through `map_store_errors`), naming the database without its password.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from custos import __version__, private_dir
from custos.assess.evidence import latest
from custos.assess.model import AssessmentReport, TrendPoint
from custos.checks.model import Evidence, Finding
from custos.errors import UserError
from custos.ledger.audit import Audit, audit
from custos.ledger.bundle import BundleHeader, write_lines
from custos.ledger.checkpoint import Checkpoint
from custos.ledger.entry import LedgerEntry
from custos.ledger.witness import Kept
from custos.reports.json_schema import report_to_dict
from custos.store import convert, ledger, migrate, queries, vulns_store
from custos.store.engine import make_engine
from custos.store.errors import StoreNotMigrated, map_store_errors, unavailable
from custos.store.models import AssessmentRow, RunRow
from custos.store.queries import CONTROL_STATUS, EVIDENCE, FINDINGS
from custos.store.urls import DatabaseTarget, resolve
from custos.vulns.model import Record, Status


@dataclass(frozen=True)
class RunInfo:
    """One stored scan or assessment, newest first in `Store.runs()`."""

    id: int
    kind: str  # "scan" | "assess"
    started_at: dt.datetime
    finished_at: dt.datetime
    manifest_path: str
    manifest_sha256: str
    custos_version: str
    status: str
    evidence_count: int  # evidence records kept by a scan (0 for an assessment)
    overall_score: float | None  # an assessment's score (None for a scan)


@dataclass(frozen=True)
class LedgerWrite:
    """Entries to append with a run: `build(run_id)` makes them, `signer` signs the checkpoint."""

    signer: str
    build: Callable[[int], Sequence[LedgerEntry]]
    # What the append gave (where the run's entries start): a push proves them from there.
    appended: list[ledger.Appended] = field(default_factory=list, compare=False)

    def append(self, conn: Connection, run_id: int) -> None:
        entries = self.build(run_id)
        if entries:
            self.appended.append(ledger.append(conn, entries, self.signer))


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


LATEST_ASSESSMENT_ID = queries.latest_assessment_id()


class Store:
    """Scans and assessments in SQLite (default) or PostgreSQL. Open with `Store.open`."""

    def __init__(self, target: DatabaseTarget) -> None:
        self._target = target
        self._engine = make_engine(target.url)
        self._checked = False  # schema verified current for this Store's lifetime
        # Called after each commit that signed a ledger checkpoint (the server's witness).
        self.after_ledger_commit: Callable[[], None] | None = None

    # -- opening and describing ---------------------------------------------------------------

    @classmethod
    def open(
        cls, url: str | None, base_dir: Path, *, environ: Mapping[str, str] | None = None
    ) -> Store:
        """`url`, else `CUSTOS_DATABASE_URL`, else `<base_dir>/.custos/custos.db` (created).

        Nothing is connected yet: a bad server shows up on first use as `StoreUnavailable`.
        """
        target = resolve(url, base_dir, os.environ if environ is None else environ)
        path = target.sqlite_path
        if target.is_default and path is not None:
            try:
                private_dir.ensure(path.parent.parent)  # with its .gitignore
            except OSError as exc:
                raise unavailable(target.shown, exc) from exc
        return cls(target)

    @property
    def is_default(self) -> bool:
        """True for the project's own SQLite file (chosen because no URL was given)."""
        return self._target.is_default

    @property
    def url(self) -> str:
        """The database URL without its password: safe to print."""
        return self._target.shown

    def describe(self) -> str:
        """For messages: the SQLite file's path, or the URL without its password."""
        path = self._target.sqlite_path
        if path is not None:
            return str(path)
        return "an in-memory SQLite database" if self._target.is_sqlite else self.url

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- schema -------------------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        with map_store_errors(self.url, connecting=True):
            conn = self._engine.connect()
        try:
            with map_store_errors(self.url):
                yield conn
        finally:
            conn.close()

    def _revisions(self) -> tuple[str, ...]:
        with self._connection() as conn:
            revisions = migrate.applied(conn)
            conn.rollback()
        return revisions

    def is_current(self) -> bool:
        """True when the schema is at the revision this Custos expects."""
        return migrate.state(self._revisions()) == "current"

    def upgrade(self) -> None:
        """Apply the missing migrations in one transaction (Alembic `upgrade head`)."""
        revisions = self._revisions()
        if migrate.state(revisions) == "ahead":
            raise self._newer(revisions)
        with self._connection() as conn, conn.begin():
            migrate.upgrade(conn)
        self._checked = True

    def ensure_current(self, auto_upgrade: bool) -> None:
        """Make sure the schema is current: migrate if allowed, else raise StoreNotMigrated."""
        revisions = self._revisions()
        state = migrate.state(revisions)
        if state == "ahead":
            raise self._newer(revisions)
        if state == "behind":
            if not auto_upgrade:
                raise self._not_migrated()
            self.upgrade()
        self._checked = True

    def _not_migrated(self) -> StoreNotMigrated:
        return StoreNotMigrated(
            f"database at {self.url} is not migrated; run `custos db upgrade --db URL`"
        )

    def _newer(self, revisions: tuple[str, ...]) -> StoreNotMigrated:
        return StoreNotMigrated(
            f"database at {self.url} has schema revision {', '.join(revisions)}, newer than this "
            f"Custos {__version__} knows (latest {migrate.HEAD}); upgrade Custos"
        )

    def _not_current(self, revisions: tuple[str, ...]) -> StoreNotMigrated:
        ahead = migrate.state(revisions) == "ahead"
        return self._newer(revisions) if ahead else self._not_migrated()

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._connection() as conn:
            conn.info.pop(ledger.APPENDED, None)  # info outlives a pooled checkout
            if not self._checked:
                # Once per Store: a clear message instead of "no such table" on a new database.
                revisions = migrate.applied(conn)
                if migrate.state(revisions) != "current":
                    raise self._not_current(revisions)
                conn.rollback()
                self._checked = True
            with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                yield session
            appended = conn.info.pop(ledger.APPENDED, False)
        if appended and self.after_ledger_commit is not None:
            self.after_ledger_commit()

    # -- scans --------------------------------------------------------------------------------

    def save_scan(
        self,
        evidence: Sequence[Evidence],
        *,
        started_at: dt.datetime,
        finished_at: dt.datetime,
        manifest_path: str,
        manifest_sha256: str,
        ledger_write: LedgerWrite | None = None,
    ) -> int:
        """Keep one scan and all its evidence (all or nothing); returns the run id. With
        `ledger_write`, the entries it builds for the run are appended in the same transaction."""
        with self._session() as session:
            run = RunRow(
                kind="scan",
                started_at=started_at,
                finished_at=finished_at,
                manifest_path=manifest_path,
                manifest_sha256=manifest_sha256,
                custos_version=__version__,
                status="complete",
            )
            session.add(run)
            session.flush()
            if ledger_write is not None:
                ledger_write.append(session.connection(), run.id)
            # The vulnerabilities it saw, kept across scans (custos.vulns): same transaction.
            vulns_store.reconcile(session.connection(), evidence, run.id, finished_at)
            if not evidence:
                return run.id
            # executemany with RETURNING, ids in parameter order: one round trip per batch.
            values = [convert.evidence_values(run.id, item) for item in evidence]
            returning = insert(EVIDENCE).returning(EVIDENCE.c.id, sort_by_parameter_order=True)
            ids = session.execute(returning, values).scalars().all()
            findings = [
                row
                for evidence_id, item in zip(ids, evidence, strict=True)
                for row in convert.finding_values(evidence_id, item)
            ]
            if findings:
                session.execute(insert(FINDINGS), findings)
            return run.id

    def latest_evidence(self, systems: Collection[str] | None = None) -> list[Evidence]:
        """The newest evidence per (check, system, asset) over all scans, optionally per system.

        Newest means latest `collected_at`; between equal times, the later stored record. A
        distrusted claim (custos.assess.trust) supersedes nothing: when it is newer than the
        newest trusted record of its target, both come back (`custos.assess.evidence.latest`).
        """
        if systems is not None and not systems:
            return []
        evidence_query, findings_query = queries.latest_evidence(systems)
        with self._session() as session:
            findings: dict[int, list[Finding]] = {}
            for row in session.execute(findings_query).mappings():
                findings.setdefault(row["evidence_id"], []).append(convert.finding(row))
            found = [
                convert.evidence(row, findings.get(row["id"], ()))
                for row in session.execute(evidence_query).mappings()
            ]
        return latest(found)

    # -- vulnerabilities ----------------------------------------------------------------------

    def vulnerabilities(
        self,
        systems: Collection[str] | None = None,
        statuses: Collection[Status] | None = None,
    ) -> list[Record]:
        """The tracked vulnerabilities (custos.vulns), optionally of some systems and
        statuses."""
        with self._session() as session:
            return vulns_store.records(session.connection(), systems, statuses)

    def decide_vulnerability(
        self,
        vuln_id: int,
        decide: Callable[[Record], Record],
        entry: Callable[[Record], LedgerEntry],
        signer: str,
    ) -> Record:
        """Apply a person's decision (custos.vulns.lifecycle.accept / reopen) to one record and
        append its ledger entry (`entry` of the decided record) in the same transaction.
        KeyError for an unknown id; the decision's ValueError leaves everything as it was."""
        with self._session() as session:
            conn = session.connection()
            found = vulns_store.get(conn, vuln_id)
            if found is None:
                raise KeyError(vuln_id)
            decided = decide(found)
            vulns_store.save(conn, [decided])
            ledger.append(conn, [entry(decided)], signer)
            return decided

    # -- assessments --------------------------------------------------------------------------

    def save_assessment(
        self,
        report: AssessmentReport,
        *,
        manifest_path: str,
        manifest_sha256: str,
        ledger_write: LedgerWrite | None = None,
    ) -> int:
        """Keep one assessment: its report JSON and one status row per (system, control), and
        with `ledger_write` its ledger entries, in one transaction."""
        as_dict = report_to_dict(report)  # before the transaction: a bad report writes nothing
        with self._session() as session:
            run = RunRow(
                kind="assess",
                started_at=report.generated_at,
                finished_at=max(_utcnow(), report.generated_at),
                manifest_path=manifest_path,
                manifest_sha256=manifest_sha256,
                custos_version=report.custos_version,
                status="complete",
            )
            session.add(run)
            session.flush()
            row = convert.assessment_row(run.id, report, as_dict)
            session.add(row)
            session.flush()
            values = convert.control_status_values(row.id, report)
            if values:
                # Core executemany: statuses run to tens of thousands on a large estate.
                session.execute(insert(CONTROL_STATUS), values)
            if ledger_write is not None:
                ledger_write.append(session.connection(), run.id)
            return run.id

    def trend(self, limit: int = 20) -> list[TrendPoint]:
        """Overall and per-system scores of the last `limit` assessments, oldest first."""
        query = queries.trend(limit)
        with self._session() as session:
            rows = [(r[0], r[1], r[2]) for r in session.execute(query)]
        return convert.trend_points(reversed(rows))

    def latest_report(self) -> dict[str, Any] | None:
        """The newest assessment's report, as `reports.json_schema.report_to_dict` made it."""
        query = queries.latest_report()
        with self._session() as session:
            report = session.scalars(query).first()
        return dict(report) if report is not None else None

    def latest_assessment_id(self) -> int | None:
        """The id of the newest assessment (what `latest_report` would return), or None."""
        # Asked on every request the server answers from a report: a Core query, no ORM.
        with self._session() as session:
            found = session.connection().execute(LATEST_ASSESSMENT_ID).scalar()
        return int(found) if found is not None else None

    def report_of(self, assessment_id: int) -> dict[str, Any] | None:
        """One stored assessment's report, as `report_to_dict` made it."""
        query = select(AssessmentRow.report).where(AssessmentRow.id == assessment_id)
        with self._session() as session:
            report = session.scalars(query).first()
        return dict(report) if report is not None else None

    # -- history ------------------------------------------------------------------------------

    def runs(self, limit: int = 50) -> list[RunInfo]:
        """The last `limit` scans and assessments, newest first."""
        query = queries.runs(limit)
        with self._session() as session:
            return [
                RunInfo(
                    id=run.id,
                    kind=run.kind,
                    started_at=run.started_at,
                    finished_at=run.finished_at,
                    manifest_path=run.manifest_path,
                    manifest_sha256=run.manifest_sha256,
                    custos_version=run.custos_version,
                    status=run.status,
                    evidence_count=int(count),
                    overall_score=score,
                )
                for run, count, score in session.execute(query)
            ]

    # -- the evidence ledger (see custos.store.ledger) ---------------------------------------

    @contextmanager
    def _ledger(self) -> Iterator[Connection]:
        """One transaction on a plain connection (the ledger writes Core statements)."""
        with self._session() as session:
            yield session.connection()

    @contextmanager
    def ledger_snapshot(self) -> Iterator[Connection]:
        """One read transaction that sees one state of the ledger throughout. PostgreSQL's
        default (READ COMMITTED) gives every statement its own snapshot, so an append that
        committed between reading the declared size and reading the entries made a healthy
        ledger fail its audit ("declares N entries but holds M"); SQLite's explicit BEGIN
        already reads one snapshot."""
        with self._ledger() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield conn

    def ledger_append(self, entries: Sequence[LedgerEntry], signer: str) -> ledger.Appended:
        """Append and sign; durable when this returns (one transaction, fsynced on commit)."""
        with self._ledger() as conn:
            return ledger.append(conn, entries, signer)

    def ledger_info(self) -> ledger.LedgerInfo | None:
        with self._ledger() as conn:
            return ledger.info(conn)

    def ledger_prove(self, index: int) -> ledger.InclusionProof:
        with self.ledger_snapshot() as conn:
            return ledger.prove_inclusion(conn, index)

    def ledger_entry(self, index: int) -> bytes | None:
        with self._ledger() as conn:
            return ledger.entry_data(conn, index)

    def ledger_proofs(self, indexes: Sequence[int]) -> ledger.Proofs:
        """Entries with their inclusion proofs, all to the latest checkpoint (one read)."""
        with self.ledger_snapshot() as conn:
            return ledger.prove_entries(conn, indexes)

    def ledger_audit(
        self,
        verifier: str,
        trusted: Checkpoint | None = None,
        origin: str | None = None,
        kept: Sequence[Kept] = (),
    ) -> Audit:
        """Recompute the whole ledger from its stored entries (one read transaction)."""
        with self.ledger_snapshot() as conn:
            state = ledger.info(conn)
            return audit(
                ledger.stream_entries(conn),
                ledger.checkpoints(conn),
                verifier,
                trusted=trusted,
                declared_size=state.size if state else 0,
                origin=origin,
                kept=kept,
            )

    def ledger_matching(self, needle: bytes) -> list[tuple[int, bytes]]:
        """(seq, data) of every entry whose canonical bytes contain `needle`, in order: a
        coarse filter that the caller refines by parsing (one read transaction)."""
        with self.ledger_snapshot() as conn:
            return [(seq, data) for seq, _hash, data in ledger.stream_entries(conn)
                    if needle in data]  # fmt: skip

    def ledger_export(self) -> Iterator[bytes]:
        """The audit bundle's lines (custos.ledger.bundle), read in one transaction."""
        with self.ledger_snapshot() as conn:
            state = ledger.info(conn)
            if state is None:
                raise UserError("the ledger is empty: nothing to export")
            notes = ledger.checkpoints(conn)
            header = BundleHeader(state.origin, state.verifier_key, state.size, len(notes))
            datas = (data for _seq, _hash, data in ledger.stream_entries(conn))
            yield from write_lines(header, notes, datas)
