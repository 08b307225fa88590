"""Manifests and lockfiles (custos.repo.deps): samples in their real formats, written by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from custos.findings import Severity
from custos.repo.deps import (
    RULES,
    declared,
    dependency_findings,
    included_files,
    is_manifest,
    parse_dependencies,
)
from custos.repo.model import Dependency, Unreadable
from custos.repo.scan import scan

SHA = "0123456789abcdef0123456789abcdef01234567"
H1 = "sha256:" + "a" * 64
H2 = "sha256:" + "b" * 64
# Real artifact digests, kept out of the samples' lines to keep them short.
DIGESTS = {
    "@HASH0@": "sha256:0569859f95fc761b18b45ef421b1290a0f65f147e92a1e5eb3e635f9a5e4e66f",
    "@HASH1@": "sha256:58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f",
    "@HASH2@": "sha256:942c5a758f98d790eaed1a29cb6eefc7ffb0d1cf7af05c3d2791656dbd6ad1e1",
    "@HASH3@": "sha256:dc383c07b76109f368f6106eee2b593b04a011ea4d55f652c6ca24a754d1cdd1",
}


def _digests(text: str) -> str:
    text = text.replace("@PYPI@", "https://files.pythonhosted.org/packages")
    for slot, digest in DIGESTS.items():
        text = text.replace(slot, digest)
    return text


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _by_name(deps: list[Dependency]) -> dict[str, Dependency]:
    return {d.name: d for d in deps}


def _parse(path: Path) -> list[Dependency]:
    return parse_dependencies(path.read_text(), path)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("requirements.txt", True),
        ("requirements-dev.txt", True),
        ("dev-requirements.txt", True),
        ("pyproject.toml", True),
        ("poetry.lock", True),
        ("uv.lock", True),
        ("Pipfile.lock", True),
        ("Pipfile", True),
        ("environment.yml", True),
        ("environment.yaml", True),
        ("requirements.in", False),
        ("setup.py", False),
        ("notes.txt", False),
        ("package-lock.json", False),
        ("pipfile", False),
    ],
)
def test_is_manifest(name: str, expected: bool) -> None:
    assert is_manifest(name) is expected


REQUIREMENTS = f"""\
# training stack
--index-url https://pypi.org/simple
-r base.txt
-c constraints.txt
torch==2.2.1 \\
    --hash={H1} \\
    --hash={H2}
numpy>=1.24  # a range
Requests[socks,security] == 2.31.0 ; python_version >= "3.8"
scikit_learn===1.4.0
transformers~=4.38
pandas==2.*
-e git+https://github.com/org/peft.git@{SHA}#egg=peft
-e git+https://github.com/org/trl.git@main#egg=trl
accelerate @ git+https://deploy:s3cr3t-t0ken@github.com/hf/accelerate@{SHA}
datasets @ https://files.example.org/datasets-2.18.0-py3-none-any.whl
-e .
./vendor/localpkg
"""


def test_requirements_txt(tmp_path: Path) -> None:
    path = _write(tmp_path, "requirements.txt", REQUIREMENTS)
    deps = _by_name(_parse(path))
    assert set(deps) == {"torch", "numpy", "requests", "scikit-learn", "transformers", "pandas",
                         "peft", "trl", "accelerate", "datasets"}  # fmt: skip
    torch = deps["torch"]
    assert (torch.pinned, torch.version, torch.hashed, torch.line, torch.spec) == (
        True, "2.2.1", True, 5, "==2.2.1"
    )  # fmt: skip
    assert (deps["numpy"].pinned, deps["numpy"].spec, deps["numpy"].line) == (False, ">=1.24", 8)
    requests = deps["requests"]
    assert (requests.pinned, requests.version, requests.hashed) == (True, "2.31.0", False)
    assert requests.spec == "== 2.31.0"
    assert (deps["scikit-learn"].pinned, deps["scikit-learn"].version) == (True, "1.4.0")
    assert not deps["transformers"].pinned
    assert not deps["pandas"].pinned  # a wildcard is a range
    assert deps["peft"].pinned
    assert deps["peft"].spec.startswith("-e git+")
    assert not deps["trl"].pinned
    accelerate = deps["accelerate"]
    assert accelerate.pinned
    assert "s3cr3t" not in accelerate.spec
    assert not deps["datasets"].pinned  # a URL is not a version
    assert all(d.direct and d.ecosystem == "PyPI" for d in deps.values())
    assert included_files(path.read_text(), path) == [tmp_path / "base.txt",
                                                      tmp_path / "constraints.txt"]  # fmt: skip


def test_requirements_findings(tmp_path: Path) -> None:
    path = _write(tmp_path, "requirements.txt", REQUIREMENTS)
    found = dependency_findings(_parse(path), lockfiles_present=set())
    unpinned = {f.where for f in found if f.rule == "repo/unpinned-dependency"}
    assert unpinned == {"dep:numpy", "dep:transformers", "dep:pandas", "dep:trl", "dep:datasets"}
    (unhashed,) = [f for f in found if f.rule == "repo/unhashed-requirements"]
    assert (unhashed.severity, unhashed.line, unhashed.where) == (
        Severity.low, 9, "dep:requirements.txt"
    )  # fmt: skip
    numpy = next(f for f in found if f.where == "dep:numpy")
    assert (numpy.severity, numpy.line, numpy.path) == (Severity.medium, 8, path)
    assert numpy.controls == RULES["repo/unpinned-dependency"].controls


def test_fully_hashed_pins_are_quiet(tmp_path: Path) -> None:
    text = f"torch==2.2.1 --hash={H1}\nnumpy==1.26.4 \\\n  --hash={H2}\n"
    path = _write(tmp_path, "requirements.txt", text)
    deps = _parse(path)
    assert all(d.pinned and d.hashed for d in deps)
    assert len(deps) == 2
    assert dependency_findings(deps, lockfiles_present=set()) == []


PYPROJECT = """\
[build-system]
requires = ["setuptools>=69"]

[project]
name = "demo"
dependencies = [
  "requests>=2.31",
  "numpy==1.26.4",
  'rich ; python_version >= "3.11"',
]

[project.optional-dependencies]
gpu = ["torch>=2.2"]

[dependency-groups]
dev = ["pytest>=8", {include-group = "lint"}]
lint = ["ruff==0.4.0"]

[tool.poetry.dependencies]
python = "^3.11"
Flask = "^3.0"
pendulum = "3.0.0"
trl = { git = "https://github.com/hf/trl", rev = "0123456789abcdef0123456789abcdef01234567" }
peft = { git = "https://github.com/huggingface/peft.git", branch = "main" }
mylib = { path = "../mylib", develop = true }

[tool.poetry.group.test.dependencies]
hypothesis = { version = "6.98.0" }
"""


def test_pyproject(tmp_path: Path) -> None:
    path = _write(tmp_path, "pyproject.toml", PYPROJECT)
    deps = _by_name(_parse(path))
    assert set(deps) == {"requests", "numpy", "rich", "torch", "pytest", "ruff", "flask",
                         "pendulum", "trl", "peft", "hypothesis"}  # fmt: skip
    assert (deps["requests"].line, deps["requests"].spec, deps["requests"].pinned) == (
        7, ">=2.31", False
    )  # fmt: skip
    assert (deps["numpy"].pinned, deps["numpy"].version, deps["numpy"].line) == (True, "1.26.4", 8)
    assert (deps["rich"].line, deps["rich"].spec) == (9, "")
    assert deps["torch"].line == 13
    assert (deps["ruff"].pinned, deps["pytest"].pinned) == (True, False)
    assert (deps["flask"].spec, deps["flask"].pinned, deps["flask"].line) == ("^3.0", False, 21)
    assert (deps["pendulum"].pinned, deps["pendulum"].version) == (True, "3.0.0")
    assert deps["trl"].pinned
    assert not deps["peft"].pinned
    assert (deps["hypothesis"].pinned, deps["hypothesis"].line) == (True, 28)


def test_pyproject_ranges_are_fine_beside_a_lockfile(tmp_path: Path) -> None:
    path = _write(tmp_path, "pyproject.toml", PYPROJECT)
    deps = _parse(path)
    flagged = {f.where for f in dependency_findings(deps, lockfiles_present=set())}
    assert {"dep:requests", "dep:flask", "dep:peft", "dep:torch"} <= flagged
    assert "dep:numpy" not in flagged
    for lock in ("uv.lock", "poetry.lock", "Pipfile.lock"):
        present = {str(tmp_path / lock)}
        assert dependency_findings(deps, lockfiles_present=present) == []
    # a lockfile in another folder does not cover this one
    elsewhere = {str(tmp_path / "other" / "uv.lock")}
    assert dependency_findings(deps, lockfiles_present=elsewhere)
    # file names only (as a walk may collect them): a lock nobody located covers every folder
    assert dependency_findings(deps, lockfiles_present={"pdm.lock", "pyproject.toml"}) == []
    assert dependency_findings(deps, lockfiles_present={"pyproject.toml"})


def test_a_parsed_lockfile_covers_its_own_folder_only(tmp_path: Path) -> None:
    lock = _parse(_write(tmp_path, "sub/uv.lock", _digests(UV_LOCK)))
    root = _parse(_write(tmp_path, "pyproject.toml", PYPROJECT))
    beside = _parse(_write(tmp_path, "sub/pyproject.toml", PYPROJECT))
    names = {"uv.lock", "pyproject.toml"}
    flagged = dependency_findings(lock + root + beside, lockfiles_present=names)
    assert flagged
    assert {f.path for f in flagged} == {tmp_path / "pyproject.toml"}


def test_malformed_toml_names_the_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "pyproject.toml", '[project]\nname = "demo"\ndependencies = [\n  "a",,\n]\n'
    )
    with pytest.raises(Unreadable) as raised:
        _parse(path)
    assert raised.value.line == 4
    assert "TOML" in raised.value.message


POETRY_LOCK = """\
# This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.

[[package]]
name = "certifi"
version = "2024.2.2"
description = "Python package for providing Mozilla's CA Bundle."
optional = false
python-versions = ">=3.6"
files = [
    {file = "certifi-2024.2.2-py3-none-any.whl", hash = "@HASH3@"},
    {file = "certifi-2024.2.2.tar.gz", hash = "@HASH0@"},
]

[[package]]
name = "requests"
version = "2.31.0"
description = "Python HTTP for Humans."
optional = false
python-versions = ">=3.7"
files = [
    {file = "requests-2.31.0-py3-none-any.whl", hash = "@HASH1@"},
]

[package.dependencies]
certifi = ">=2017.4.17"

[package.extras]
socks = ["PySocks (>=1.5.6,!=1.5.7)"]

[[package]]
name = "trl"
version = "0.8.1"
description = ""
optional = false
python-versions = "*"
files = []

[package.source]
type = "git"
url = "https://github.com/huggingface/trl.git"
reference = "HEAD"
resolved_reference = "0123456789abcdef0123456789abcdef01234567"

[metadata]
lock-version = "2.0"
python-versions = "^3.11"
content-hash = "5b1a6ef0d7c4e1c0e5a8c0b4f4c7a5f8f0e9d7c6b5a4f3e2d1c0b9a8f7e6d5c4"
"""


def test_poetry_lock(tmp_path: Path) -> None:
    path = _write(tmp_path, "poetry.lock", _digests(POETRY_LOCK))
    deps = _by_name(_parse(path))
    assert set(deps) == {"certifi", "requests", "trl"}
    assert all(d.pinned and not d.direct for d in deps.values())
    assert (deps["certifi"].version, deps["certifi"].hashed, deps["certifi"].line) == (
        "2024.2.2", True, 4
    )  # fmt: skip
    assert (deps["requests"].line, deps["requests"].spec) == (15, "==2.31.0")
    assert not deps["trl"].hashed
    assert dependency_findings(list(deps.values()), lockfiles_present={str(path)}) == []


UV_LOCK = """\
version = 1
requires-python = ">=3.11"

[[package]]
name = "certifi"
version = "2024.2.2"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "@PYPI@/certifi-2024.2.2.tar.gz", hash = "@HASH0@", size = 164886 }
wheels = [
    { url = "@PYPI@/certifi-2024.2.2-py3-none-any.whl", hash = "@HASH3@", size = 163774 },
]

[[package]]
name = "demo"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "requests" },
]

[package.metadata]
requires-dist = [{ name = "requests", specifier = ">=2.31" }]

[[package]]
name = "requests"
version = "2.31.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "certifi" },
]
sdist = { url = "@PYPI@/requests-2.31.0.tar.gz", hash = "@HASH2@", size = 110794 }
wheels = [
    { url = "@PYPI@/requests-2.31.0-py3-none-any.whl", hash = "@HASH1@", size = 62574 },
]
"""


def test_uv_lock(tmp_path: Path) -> None:
    path = _write(tmp_path, "uv.lock", _digests(UV_LOCK))
    deps = _by_name(_parse(path))
    assert set(deps) == {"certifi", "requests"}  # the project itself is not a dependency
    assert all(d.pinned and d.hashed for d in deps.values())
    assert (deps["requests"].direct, deps["certifi"].direct) == (True, False)
    assert (deps["certifi"].line, deps["requests"].line) == (5, 25)


PIPFILE_LOCK = f"""\
{{
    "_meta": {{
        "hash": {{"sha256": "{"c" * 64}"}},
        "pipfile-spec": 6,
        "requires": {{"python_version": "3.11"}},
        "sources": [{{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": true}}]
    }},
    "default": {{
        "requests": {{
            "hashes": ["{H1}"],
            "index": "pypi",
            "markers": "python_version >= '3.7'",
            "version": "==2.31.0"
        }},
        "mylib": {{
            "git": "https://github.com/org/mylib.git",
            "ref": "{SHA}"
        }}
    }},
    "develop": {{
        "pytest": {{
            "hashes": ["{H2}"],
            "version": "==8.0.0"
        }}
    }}
}}
"""


def test_pipfile_lock(tmp_path: Path) -> None:
    path = _write(tmp_path, "Pipfile.lock", PIPFILE_LOCK)
    deps = _by_name(_parse(path))
    assert set(deps) == {"requests", "mylib", "pytest"}
    assert (deps["requests"].version, deps["requests"].hashed, deps["requests"].line) == (
        "2.31.0", True, 9
    )  # fmt: skip
    assert deps["mylib"].pinned
    assert not deps["mylib"].hashed
    assert deps["pytest"].line == 21
    assert not any(d.direct for d in deps.values())


def test_malformed_json_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "Pipfile.lock", '{\n  "default": {\n    "a": {,}\n  }\n}\n')
    with pytest.raises(Unreadable) as raised:
        _parse(path)
    assert raised.value.line == 3


ENVIRONMENT = """\
name: train
channels:
  - pytorch
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - numpy=1.26.4
  - pytorch::pytorch=2.2.1=py3.11_cuda12.1_cudnn8.9.2_0
  - scipy>=1.11
  - pandas
  - cudatoolkit=11.8
  - pip:
      - transformers==4.38.2
      - accelerate>=0.27
      - -r requirements-extra.txt
"""


def test_environment_yml(tmp_path: Path) -> None:
    path = _write(tmp_path, "environment.yml", ENVIRONMENT)
    deps = _by_name(_parse(path))
    assert set(deps) == {"python", "pip", "numpy", "pytorch", "scipy", "pandas", "cudatoolkit",
                         "transformers", "accelerate"}  # fmt: skip
    assert (deps["numpy"].pinned, deps["numpy"].version, deps["numpy"].ecosystem) == (
        True, "1.26.4", "conda"
    )  # fmt: skip
    assert (deps["pytorch"].pinned, deps["pytorch"].version, deps["pytorch"].line) == (
        True, "2.2.1", 9
    )  # fmt: skip
    assert not deps["cudatoolkit"].pinned  # =11.8 is any 11.8.x
    assert (deps["transformers"].ecosystem, deps["transformers"].pinned) == ("PyPI", True)
    assert deps["transformers"].line == 14
    found = dependency_findings(list(deps.values()), lockfiles_present=set())
    assert {f.where for f in found} == {"dep:scipy", "dep:pandas", "dep:cudatoolkit",
                                        "dep:accelerate"}  # fmt: skip
    assert next(f for f in found if f.where == "dep:accelerate").line == 15
    assert not any(f.rule == "repo/unhashed-requirements" for f in found)


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "environment.yml", "dependencies:\n  - numpy\n  - [pandas\n")
    with pytest.raises(Unreadable) as raised:
        _parse(path)
    assert raised.value.line is not None


def test_declared_marks_locked_packages_the_project_names(tmp_path: Path) -> None:
    lock = _parse(_write(tmp_path, "poetry.lock", _digests(POETRY_LOCK)))
    manifest = _parse(_write(tmp_path, "requirements.txt", "requests>=2\n"))
    marked = _by_name([d for d in declared(lock + manifest) if d.path.name == "poetry.lock"])
    assert (marked["requests"].direct, marked["certifi"].direct) == (True, False)


PIPFILE = f"""\
[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[packages]
torch = "==2.5.1"
numpy = "*"
requests = ">=2.31,<3"
"scikit-learn" = {{version = "==1.4.0", extras = ["plots"]}}
transformers = {{version = "~=4.38", index = "pypi"}}
peft = {{git = "https://deploy:s3cr3t@github.com/huggingface/peft.git", ref = "{SHA}"}}
trl = {{git = "https://github.com/huggingface/trl.git", ref = "main", editable = true}}
mylib = {{path = "./mylib", editable = true}}
wheel-dep = {{file = "https://files.example.org/wheel_dep-1.0-py3-none-any.whl"}}
safetensors = {{extras = ["torch"]}}
tokenizers = "===0.15.2"

[dev-packages]
pytest = "==8.0.0"
ruff = "*"

[requires]
python_version = "3.11"
"""


def test_pipfile(tmp_path: Path) -> None:
    path = _write(tmp_path, "Pipfile", PIPFILE)
    deps = _by_name(_parse(path))
    assert set(deps) == {"torch", "numpy", "requests", "scikit-learn", "transformers", "peft",
                         "trl", "wheel-dep", "safetensors", "tokenizers", "pytest",
                         "ruff"}  # fmt: skip
    pinned = {name for name, d in deps.items() if d.pinned}
    assert pinned == {"torch", "scikit-learn", "peft", "tokenizers", "pytest"}
    assert (deps["torch"].version, deps["torch"].spec, deps["torch"].line) == (
        "2.5.1",
        "==2.5.1",
        7,
    )
    assert (deps["numpy"].spec, deps["numpy"].line) == ("*", 8)
    assert (deps["scikit-learn"].version, deps["scikit-learn"].line) == ("1.4.0", 10)
    assert deps["tokenizers"].version == "0.15.2"
    assert deps["peft"].version is None  # a commit, not a version
    assert "s3cr3t" not in deps["peft"].spec
    assert (deps["pytest"].line, deps["ruff"].line) == (20, 21)
    assert all(d.direct and d.ecosystem == "PyPI" and not d.hashed for d in deps.values())


def test_pipfile_findings_without_and_with_its_lock(tmp_path: Path) -> None:
    deps = _parse(_write(tmp_path, "Pipfile", PIPFILE))
    found = dependency_findings(deps, lockfiles_present=set())
    assert {f.where for f in found} == {"dep:numpy", "dep:requests", "dep:transformers",
                                        "dep:trl", "dep:wheel-dep", "dep:safetensors",
                                        "dep:ruff"}  # fmt: skip
    numpy = next(f for f in found if f.where == "dep:numpy")
    assert (numpy.rule, numpy.severity, numpy.line) == (
        "repo/unpinned-dependency",
        Severity.medium,
        8,
    )
    assert "Pipfile.lock" in numpy.message
    assert not any(f.rule == "repo/unhashed-requirements" for f in found)
    # its lock beside it pins the ranges; other locks, or a lock elsewhere, do not
    assert dependency_findings(deps, lockfiles_present={str(tmp_path / "Pipfile.lock")}) == []
    assert dependency_findings(deps, lockfiles_present={"Pipfile.lock"}) == []
    for other in (str(tmp_path / "uv.lock"), str(tmp_path / "poetry.lock"), "uv.lock",
                  str(tmp_path / "sub" / "Pipfile.lock")):  # fmt: skip
        assert len(dependency_findings(deps, lockfiles_present={other})) == 7, other


def test_pipfile_in_a_scanned_tree(tmp_path: Path) -> None:
    _write(tmp_path, "Pipfile", PIPFILE)
    _write(tmp_path, "svc/Pipfile", '[packages]\nflask = ">=3"\n')
    _write(tmp_path, "svc/Pipfile.lock", PIPFILE_LOCK.replace('"requests"', '"flask"'))
    report = scan(tmp_path)
    by_file = {(d.path.relative_to(tmp_path).as_posix(), d.name): d for d in report.dependencies}
    assert by_file[("Pipfile", "torch")].direct
    assert by_file[("Pipfile", "torch")].version == "2.5.1"
    assert by_file[("svc/Pipfile", "flask")].direct
    assert by_file[("svc/Pipfile.lock", "flask")].direct  # the Pipfile beside it names it
    assert not by_file[("svc/Pipfile.lock", "pytest")].direct
    unpinned = {(f.path.relative_to(tmp_path).as_posix(), f.where) for f in report.findings
                if f.rule == "repo/unpinned-dependency"}  # fmt: skip
    assert ("Pipfile", "dep:numpy") in unpinned
    assert not any(path.startswith("svc/") for path, _ in unpinned)  # its lock pins flask
    assert "dep:torch" not in {w for _, w in unpinned}
    as_json = report.to_json()["dependencies"]
    assert {"name": "flask", "file": "svc/Pipfile", "direct": True}.items() <= next(
        d for d in as_json if d["file"] == "svc/Pipfile"
    ).items()


def test_malformed_pipfile_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "Pipfile", '[packages]\ntorch = "==2.5.1"\nnumpy = \n')
    with pytest.raises(Unreadable) as raised:
        _parse(path)
    assert raised.value.line == 3


def test_toml_nested_past_the_parser_is_unreadable(tmp_path: Path) -> None:
    path = _write(tmp_path, "Pipfile", "[packages]\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(Unreadable, match="nested too deeply"):
        _parse(path)
