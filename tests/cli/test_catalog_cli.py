"""`custos catalog ...` through the real entry point: output contracts and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.catalog.samples import MY_FRAMEWORK, MY_MAPPINGS, write
from tests.cli.run import custos


def test_frameworks_json_contract() -> None:
    result = custos("catalog", "frameworks", "--format", "json")
    assert result.code == 0, result.err
    rows = {row["id"]: row for row in result.json()}
    assert rows["iso27002"]["controls"] == 93
    for row in rows.values():
        assert {"id", "name", "version", "controls"} <= row.keys()
        assert isinstance(row["controls"], int)


def test_frameworks_table_for_people() -> None:
    result = custos("catalog", "frameworks")
    assert result.code == 0
    assert "iso27002" in result.out
    assert "93" in result.out


def test_show_control_json_and_yaml() -> None:
    result = custos("catalog", "show", "iso27002:2022:8.24", "--format", "json")
    assert result.code == 0, result.err
    data = result.json()
    assert data["id"] == "iso27002:2022:8.24"
    assert data["title"] == "Use of cryptography"
    assert data["parent"] == "iso27002:2022:8"
    yaml_out = custos("catalog", "show", "iso27002:2022:8.24", "--format", "yaml")
    assert yaml_out.code == 0
    assert "title: Use of cryptography" in yaml_out.out


def test_show_framework_lists_its_tree() -> None:
    result = custos("catalog", "show", "iso27002", "--format", "json")
    assert result.code == 0
    data = result.json()
    assert data["controls"] == 93
    assert len(data["tree"]) == 97  # 4 themes + 93 controls


def test_search_finds_by_words() -> None:
    result = custos("catalog", "search", "cryptography", "--format", "json")
    assert result.code == 0
    assert result.json()[0]["id"] == "iso27002:2022:8.24"
    none = custos("catalog", "search", "zzzz-no-such-word")
    assert none.code == 0
    assert "No control matches" in none.out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("catalog", "show", "iso27002:2022:9.99"), "unknown control id 'iso27002:2022:9.99'"),
        (("catalog", "map", "nope:1"), "unknown control id 'nope:1'"),
        (("catalog", "map", "iso27002:2022:8.24", "--to", "cobit"), "unknown framework 'cobit'"),
        (("catalog", "frameworks", "--format", "xml"), "'xml' is not one of"),
        (("catalog", "export", "--format", "pdf", "--framework", "iso27002", "--out", "x"), "pdf"),
        (("catalog", "export", "--framework", "nope", "--out", "x.json"), "unknown framework"),
        (
            (
                "catalog",
                "no-such-command",
            ),
            "No such command",
        ),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(args: tuple[str, ...], needle: str) -> None:
    result = custos(*args)
    assert result.code == 2
    assert needle in result.err
    assert "Traceback" not in result.err + result.out


def test_unknown_id_suggests_close_matches() -> None:
    result = custos("catalog", "show", "iso27002:2022:8.2x")
    assert result.code == 2
    assert "did you mean" in result.err


def test_broken_import_file_names_file_and_line(tmp_path: Path, custos_home: Path) -> None:
    broken = write(tmp_path, "broken.yaml", MY_FRAMEWORK.replace("kind: control", "kind: [x]", 1))
    result = custos("catalog", "import", str(broken))
    assert result.code == 2
    assert f"{broken}:19: controls[1].kind (acme:pol:ai-1)" in result.err
    assert "Traceback" not in result.err
    assert not (custos_home / "catalog" / "frameworks" / "broken.yaml").exists()
    assert not list((custos_home / "catalog").rglob("*.yaml"))


def test_import_framework_then_use_it(tmp_path: Path, custos_home: Path) -> None:
    source = write(tmp_path, "acme.yaml", MY_FRAMEWORK)
    result = custos("catalog", "import", str(source))
    assert result.code == 0, result.err
    assert "Imported framework acme-policies" in result.out
    installed = custos_home / "catalog" / "frameworks" / "acme-policies.yaml"
    assert installed.read_text() == MY_FRAMEWORK
    rows = {r["id"]: r for r in custos("catalog", "frameworks", "--format", "json").json()}
    assert rows["acme-policies"]["controls"] == 2
    assert rows["acme-policies"]["origin"] == "user"
    shown = custos("catalog", "show", "acme:pol:ai-2", "--format", "json").json()
    assert shown["title"] == "Signed models"


def test_import_is_idempotent(tmp_path: Path) -> None:
    source = write(tmp_path, "acme.yaml", MY_FRAMEWORK)
    assert custos("catalog", "import", str(source)).code == 0
    again = custos("catalog", "import", str(source))
    assert again.code == 0, again.err
    rows = [r for r in custos("catalog", "frameworks", "--format", "json").json()]
    assert [r["id"] for r in rows].count("acme-policies") == 1


def test_import_missing_file() -> None:
    result = custos("catalog", "import", "/nonexistent/x.yaml")
    assert result.code == 2
    assert result.err.strip().endswith("/nonexistent/x.yaml: file not found")


def test_mappings_import_needs_known_ends_to_matter(tmp_path: Path) -> None:
    mappings = write(tmp_path, "m.yaml", MY_MAPPINGS)
    lonely = custos("catalog", "import", str(mappings))
    assert lonely.code == 0
    assert "acme:pol:ai-2 is not in the catalog" in lonely.err  # warned, not silently dropped
    custos("catalog", "import", str(write(tmp_path, "acme.yaml", MY_FRAMEWORK)))
    shown = custos("catalog", "map", "acme:pol:ai-2", "--format", "json")
    assert shown.code == 0
    assert shown.err == ""


def test_export_oscal_writes_a_readable_catalog(tmp_path: Path) -> None:
    out = tmp_path / "iso.json"
    result = custos(
        "catalog", "export", "--format", "oscal", "--framework", "iso27002", "--out", str(out)
    )
    assert result.code == 0, result.err
    assert out.exists()
    assert "re-reads cleanly" in result.out


def test_version_and_help_examples() -> None:
    assert custos("--version").out.startswith("custos ")
    for command in ("frameworks", "show", "search", "map", "export", "import", "import-atlas"):
        result = custos("catalog", command, "--help")
        assert result.code == 0
        assert "Example:" in result.out, command
