"""Where the ledger's Ed25519 signing key lives, and making one on first use.

The key signs checkpoints, so it must not sit in the database it vouches for: it is read from
`CUSTOS_LEDGER_KEY` (the key string, e.g. from a secret store in CI or a server deployment),
else from the file `CUSTOS_LEDGER_KEY_FILE`, else from `<project>/.custos/ledger.key`, which is
created (mode 0600) the first time a ledger is written. The key string is never printed or
logged; `custos ledger status` shows the public verifier key only.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from custos import private_dir
from custos.errors import UserError
from custos.ledger.checkpoint import CheckpointError, generate_log_key, verifier_of

ENV_KEY = "CUSTOS_LEDGER_KEY"
ENV_KEY_FILE = "CUSTOS_LEDGER_KEY_FILE"
DEFAULT_FILE = Path(".custos") / "ledger.key"


def key_file(base_dir: Path, environ: Mapping[str, str]) -> Path:
    named = environ.get(ENV_KEY_FILE)
    return Path(named) if named else base_dir / DEFAULT_FILE


def load_signer(base_dir: Path, environ: Mapping[str, str] | None = None, *, create: bool) -> str:
    """The signing key string; a new key file when none exists and `create` is set."""
    env = os.environ if environ is None else environ
    if env.get(ENV_KEY):
        return _checked(env[ENV_KEY].strip(), f"${ENV_KEY}")
    path = key_file(base_dir, env)
    if path.is_file():
        try:
            text = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{path}: cannot read the ledger key: {exc}") from None
        return _checked(text, str(path))
    if not create:
        raise UserError(
            f"{path}: no ledger key (set ${ENV_KEY} or ${ENV_KEY_FILE}, or append an entry "
            "first to create one)"
        )
    signer, _verifier = generate_log_key(f"custos-ledger/{secrets.token_hex(8)}")
    if path.parent.name == private_dir.NAME:
        private_dir.ensure(path.parent.parent)  # the key is listed in its .gitignore
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return load_signer(base_dir, env, create=False)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(signer + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return signer


def _checked(signer: str, where: str) -> str:
    try:
        verifier_of(signer)
    except CheckpointError as exc:
        raise UserError(f"{where}: not a ledger signing key ({exc})") from None
    return signer
