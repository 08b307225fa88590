"""The contract every check implements, and what it is given to work on.

A check is one module with one `Check` subclass: a `name`, a `version` (bump it when its output
changes meaning), the asset kinds it applies to (empty: it runs once per AI system), the
requirement / control ids its evidence counts for, and `run(target, context) -> Outcome`.
`custos.checks.registry` runs it and turns exceptions into `error` evidence.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from custos._hashing import sha256_path
from custos.checks.model import Examined, Outcome
from custos.inventory.schema import AISystem, Asset, AssetKind, Manifest

if TYPE_CHECKING:
    from custos.ledger.audit import Audit
    from custos.ledger.entry import LedgerEntry


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may read besides its target."""

    manifest: Manifest
    base_dir: Path  # the directory holding custos.yaml; asset paths are relative to it
    now: dt.datetime
    # Audits the project's evidence ledger (None: empty); given by the shell that has a store.
    ledger: Callable[[], Audit | None] | None = None
    # The ledger's "event" entries of one event name, with their sequence numbers, in order.
    ledger_events: Callable[[str], Sequence[tuple[int, LedgerEntry]]] | None = None

    def resolve(self, location: str) -> Path:
        path = Path(location)
        return path if path.is_absolute() else self.base_dir / path

    def where(self, path: Path) -> str:
        """How evidence names a file: relative to custos.yaml when inside the project (POSIX
        separators), else the path as given."""
        if path.is_relative_to(self.base_dir):
            return path.relative_to(self.base_dir).as_posix()
        base, resolved = self.base_dir.resolve(), path.resolve()
        return resolved.relative_to(base).as_posix() if resolved.is_relative_to(base) else str(path)

    def examined(self, paths: Iterable[Path]) -> tuple[Examined, ...]:
        """What a check looked at: each file with its digest and size today."""
        return tuple(Examined(self.where(p), sha256_path(p), p.stat().st_size) for p in paths)


@dataclass(frozen=True)
class Target:
    system: AISystem
    asset: Asset | None = None

    @property
    def label(self) -> str:
        return f"{self.system.id}/{self.asset.id}" if self.asset else self.system.id


class Check(ABC):
    """Base class of every check. Subclasses set the class attributes and implement `run`."""

    name: ClassVar[str]
    version: ClassVar[int]
    title: ClassVar[str]
    kinds: ClassVar[frozenset[AssetKind]] = frozenset()
    evidences: ClassVar[tuple[str, ...]]
    validity: ClassVar[dt.timedelta] = dt.timedelta(days=90)
    # Runs on a retired asset whose files are gone (the others are not applicable there).
    follows_deletion: ClassVar[bool] = False

    def applies_to(self, target: Target) -> bool:
        """System-level checks take the system; asset checks take assets of their kinds."""
        if not self.kinds:
            return target.asset is None
        return target.asset is not None and target.asset.kind in self.kinds

    @abstractmethod
    def run(self, target: Target, context: CheckContext) -> Outcome:
        """Examine the target. Raise `custos.errors.UserError` only for unusable input."""
