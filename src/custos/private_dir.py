"""`.custos/`, the project's working folder: what in it must never be committed (the private
key that signs the evidence ledger, the local database, data-encryption keys) is listed in a
`.custos/.gitignore` Custos writes the first time it makes the folder, and a ledger key that
git already tracks is reported loudly (docs/storage.md). Never overwrites a user's file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from custos._files import write_atomic

NAME = ".custos"
KEY = f"{NAME}/ledger.key"
GITIGNORE = """\
# Written by Custos (docs/storage.md). Never commit these:
# the private key that signs the evidence ledger
ledger.key
# the local database and its journals
custos.db
custos.db-*
# key-encryption keys of encrypted datasets
keks/
# deletion records waiting for the ledger
deletions/
*.tmp
# Commit the rest when you want it reviewed with the code: baselines/, data-baselines/,
# access-baselines/, model-policy.yaml, and the checkpoints or signatures you export.
"""


def ensure(base_dir: Path) -> Path:
    """`.custos/` under `base_dir`, made if missing, with its `.gitignore` (written only when
    absent: a user's own stays)."""
    folder = base_dir / NAME
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        write_atomic(ignore, GITIGNORE.encode())
    return folder


def key_tracked(base_dir: Path) -> bool:
    """Whether git tracks `.custos/ledger.key` in the repository holding `base_dir` (False
    when there is no key, no git or no repository)."""
    git = shutil.which("git")
    if git is None or not (base_dir / KEY).is_file():
        return False
    try:
        done = subprocess.run(  # noqa: S603  (an argument list, no shell; our own path)
            [git, "-C", str(base_dir), "ls-files", "--error-unmatch", KEY],
            capture_output=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


TRACKED_WARNING = (
    f"{KEY} is tracked by git: whoever reads the repository can sign ledger entries as this "
    f"project. Run `git rm --cached {KEY}`, commit, and rotate the key (move it away; the next "
    "append makes a new one, then register its verifier key where pushes are checked)"
)
