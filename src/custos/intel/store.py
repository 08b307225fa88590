"""The advisory store on disk: the OSV exports `custos intel import` loaded, kept as given
(each ecosystem's zip, or a zip made of a folder of `.json` records), and a status file that
says what was loaded, when, and how fresh the newest record is. `custos scan-repo` and the
`repository` check build their index from it; `custos intel status` reports it, and
intelligence older than `STALE_DAYS` is a finding against ISO 27002 5.7.

The store lives in `$CUSTOS_HOME/intel` (else the user's state directory), or in the folder
`--intel DIR` names. Records are parsed as data, never executed."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custos._files import write_atomic
from custos.errors import UserError
from custos.intel.index import Index
from custos.intel.osv import ArchiveTally, iter_archive

STATUS = "status.json"
SOURCES = "sources"
FORMAT = "custos-intel-store"
STALE_DAYS = 7  # OSV exports change daily; a week-old copy misses the week's advisories


def default_dir() -> Path:
    home = os.environ.get("CUSTOS_HOME")
    if home:
        return Path(home) / "intel"
    import platformdirs

    return platformdirs.user_state_path("custos") / "intel"


@dataclass(frozen=True)
class Source:
    """One imported export."""

    name: str  # the file name in the store
    origin: str  # the path it was imported from
    imported: dt.datetime
    advisories: int
    malformed: int
    newest: dt.datetime | None  # the newest record's `modified`

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "origin": self.origin, "imported": self.imported.isoformat(),
                "advisories": self.advisories, "malformed": self.malformed,
                "newest": self.newest.isoformat() if self.newest else None}  # fmt: skip


def _source(data: dict[str, Any]) -> Source:
    newest = data.get("newest")
    return Source(str(data["name"]), str(data["origin"]),
                  dt.datetime.fromisoformat(str(data["imported"])), int(data["advisories"]),
                  int(data["malformed"]),
                  dt.datetime.fromisoformat(newest) if newest else None)  # fmt: skip


def sources(store: Path | None = None) -> list[Source]:
    """What the store holds (empty when nothing was imported)."""
    path = (store or default_dir()) / STATUS
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT}")
        return [_source(s) for s in data["sources"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path}: not a readable advisory store status: {exc}") from None


def _write_status(store: Path, found: list[Source]) -> None:
    body = {"format": FORMAT, "sources": [s.to_json() for s in found]}
    write_atomic(store / STATUS, (json.dumps(body, indent=1, sort_keys=True) + "\n").encode())


Malformed = list[tuple[str, str]]  # (member, reason)


def import_source(path: Path, store: Path | None = None,
                  now: dt.datetime | None = None) -> tuple[Source, Malformed]:  # fmt: skip
    """Read every advisory of `path` (a zip, a folder of `.json` records or one record), then
    keep it in the store under a name derived from the path (importing the same export again
    replaces it). Returns the source and the malformed members (name, reason). Nothing is
    stored when no advisory could be read."""
    store = store or default_dir()
    if not path.exists():
        raise UserError(f"{path}: no such file or directory")
    tally = ArchiveTally()
    newest: dt.datetime | None = None
    try:
        for advisory in iter_archive(path, tally):
            if newest is None or advisory.modified > newest:
                newest = advisory.modified
    except ValueError as exc:
        raise UserError(str(exc)) from None
    except (OSError, zipfile.BadZipFile) as exc:
        raise UserError(f"{path}: cannot be read: {exc}") from None
    if tally.advisories == 0:
        raise UserError(f"{path}: no OSV advisory found ({len(tally.malformed)} malformed)")
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", path.resolve().name or "advisories")
    name = name if name.endswith(".zip") else f"{name}.zip"
    target = store / SOURCES / name
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    if zipfile.is_zipfile(path):
        shutil.copyfile(path, partial)
    else:
        _zip_records(path, partial)
    partial.replace(target)
    source = Source(name, str(path), now or dt.datetime.now(dt.UTC), tally.advisories,
                    len(tally.malformed), newest)  # fmt: skip
    kept = [s for s in sources(store) if s.name != name]
    _write_status(store, [*kept, source])
    return source, tally.malformed


def _zip_records(path: Path, target: Path) -> None:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*.json") if p.is_file())
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for f in files:
            out.write(f, f.relative_to(path).as_posix() if path.is_dir() else f.name)


def load_index(store: Path | None = None) -> Index | None:
    """The index of every imported advisory, or None when the store is empty."""
    store = store or default_dir()
    found = sources(store)
    if not found:
        return None

    def every() -> Any:
        for s in found:
            path = store / SOURCES / s.name
            if path.exists():
                yield from iter_archive(path)

    return Index(every())


def stale(found: list[Source], now: dt.datetime) -> bool:
    """Whether the newest import is older than STALE_DAYS (or nothing was imported)."""
    if not found:
        return True
    latest = max(s.imported for s in found)
    return now - latest > dt.timedelta(days=STALE_DAYS)
