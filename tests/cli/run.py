"""Run the real `custos` CLI in a subprocess, as a user or a CI job would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def custos(*args: str, env: dict[str, str] | None = None, cwd: str | None = None) -> Result:
    environment = {**os.environ, "COLUMNS": "200", **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "custos", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
        cwd=cwd,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
