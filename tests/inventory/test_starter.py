"""The starter manifest `custos init` writes: it loads as-is, keeps its TODOs, never overwrites."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from custos.catalog.catalog import Catalog
from custos.cli.init import init_cmd
from custos.errors import UserError
from custos.inventory.discover import Discovered, discover
from custos.inventory.load import load_manifest
from custos.inventory.locations import expand
from custos.inventory.starter import SYSTEM_ID, plan_assets, starter_manifest
from tests.inventory import artifacts as a

TODAY = dt.date(2026, 11, 28)


def write_starter(root: Path, organisation: str | None = None) -> str:
    text = starter_manifest(root, discover(root), organisation, today=TODAY)
    (root / "custos.yaml").write_text(text, encoding="utf-8")
    return text


def test_starter_loads_as_is_and_declares_every_asset(tmp_path: Path, shipped: Catalog) -> None:
    a.build_repo(tmp_path)
    text = write_starter(tmp_path)
    manifest = load_manifest(tmp_path, shipped).manifest
    (system,) = manifest.systems
    assert system.id == SYSTEM_ID
    assets = {asset.location: (asset.id, asset.kind) for asset in system.assets}
    assert assets == {
        "data/transactions.csv": ("transactions", "dataset"),
        "logs/access.log": ("access", "log_source"),
        "models/classifier.pkl": ("classifier", "model"),
        "models/encoder.safetensors": ("encoder", "model"),
        "models/llm.gguf": ("llm", "model"),
        "models/resnet.pt": ("resnet", "model"),
        "models/scaler.npy": ("scaler", "model"),
        "serving/app.py": ("app", "endpoint"),
        "train.py": ("train", "pipeline"),
    }
    # nothing is claimed on the user's behalf: owners and classifications stay empty
    assert all(asset.owner is None and asset.classification is None for asset in system.assets)
    assert system.owner is None
    # notebooks and Dockerfiles are suggestions in comments, not declared assets
    assert '#   location: "notebooks/explore.ipynb"' in text
    assert '#   location: "Dockerfile"' in text
    assert (manifest.risks, manifest.attestations, manifest.exclusions) == ([], [], [])


def test_every_decision_is_marked_todo(tmp_path: Path) -> None:
    a.build_repo(tmp_path)
    text = write_starter(tmp_path)
    for key in (
        "owner",
        "classification",
        "purpose",
        "scope",
        "lifecycle",
        "role",
        "prohibited_practices",
        "annex_i_product",
        "annex_iii",
        "annex_iii_exception",
        "transparency",
        "gpai",
    ):
        lines = [line for line in text.splitlines() if line.strip().startswith(f"{key}:")]
        assert lines, key
        assert all("# TODO:" in line for line in lines), key
    assert text.count("classification: null  # TODO:") == 9


def test_organisation_name_is_used(tmp_path: Path, shipped: Catalog) -> None:
    a.write(tmp_path / "m.pkl", a.pickled(4))
    text = write_starter(tmp_path, organisation='Acme "Cards": Ltd')
    assert load_manifest(tmp_path, shipped).manifest.organisation.name == 'Acme "Cards": Ltd'
    assert "TODO: your organisation" not in text


def test_ids_are_unique_and_valid_slugs() -> None:
    found = [
        Discovered("a/model.pkl", "model", "pickle", "r."),
        Discovered("b/model.pkl", "model", "pickle", "r."),
        Discovered("c/a/model.pkl", "model", "pickle", "r."),
        Discovered("a/model.pt", "model", "pytorch-zip", "r."),
        Discovered("weird/__My Model!!.bin", "model", "pickle", "r."),
        Discovered("x/.hidden", "dataset", "csv", "r."),
        Discovered(".", "model", "savedmodel", "r."),
        Discovered("Dockerfile", "dockerfile", "dockerfile", "r."),
    ]
    ids = [p.id for p in plan_assets(found)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", i) and len(i) <= 100 for i in ids)
    by_path = {p.found.path: p.id for p in plan_assets(found)}
    assert by_path == {
        ".": "model",  # a SavedModel at the root: named after its kind
        "Dockerfile": "dockerfile",
        "a/model.pkl": "a-model",  # on a clash, the folder name comes first
        "a/model.pt": "model-2",  # then a number
        "b/model.pkl": "b-model",
        "c/a/model.pkl": "model-3",
        "weird/__My Model!!.bin": "my-model",
        "x/.hidden": "hidden",
    }


def test_glob_characters_in_paths_are_escaped(tmp_path: Path, shipped: Catalog) -> None:
    a.write(tmp_path / "models" / "model[v2].pkl", a.pickled(4))
    write_starter(tmp_path)
    (asset,) = load_manifest(tmp_path, shipped).manifest.systems[0].assets
    assert expand(tmp_path, asset.location) == [tmp_path / "models" / "model[v2].pkl"]


def test_nothing_found_still_loads(tmp_path: Path, shipped: Catalog) -> None:
    a.write(tmp_path / "README.md", "# nothing here\n")
    text = write_starter(tmp_path)
    assert "assets: []  # TODO:" in text
    assert load_manifest(tmp_path, shipped).manifest.systems[0].assets == []


def test_commented_examples_are_valid_once_uncommented(tmp_path: Path, shipped: Catalog) -> None:
    a.build_repo(tmp_path)
    text = write_starter(tmp_path)
    for section in ("risks", "attestations", "exclusions"):
        text = text.replace(f"{section}: []\n", f"{section}:\n")
    text = re.sub(r"^#(  [ -])", r"\1", text, flags=re.MULTILINE)  # example entries only
    text = text.replace("      # - id:", "      - id:").replace("      #   ", "        ")
    (tmp_path / "custos.yaml").write_text(text, encoding="utf-8")
    manifest = load_manifest(tmp_path, shipped).manifest
    assert [r.id for r in manifest.risks] == ["tampered-model"]
    assert manifest.risks[0].assets == ["classifier"]
    assert manifest.risks[0].review_date == TODAY + dt.timedelta(days=90)
    assert [x.id for x in manifest.attestations] == ["acceptable-use-policy"]
    assert [x.control for x in manifest.exclusions] == ["iso27002:2022:7.4"]
    kinds = {x.location: x.kind for x in manifest.systems[0].assets}
    assert kinds["notebooks/explore.ipynb"] == "pipeline"
    assert kinds["Dockerfile"] == "pipeline"


def test_same_input_same_text(tmp_path: Path) -> None:
    a.build_repo(tmp_path)
    found = discover(tmp_path)
    assert starter_manifest(tmp_path, found, None, TODAY) == starter_manifest(
        tmp_path, list(reversed(found)), None, TODAY
    )


# -- custos init --------------------------------------------------------------------------------


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("init")(init_cmd)
    app.command("other")(lambda: None)  # a second command keeps `init` a named subcommand
    return app


def test_init_writes_the_manifest_and_summarises(tmp_path: Path, shipped: Catalog) -> None:
    a.build_repo(tmp_path)
    result = CliRunner().invoke(
        cli(), ["init", str(tmp_path), "--organisation", "Acme"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    manifest = load_manifest(tmp_path, shipped).manifest
    assert manifest.organisation.name == "Acme"
    assert len(manifest.systems[0].assets) == 9
    for path in ("models/resnet.pt", "serving/app.py", "notebooks/explore.ipynb"):
        assert path in result.output
    assert "pytorch-zip" in result.output
    assert "custos scan" in result.output
    assert "TODO" in result.output


def test_init_never_overwrites(tmp_path: Path) -> None:
    a.build_repo(tmp_path)
    existing = tmp_path / "custos.yaml"
    existing.write_text("# my own work\n", encoding="utf-8")
    result = CliRunner().invoke(cli(), ["init", str(tmp_path)])
    assert isinstance(result.exception, UserError)
    assert str(result.exception) == (
        f"{existing} already exists; Custos never overwrites it. Move it away or edit it."
    )
    assert existing.read_text(encoding="utf-8") == "# my own work\n"


def test_init_rejects_a_missing_or_non_directory(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        init_cmd(tmp_path / "nope", None)
    a.write(tmp_path / "file.txt", "x")
    with pytest.raises(UserError, match="not a directory"):
        init_cmd(tmp_path / "file.txt", None)
    assert not (tmp_path / "custos.yaml").exists()


def test_init_docstring_has_an_example() -> None:
    assert "Example: custos init ." in (init_cmd.__doc__ or "")
