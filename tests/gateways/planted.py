"""The gateway fixtures in `configs/`, written out with fresh secrets.

`@@NAME@@` in a fixture becomes a random secret (so no credential-shaped text is committed and
every run checks masking against values nobody has seen), and each `# expect: rule, rule`
comment says which findings point at that line.
"""

from __future__ import annotations

import base64
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

CONFIGS = Path(__file__).parent / "configs"
_SLOT = re.compile(r"@@([A-Z0-9_]+)@@")


@dataclass(frozen=True)
class Planted:
    path: Path
    secrets: dict[str, str]  # NAME -> the value written for it (as it reads, decoded)
    expected: set[tuple[int, str]]  # (line, rule)


def _secret(name: str) -> tuple[str, str]:
    """(what the file holds, what it means)."""
    value = secrets.token_hex(12) if name == "DB_PASSWORD" else f"sk-test-{secrets.token_hex(20)}"
    if name.startswith("BASE64_"):
        return base64.b64encode(value.encode()).decode(), value
    return value, value


def plant(name: str, target: Path) -> Planted:
    """Write fixture `name` (a file of configs/) to `target` with fresh secrets."""
    written: dict[str, str] = {}
    meant: dict[str, str] = {}

    def fill(match: re.Match[str]) -> str:
        slot = match.group(1)
        if slot not in written:
            written[slot], meant[slot] = _secret(slot)
        return written[slot]

    text = _SLOT.sub(fill, (CONFIGS / name).read_text())
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    expected = {
        (number, rule.strip())
        for number, line in enumerate(text.splitlines(), 1)
        if "# expect:" in line
        for rule in line.split("# expect:", 1)[1].split(",")
    }
    return Planted(target, meant | {f"{k} (as written)": v for k, v in written.items()}, expected)


def copy_secure_envoy(target: Path) -> Path:
    shutil.copytree(CONFIGS / "envoy-secure", target)
    return target
