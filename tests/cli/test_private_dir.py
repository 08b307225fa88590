"""Safe by default (issue 20, section 2): `init` and the first scan write `.custos/.gitignore`
listing the private ledger key and the database (a user's own file is kept); a ledger key that
git tracks is warned about loudly; commands that only read the ledger write nothing where
there is no database (one line, exit 2, no `.custos/`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from custos import private_dir
from tests.cli.run import custos

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud-detection"


def test_init_and_scan_write_the_gitignore(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "train.py").write_text("model.fit(X, y)\n")
    assert custos("init", str(repo)).code == 0
    ignore = (repo / ".custos" / ".gitignore").read_text()
    assert "\nledger.key\n" in ignore
    assert "\ncustos.db\n" in ignore
    project = tmp_path / "example"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".custos", "out"))
    assert custos("scan", str(project)).code in (0, 1)
    written = project / ".custos" / ".gitignore"
    assert written.read_text() == private_dir.GITIGNORE
    written.write_text("# my own\n")
    assert custos("scan", str(project)).code in (0, 1)
    assert written.read_text() == "# my own\n"  # never overwritten


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_tracked_ledger_key_is_warned_about(tmp_path: Path) -> None:
    project = tmp_path / "example"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".custos", "out"))
    assert custos("scan", str(project)).code in (0, 1)
    clean = custos("assess", str(project))
    assert private_dir.KEY not in clean.err
    git = ["git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-f", private_dir.KEY], check=True)
    warned = custos("assess", str(project))
    assert f"warning: {private_dir.KEY} is tracked by git" in warned.err
    assert "git rm --cached" in warned.err


def test_reading_the_ledger_where_there_is_none_writes_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in (("verify",), ("status",), ("export", "--out", str(tmp_path / "b")),
                 ("checkpoint", "--out", str(tmp_path / "c.json"))):  # fmt: skip
        done = custos("ledger", *args[:1], str(empty), *args[1:],
                      env={"CUSTOS_DATABASE_URL": ""})  # fmt: skip
        assert done.code == 2, (args, done.err)
        assert "no Custos database here" in done.err
        assert len(done.err.strip().splitlines()) == 1
    assert list(empty.iterdir()) == []


def test_report_names_the_folders_it_creates_and_refuses_cleanly(tmp_path: Path) -> None:
    project = tmp_path / "example"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".custos", "out"))
    target = tmp_path / "reports" / "2026" / "r.md"
    done = custos("report", str(project), "--format", "md", "--out", str(target))
    assert done.code == 0, done.err
    assert target.is_file()
    assert f"created 2 folder(s): {tmp_path / 'reports'}, {tmp_path / 'reports' / '2026'}" in (
        done.err.replace("\n", ""))  # fmt: skip
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    refused = custos("report", str(project), "--format", "md", "--out",
                     str(blocker / "sub" / "r.md"))  # fmt: skip
    assert refused.code == 2
    assert len(refused.err.strip().splitlines()) == 1
    assert "cannot create" in refused.err
    assert blocker.read_text() == "x"
