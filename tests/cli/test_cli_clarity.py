"""Issue 20 section 5: the CLI says what is wrong in one line, with exit 2, and says where a
server listens; tables are not cut when stdout is not a terminal."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.run import custos


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


def test_serve_port_in_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = custos("serve", "--port", str(port), cwd=str(tmp_path))
    assert result.code == 2, result
    line = _one_error_line(result.err)
    assert f"port {port}" in line
    assert "in use" in line
    assert "Errno" not in result.err
    assert not (tmp_path / ".custos").exists()  # nothing written


def test_serve_says_where_it_listens_and_how_to_bootstrap(tmp_path: Path) -> None:
    assert custos("db", "upgrade", cwd=str(tmp_path)).code == 0
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "custos", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert f"listening on http://127.0.0.1:{port}" in lines[0]
    assert str(tmp_path / ".custos" / "custos.db") in lines[1]
    assert "custos admin create-user" in lines[2]
    assert "--role admin" in lines[2]


def test_serve_never_shows_a_database_password() -> None:
    from custos.store.store import Store

    shown = Store.open("postgresql+psycopg://u:s3cret@db.example/custos", Path(".")).describe()
    assert "s3cret" not in shown
    assert "db.example" in shown


@pytest.mark.parametrize(
    ("args", "option", "valid"),
    [
        (["report", "--format", "nosuch"], "--format", "html, md, json"),
        (["scan", "--format", "nosuch"], "--format", "table, json"),
        (["scan-model", "x", "--format", "nosuch"], "--format", "table, json, sarif"),  # lean
        (["--debug", "scan-model", "x", "--format", "nosuch"], "--format", "table, json, sarif"),
        (["scan-data", "x", "--format", "nosuch"], "--format", "table, json, sarif"),  # lean
    ],
)
def test_a_wrong_choice_lists_the_valid_ones(
    tmp_path: Path, args: list[str], option: str, valid: str
) -> None:
    result = custos(*args, cwd=str(tmp_path))
    assert result.code == 2, result
    line = _one_error_line(result.err)
    assert f"invalid value for {option}: 'nosuch' is not one of the choices; valid: {valid}" in line
    assert "Usage" not in result.err
    assert "usage:" not in result.err
    assert "╭" not in result.err
    assert result.out == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--nosuch"],
        ["admin", "create-user"],
        ["serve", "--port", "99999"],
        ["nosuchcommand"],
        ["scan-data"],  # lean: a missing argument
        ["encrypt", "--nosuch"],  # lean
    ],
)
def test_every_usage_error_is_one_line(tmp_path: Path, args: list[str]) -> None:
    result = custos(*args, cwd=str(tmp_path))
    assert result.code == 2, result
    _one_error_line(result.err)
    assert "╭" not in result.err


def test_help_is_unchanged() -> None:
    result = custos("report", "--help")
    assert result.code == 0
    assert "Usage: custos report" in result.out
    assert "--format" in result.out


@pytest.mark.parametrize("command", ["scan", "assess", "report"])
def test_no_manifest_says_to_run_init(tmp_path: Path, command: str) -> None:
    result = custos(command, cwd=str(tmp_path))
    assert result.code == 2, result
    line = _one_error_line(result.err)
    assert "custos.yaml: file not found" in line
    assert "run `custos init` to create one" in line
    (tmp_path / "sub").mkdir()
    elsewhere = custos(command, "sub", cwd=str(tmp_path))
    assert "`custos init sub`" in _one_error_line(elsewhere.err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]  # nothing written


def _piped(*args: str, columns: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = columns
    proc = subprocess.run(
        [sys.executable, "-m", "custos", *args],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )  # fmt: skip
    return proc.stdout


def test_tables_are_not_cut_when_stdout_is_not_a_terminal() -> None:
    args = ("catalog", "map", "iso27002:2022:8.24")
    assert "…" in _piped(*args, columns="80")  # what a terminal of 80 columns gets
    wide = _piped(*args, columns=None)
    assert "…" not in wide
    assert "custos:ai:encryption-at-rest" in wide


def test_json_output_is_unchanged_when_piped() -> None:
    import json

    data = json.loads(_piped("catalog", "frameworks", "--format", "json", columns=None))
    assert data
