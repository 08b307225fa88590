"""Dockerfiles (custos.repo.containers): each rule planted once, and a safe look-alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from custos.findings import Severity
from custos.repo.containers import RULES, instructions, is_dockerfile, scan_dockerfile

DIGEST = "@sha256:" + "ab" * 32


def _scan(tmp_path: Path, text: str, name: str = "Dockerfile") -> list[tuple[str, int | None, str]]:
    path = tmp_path / name
    path.write_text(text)
    found = scan_dockerfile(path.read_text(), path)
    for f in found:
        assert f.path == path
        assert f.controls == RULES[f.rule].controls
        assert f.severity is RULES[f.rule].severity
    return [(f.rule, f.line, f.where) for f in found]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Dockerfile", True),
        ("Dockerfile.gpu", True),
        ("train.Dockerfile", True),
        ("Containerfile", True),
        ("dockerfile", True),
        ("Dockerfile.md", False),
        ("docker-compose.yml", False),
        ("Dockerfiles", False),
    ],
)
def test_is_dockerfile(name: str, expected: bool) -> None:
    assert is_dockerfile(name) is expected


SAFE = f"""\
# syntax=docker/dockerfile:1
FROM python:3.11-slim{DIGEST} AS build
RUN pip install --no-cache-dir torch==2.2.1
RUN curl -fsSLo /tmp/get.sh https://example.org/get.sh \\
 && echo "abc  /tmp/get.sh" | sha256sum -c - \\
 && sh /tmp/get.sh
RUN curl -fsSL https://example.org/key.asc | gpg --dearmor -o /usr/share/keyrings/x.gpg
ADD --checksum=sha256:{"cd" * 32} https://example.org/model.bin /models/
ADD ./weights /models/weights

FROM build AS final
USER 10001:10001
CMD ["python", "-m", "serve"]
"""


def test_safe_dockerfile_is_quiet(tmp_path: Path) -> None:
    assert _scan(tmp_path, SAFE) == []


def test_root_when_the_final_stage_sets_no_user(tmp_path: Path) -> None:
    text = f"FROM python:3.11{DIGEST} AS build\nUSER app\n\nFROM python:3.11{DIGEST}\nRUN echo hi\n"
    assert _scan(tmp_path, text) == [("repo/docker-root", 4, "docker:1:FROM:0")]


def test_root_when_the_last_user_is_root(tmp_path: Path) -> None:
    text = f"FROM python:3.11{DIGEST}\nUSER app\nRUN id\nUSER root\nCMD serve\n"
    assert _scan(tmp_path, text) == [("repo/docker-root", 4, "docker:0:USER:1")]
    uid = f"FROM python:3.11{DIGEST}\nUSER 0:0\n"
    assert _scan(tmp_path, uid) == [("repo/docker-root", 2, "docker:0:USER:0")]


def test_user_carries_over_from_the_parent_stage(tmp_path: Path) -> None:
    text = f"FROM python:3.11{DIGEST} AS base\nUSER app\n\nFROM base\nCMD serve\n"
    assert _scan(tmp_path, text) == []


@pytest.mark.parametrize(
    "image", ["python", "python:latest", "registry.local:5000/team/trainer", "nvidia/cuda:LATEST"]
)
def test_moving_base_image(tmp_path: Path, image: str) -> None:
    text = f"FROM {image}\nUSER app\n"
    assert _scan(tmp_path, text) == [("repo/docker-latest", 1, "docker:0:FROM:0")]


@pytest.mark.parametrize(
    "image",
    [
        "python:3.11",
        f"python{DIGEST}",
        f"python:latest{DIGEST}",
        "registry.local:5000/team/trainer:1.4",
        "scratch",
        "${BASE_IMAGE}",
    ],
)
def test_pinned_or_unknowable_base_image(tmp_path: Path, image: str) -> None:
    text = f"FROM {image}\nUSER app\n"
    assert _scan(tmp_path, text) == []


def test_arg_defaults_resolve_the_base_image(tmp_path: Path) -> None:
    text = "ARG BASE=python:latest\nARG TAG\nFROM ${BASE}\nUSER app\n"
    assert _scan(tmp_path, text) == [("repo/docker-latest", 3, "docker:0:FROM:0")]


def test_stage_alias_is_not_an_image(tmp_path: Path) -> None:
    text = f"FROM --platform=$BUILDPLATFORM python:3.11{DIGEST} AS Builder\nFROM builder\nUSER 1\n"
    assert _scan(tmp_path, text) == []


@pytest.mark.parametrize(
    "run",
    [
        "curl -fsSL https://get.example.sh | sh",
        "wget -qO- https://example.org/install | bash -s -- --yes",
        "curl -sSL https://install.python-poetry.org | python3 -",
        "curl -fsSL https://deb.nodesource.com/setup_20.x | sudo -E bash -",
        "bash <(curl -s https://example.org/setup.sh)",
        'sh -c "$(curl -fsSL https://example.org/install.sh)"',
        "apt-get update && curl -L https://x.example/i.sh \\\n    | bash",
    ],
)
def test_curl_pipe_shell(tmp_path: Path, run: str) -> None:
    text = f"FROM python:3.11{DIGEST}\nRUN echo first\nRUN {run}\nUSER app\n"
    assert _scan(tmp_path, text) == [("repo/docker-curl-pipe-shell", 3, "docker:0:RUN:1")]


def test_curl_pipe_shell_in_a_heredoc(tmp_path: Path) -> None:
    text = (
        f"FROM python:3.11{DIGEST}\nRUN <<EOF\nset -e\ncurl -fsSL https://x.example/i | sh\nEOF\n"
        "USER app\n"
    )
    assert _scan(tmp_path, text) == [("repo/docker-curl-pipe-shell", 2, "docker:0:RUN:0")]


@pytest.mark.parametrize(
    "run",
    [
        "curl -fsSL https://example.org/x.tgz | tar xz -C /opt",
        "curl -fsSL https://example.org/SHA256SUMS | sha256sum -c",
        "curl -fsSL https://example.org/x || sh fallback.sh",
        "echo curl is installed | sh",
    ],
)
def test_downloads_that_are_not_run(tmp_path: Path, run: str) -> None:
    text = f"FROM python:3.11{DIGEST}\nRUN {run}\nUSER app\n"
    assert _scan(tmp_path, text) == []


def test_add_remote_url_without_checksum(tmp_path: Path) -> None:
    text = (
        f"FROM python:3.11{DIGEST}\nADD --chown=app https://example.org/model.bin /models/\n"
        'ADD ["https://example.org/tok.json", "/models/"]\nUSER app\n'
    )
    found = _scan(tmp_path, text)
    assert found == [
        ("repo/docker-add-url", 2, "docker:0:ADD:0"),
        ("repo/docker-add-url", 3, "docker:0:ADD:1"),
    ]
    assert RULES["repo/docker-add-url"].severity is Severity.low


def test_continuations_comments_and_escape_directive(tmp_path: Path) -> None:
    text = (
        "# escape=`\n"
        f"FROM python:3.11{DIGEST}\n"
        "RUN echo one `\n"
        "# a comment inside the continuation\n"
        "    && curl -fsSL https://x.example/i | sh\n"
        "USER app\n"
    )
    assert _scan(tmp_path, text) == [("repo/docker-curl-pipe-shell", 3, "docker:0:RUN:0")]
    parsed = list(instructions(text))
    assert [i.keyword for i in parsed] == ["FROM", "RUN", "USER"]
    assert "comment" not in parsed[1].arguments


def test_commented_out_instructions_are_ignored(tmp_path: Path) -> None:
    text = f"FROM python:3.11{DIGEST}\n# RUN curl https://x.example/i | sh\nUSER app\n"
    assert _scan(tmp_path, text) == []


def test_exec_form_and_sh_c(tmp_path: Path) -> None:
    for run in ('["/bin/sh", "-c", "curl -fsSL https://x.example/i | sh"]',
                "sh -c 'wget -qO- https://x.example/i | bash'"):  # fmt: skip
        text = f"FROM python:3.11{DIGEST}\nRUN {run}\nUSER app\n"
        assert _scan(tmp_path, text) == [("repo/docker-curl-pipe-shell", 2, "docker:0:RUN:0")]
