"""Secrets in code and configs (custos.repo.secrets): labelled data generated from a seed.

Every credential kind is written in Python, YAML, .env and JSON files with filler around it;
recall counts planted secrets with a finding on their line. The look-alikes (placeholders,
environment references, commit hashes, UUIDs, digests, base64 of ordinary text) must stay
quiet, and no output may hold a whole secret.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from custos.findings import Severity
from custos.repo.model import RepoFinding
from custos.repo.secrets import RULES, fingerprint, mask, scan_secrets

SEED = 20240611
ALNUM = string.ascii_letters + string.digits


def _pick(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _pem(_: random.Random) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _jwt(rng: random.Random) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {
        "sub": _pick(rng, string.digits, 10),
        "iat": rng.randrange(1_600_000_000, 1_800_000_000),
    }
    payload = _b64url(json.dumps(claims).encode())
    return f"{header}.{payload}.{_b64url(rng.randbytes(32))}"


def _password(rng: random.Random) -> str:
    return _pick(rng, ALNUM, rng.randrange(10, 14)) + rng.choice("!#%&*+-") + _pick(rng, ALNUM, 3)


UPPER_DIGITS = string.ascii_uppercase + string.digits
LOWER_DIGITS = string.ascii_lowercase + string.digits
URLSAFE = ALNUM + "_-"


def _slack(r: random.Random) -> str:
    digits = string.digits
    return f"xoxb-{_pick(r, digits, 12)}-{_pick(r, digits, 13)}-{_pick(r, LOWER_DIGITS, 24)}"


# kind -> (key name, generator of the secret)
KINDS: dict[str, tuple[str, Callable[[random.Random], str]]] = {
    "aws-key-id": ("aws_access_key_id", lambda r: "AKIA" + _pick(r, UPPER_DIGITS, 16)),
    "aws-secret": ("aws_secret_access_key", lambda r: _pick(r, ALNUM + "/+", 40)),
    "github": ("github_token", lambda r: "ghp_" + _pick(r, ALNUM, 36)),
    "gitlab": ("gitlab_token", lambda r: "glpat-" + _pick(r, URLSAFE, 20)),
    "slack": ("slack_bot_token", _slack),
    "stripe": ("stripe_key", lambda r: "sk_live_" + _pick(r, ALNUM, 24)),
    "sendgrid": ("sendgrid_key", lambda r: f"SG.{_pick(r, URLSAFE, 22)}.{_pick(r, URLSAFE, 43)}"),
    "openai": ("openai_key", lambda r: f"sk-{_pick(r, ALNUM, 20)}T3BlbkFJ{_pick(r, ALNUM, 20)}"),
    "huggingface": ("hf_token", lambda r: "hf_" + _pick(r, string.ascii_letters, 34)),
    "jwt": ("session", _jwt),
    "password": ("db_password", _password),
    "api-key": ("api_key", lambda r: _pick(r, ALNUM, 32)),
    "auth-token": ("auth_token", lambda r: _b64url(r.randbytes(30))),
    "private-key": ("private_key", _pem),
}  # fmt: skip

FILLER = {
    ".py": ["import os", "def train(model):", "    return model.fit()", "LR = 0.001", ""],
    ".yaml": ["model: bert-base-uncased", "epochs: 3", "batch_size: 32", "# tuning"],
    ".env": ["LOG_LEVEL=info", "PORT=8080", "# local settings"],
}


@dataclass(frozen=True)
class Planted:
    kind: str
    secret: str
    path: Path
    line: int


def _render(suffix: str, key: str, secret: str) -> list[str]:
    """The lines that assign `secret` to `key` in a file of this kind."""
    multiline = "\n" in secret
    if suffix == ".py":
        if multiline:
            return [f'{key.upper()} = """{secret.splitlines()[0]}', *secret.splitlines()[1:], '"""']
        return [f'{key} = "{secret}"']
    if suffix == ".yaml":
        if multiline:
            return [f"{key}: |", *(f"  {line}" for line in secret.splitlines())]
        return [f"{key}: {secret}"]
    if suffix == ".env":
        return (
            [f'{key.upper()}="{secret}"'.replace("\n", "\\n")]
            if multiline
            else [f"{key.upper()}={secret}"]
        )
    return [f'  "{key}": {json.dumps(secret)},']


def _write_corpus(root: Path, rng: random.Random, copies: int = 3) -> list[Planted]:
    planted: list[Planted] = []
    for suffix in (".py", ".yaml", ".env", ".json"):
        lines: list[str] = ["{"] if suffix == ".json" else []
        path = root / ("settings.env" if suffix == ".env" else f"settings{suffix}")
        for _ in range(copies):
            for kind, (key, make) in KINDS.items():
                if suffix != ".json":
                    lines.append(rng.choice(FILLER[suffix]))
                secret = make(rng)
                rendered = _render(suffix, key, secret)
                # the finding is where the secret starts: a YAML block starts a line below
                start = next(i for i, line in enumerate(rendered) if secret[:8] in line)
                planted.append(Planted(kind, secret, path, len(lines) + 1 + start))
                lines.extend(rendered)
        if suffix == ".json":
            lines.append('  "name": "demo"')
            lines.append("}")
        path.write_text("\n".join(lines) + "\n")
    return planted


def _scan(path: Path) -> list[RepoFinding]:
    return scan_secrets(path.read_text(), path)


def _text_of(finding: RepoFinding) -> str:
    return json.dumps(finding.to_json()) + finding.message + finding.where


def test_generated_credentials_are_found_and_never_shown(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    planted = _write_corpus(tmp_path, rng)
    found = {path: _scan(path) for path in {p.path for p in planted}}
    lines = {(f.path, f.line) for findings in found.values() for f in findings}
    missed = [p for p in planted if (p.path, p.line) not in lines]
    recall = 1 - len(missed) / len(planted)
    assert recall >= 0.9, f"recall {recall:.2f}; missed {[(m.kind, m.path.name) for m in missed]}"
    # every kind is found in most of its contexts
    for kind in KINDS:
        mine = [p for p in planted if p.kind == kind]
        assert sum(p not in missed for p in mine) >= len(mine) * 0.75, kind
    outputs = [_text_of(f) for findings in found.values() for f in findings]
    for p in planted:
        for piece in (p.secret, *p.secret.splitlines()):
            if len(piece) >= 8:  # a PEM's dashes and short lines are not secret
                assert not any(piece in text for text in outputs), p.kind
    for findings in found.values():
        for f in findings:
            assert f.rule == "repo/secret"
            assert f.severity is Severity.high
            assert f.controls == RULES["repo/secret"].controls
            assert f.where.startswith("secret:")
            assert len(f.where.rsplit(":", 1)[1]) == 12


def _look_alikes(rng: random.Random) -> dict[str, str]:
    sha = "".join(rng.choice("0123456789abcdef") for _ in range(40))
    digest = "".join(rng.choice("0123456789abcdef") for _ in range(64))
    uuid = "-".join(
        "".join(rng.choice("0123456789abcdef") for _ in range(n)) for n in (8, 4, 4, 4, 12)
    )
    prose = base64.b64encode(b"The quick brown fox jumps over the lazy dog, twice.").decode()
    return {
        "placeholders.py": "\n".join(
            [
                'api_key = "<your-api-key>"',
                'password = "changeme"',
                'token = "xxxxxxxxxxxxxxxx"',
                'secret = "your_secret_here"',
                'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"',
                'db_password = "${DB_PASSWORD}"',
            ]
        ),
        "references.py": "\n".join(
            [
                'api_key = os.environ["OPENAI_API_KEY"]',
                'password = os.getenv("DB_PASSWORD")',
                "token = settings.hf_token",
                'secret = get_secret("prod/db")',
                "headers = {'Authorization': f'Bearer {token}'}",
            ]
        ),
        "config.yaml": "\n".join(
            [
                "token: ${HF_TOKEN}",
                "password: '{{ vault_db_password }}'",
                "password_file: /run/secrets/db_password",
                "secret_name: training-credentials",
                "max_tokens: 4096",
                "tokenizer: meta-llama/Llama-2-7b-chat-hf",
                f"commit: {sha}",
                f"revision: {sha}",
                f"run_id: {uuid}",
                f"sha256: {digest}",
            ]
        ),
        "ids.py": "\n".join(
            [
                f'commit = "{sha}"',
                f'request_id = "{uuid}"',
                f'checksum = "{digest}"',
                f'thumbnail = "{prose}"',
                f'data = "{prose}"',
            ]
        ),
        "ci.env": "\n".join(["API_KEY=", "SECRET_KEY=${SECRET_KEY}", "GITHUB_TOKEN=$GH_TOKEN"]),
        "meta.json": json.dumps(
            {"run_id": uuid, "git_sha": sha, "payload": prose, "api_key": "<set me>"}, indent=1
        ),
    }


def test_look_alikes_stay_quiet(tmp_path: Path) -> None:
    false_positives: list[RepoFinding] = []
    for name, text in _look_alikes(random.Random(SEED)).items():
        path = tmp_path / name
        path.write_text(text + "\n")
        false_positives += _scan(path)
    assert len(false_positives) <= 1, [(f.path.name, f.line, f.message) for f in false_positives]


def test_planted_secret_and_its_look_alike(tmp_path: Path) -> None:
    rng = random.Random(SEED + 1)
    token = "ghp_" + _pick(rng, ALNUM, 36)
    path = tmp_path / "train.py"
    path.write_text(f'import os\nGH = "{token}"\nGH2 = os.environ["GH_TOKEN"]\n')
    (finding,) = _scan(path)
    assert (finding.line, finding.column) == (2, 7)
    line = 'GH = "' + token + '"'
    assert finding.where == f"secret:GitHub Token:{fingerprint(line, token)}"
    # the fingerprint names the place, not the secret: a rotated token on the same line is
    # the same alert, and no digest of the secret is published
    rotated = "ghp_" + _pick(rng, ALNUM, 36)
    path.write_text(f'import os\nGH = "{rotated}"\nGH2 = os.environ["GH_TOKEN"]\n')
    (again,) = _scan(path)
    assert again.where == finding.where
    assert hashlib.sha256(token.encode()).hexdigest()[:12] not in finding.where
    assert "GitHub Token" in finding.message
    assert mask(token) in finding.message
    assert token not in _text_of(finding)


def test_notebook_cell_offsets_and_cell_index(tmp_path: Path) -> None:
    token = "hf_" + _pick(random.Random(SEED + 2), string.ascii_letters, 34)
    path = tmp_path / "explore.ipynb"
    (finding,) = scan_secrets(f"x = 1\nlogin('{token}')\n", path, line_offset=10, cell=3)
    assert (finding.line, finding.cell) == (12, 3)
    assert finding.location("explore.ipynb") == "explore.ipynb#cell3:12"


def test_allowlist_pragma_is_honoured() -> None:
    token = "ghp_" + _pick(random.Random(SEED + 3), ALNUM, 36)
    text = f'a = "{token}"  # pragma: allowlist secret\n'
    assert scan_secrets(text, Path("a.py")) == []


def test_header_without_a_key_is_not_a_private_key() -> None:
    text = 'if "-----BEGIN RSA PRIVATE KEY-----" in pem:\n    kind = "rsa"\n'
    assert scan_secrets(text, Path("keys.py")) == []


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        ("ghp_abcdefghijklmnop", "ghp_\u2026(20 chars)"),
        ("hunter22", "hu\u2026(8 chars)"),
        ("abc", "\u2026(3 chars)"),
    ],
)
def test_mask_never_shows_much(secret: str, shown: str) -> None:
    assert mask(secret) == shown


def test_files_without_candidates_are_cheap() -> None:
    text = "def f(x):\n    return x + 1\n" * 5000
    assert scan_secrets(text, Path("big.py")) == []


def test_a_secret_deep_in_a_minified_file() -> None:
    rng = random.Random(SEED + 4)
    token = "ghp_" + _pick(rng, ALNUM, 36)
    rows: list[dict[str, object]] = [{"id": i, "label": "cat", "score": i / 7} for i in range(3000)]
    rows.insert(2000, {"deploy": {"github_token": token}})
    text = json.dumps(rows, separators=(",", ":"))
    (finding,) = scan_secrets(text, Path("data.json"))
    assert (finding.line, finding.column) == (1, text.index(token) + 1)
