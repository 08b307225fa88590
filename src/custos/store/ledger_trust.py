"""The verifier's memory: the last checkpoint it trusted for a ledger, kept outside the ledger.

`custos ledger verify` pins the verifier key and the newest verified checkpoint here (trust on
first use) and from then on refuses a ledger whose newest checkpoint does not extend it: a
rolled-back, forked or rewritten ledger fails even if it is self-consistent. The default file is
per ledger origin under `$CUSTOS_HOME/ledger-trust/` (else the user's state directory); an
auditor keeps theirs on their own machine with `--trust FILE`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from custos._files import write_atomic
from custos.errors import UserError
from custos.ledger.checkpoint import Checkpoint, CheckpointError, parse_and_verify

FORMAT = "custos-ledger-trust/1"


@dataclass(frozen=True)
class Trust:
    verifier_key: str
    checkpoint: Checkpoint
    note: str


def default_path(origin: str) -> Path:
    home = os.environ.get("CUSTOS_HOME")
    base = Path(home) if home else platformdirs.user_state_path("custos")
    return base / "ledger-trust" / (re.sub(r"[^A-Za-z0-9._-]+", "_", origin) + ".json")


def load(path: Path) -> Trust | None:
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT}")
        key, note = str(data["verifier_key"]), str(data["checkpoint"])
        return Trust(key, parse_and_verify(note, key), note)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, CheckpointError) as exc:
        raise UserError(f"{path}: not a usable ledger trust file: {exc}") from None


def save(path: Path, verifier_key: str, note: str) -> None:
    """Write atomically: a crash leaves the old trust or the new one, never half of one."""
    body = json.dumps({"format": FORMAT, "verifier_key": verifier_key, "checkpoint": note})
    write_atomic(path, (body + "\n").encode())
