"""Baselines: the file format, drift detection, and agreement with model-signing's digests."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import model_signing
import pytest

from custos.errors import DataError, UserError
from custos.integrity.baseline import (
    FORMAT,
    Baseline,
    Drift,
    default_baseline_path,
    default_name,
    diff_digests,
    drift,
    load,
    record,
)
from custos.integrity.digests import file_digests, relative_ignores

WHEN = dt.datetime(2025, 1, 31, 12, 0, tzinfo=dt.UTC)


def test_diff_digests_is_pure_and_sorted() -> None:
    recorded = {"b": "1", "a": "2", "gone": "3", "z": "4"}
    current = {"b": "1", "a": "X", "z": "Y", "new2": "5", "new1": "6"}
    assert diff_digests(recorded, current) == Drift(
        added=("new1", "new2"), removed=("gone",), changed=("a", "z")
    )
    assert diff_digests(recorded, dict(recorded)).clean
    assert recorded == {"b": "1", "a": "2", "gone": "3", "z": "4"}


def test_record_writes_the_documented_format(tmp_path: Path, model: Path) -> None:
    target = default_baseline_path(tmp_path, "fraud")
    assert target == tmp_path / ".custos" / "baselines" / "fraud.json"
    record(model, target, "fraud", tmp_path, now=WHEN)
    data = json.loads(target.read_text())
    assert data["format"] == FORMAT == "custos-baseline/1"
    assert data["name"] == "fraud"
    assert data["path"] == "fraud-model"
    assert data["algorithm"] == "sha256"
    assert data["created_at"] == "2025-01-31T12:00:00Z"
    assert list(data["files"]) == ["README.md", "config.json", "tokenizer/vocab.txt", "weights.bin"]
    weights = hashlib.sha256((model / "weights.bin").read_bytes()).hexdigest()
    assert data["files"]["weights.bin"] == weights
    assert load(target) == Baseline("fraud", "fraud-model", "sha256", data["files"], WHEN, ())


def test_drift_after_add_remove_change(tmp_path: Path, model: Path) -> None:
    target = default_baseline_path(tmp_path, "fraud")
    baseline = record(model, target, "fraud", tmp_path)
    assert drift(baseline, model, target).clean
    (model / "config.json").write_text('{"layers": 5}\n')
    (model / "README.md").unlink()
    (model / "tokenizer" / "extra.txt").write_text("new")
    assert drift(load(target), model, target) == Drift(
        added=("tokenizer/extra.txt",), removed=("README.md",), changed=("config.json",)
    )


def test_baseline_inside_the_model_does_not_drift_itself(model: Path) -> None:
    target = default_baseline_path(model, "self")
    baseline = record(model, target, "self", model)
    assert ".custos/baselines/self.json" in baseline.ignore
    assert ".custos/baselines/self.json" not in baseline.files
    assert drift(load(target), model, target).clean


def test_recorded_ignores_apply_on_check(tmp_path: Path, model: Path) -> None:
    target = default_baseline_path(tmp_path, "fraud")
    record(model, target, "fraud", tmp_path, ignore=["README.md"])
    (model / "README.md").write_text("edited")
    assert drift(load(target), model, target).clean
    (model / "weights.bin").write_bytes(b"x")
    assert drift(load(target), model, target).changed == ("weights.bin",)


def test_single_file_baseline(tmp_path: Path) -> None:
    weights = tmp_path / "model.onnx"
    weights.write_bytes(b"onnx")
    target = default_baseline_path(tmp_path, default_name(weights))
    assert target.name == "model.onnx.json"
    baseline = record(weights, target, "model.onnx", tmp_path)
    assert list(baseline.files) == ["model.onnx"]
    weights.write_bytes(b"ONNX")
    assert drift(load(target), weights, target).changed == ("model.onnx",)


def test_digests_match_model_signing_manifest(model: Path) -> None:
    manifest = model_signing.hashing.Config().hash(model)
    theirs = {rd.identifier: rd.digest.digest_hex for rd in manifest.resource_descriptors()}
    assert file_digests(model) == theirs
    for name, digest in theirs.items():
        assert hashlib.sha256((model / name).read_bytes()).hexdigest() == digest


def test_git_plumbing_is_left_out(model: Path) -> None:
    (model / ".git").mkdir()
    (model / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (model / ".gitattributes").write_text("*.bin filter=lfs\n")
    assert not any(name.startswith(".git") for name in file_digests(model))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"format": "other/1"}', "format is 'other/1'"),
        ('{"format": "custos-baseline/1", "algorithm": "md5"}', "unsupported algorithm"),
        (
            '{"format": "custos-baseline/1", "algorithm": "sha256", "files": {"a": "zz"}}',
            "64-digit hex",
        ),
        (
            '{"format": "custos-baseline/1", "algorithm": "sha256", "files": {},'
            ' "created_at": "yesterday"}',
            "ISO 8601",
        ),
    ],
)
def test_malformed_baselines_name_the_file(tmp_path: Path, content: str, message: str) -> None:
    target = tmp_path / "b.json"
    target.write_text(content)
    with pytest.raises(DataError, match=message) as err:
        load(target)
    assert str(target) in str(err.value)


def test_missing_baseline_and_bad_names(tmp_path: Path, model: Path) -> None:
    with pytest.raises(UserError, match="no baseline recorded yet"):
        load(tmp_path / "none.json")
    for bad in ("../up", "a/b", "", ".hidden"):
        with pytest.raises(UserError, match="--name"):
            default_baseline_path(tmp_path, bad)
    with pytest.raises(UserError, match="no such file"):
        record(tmp_path / "nope", tmp_path / "x.json", "x", tmp_path)


def test_relative_ignores(tmp_path: Path, model: Path) -> None:
    assert relative_ignores(model, ["README.md", model / "tokenizer", "README.md"]) == (
        "README.md",
        "tokenizer",
    )
    with pytest.raises(UserError, match="not inside the model"):
        relative_ignores(model, [tmp_path])
    with pytest.raises(UserError, match="inside the model"):
        relative_ignores(model, ["."])
