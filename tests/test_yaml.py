from __future__ import annotations

from pathlib import Path

import pytest

from custos._yaml import parse_yaml, read_yaml
from custos.errors import DataError


def test_line_of_points_at_the_value() -> None:
    doc = parse_yaml("a: 1\nitems:\n  - x: 1\n  - x: 2\n    y: 3\n", Path("f.yaml"))
    assert doc.data == {"a": 1, "items": [{"x": 1}, {"x": 2, "y": 3}]}
    assert doc.line_of(["items", 1, "y"]) == 5
    assert doc.line_of(["items", 0]) == 3
    # A missing key falls back to the nearest existing parent.
    assert doc.line_of(["items", 1, "nope"]) == 4


def test_duplicate_keys_are_rejected_with_line() -> None:
    with pytest.raises(DataError) as info:
        parse_yaml("a: 1\nb:\n  c: 1\n  c: 2\n", Path("dup.yaml"))
    assert str(info.value) == "dup.yaml:4: duplicate key 'c'"


def test_invalid_yaml_names_file_and_line() -> None:
    with pytest.raises(DataError) as info:
        parse_yaml("a: [1, 2\nb: 3\n", Path("bad.yaml"))
    assert str(info.value).startswith("bad.yaml:")
    assert "invalid YAML" in str(info.value)
    assert info.value.line is not None


def test_unsafe_tags_are_not_constructed() -> None:
    with pytest.raises(DataError, match="invalid YAML"):
        parse_yaml("x: !!python/object/apply:os.system ['true']\n", Path("evil.yaml"))


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        read_yaml(tmp_path / "absent.yaml")
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DataError, match="not UTF-8"):
        read_yaml(binary)
    with pytest.raises(DataError, match="directory"):
        read_yaml(tmp_path)
