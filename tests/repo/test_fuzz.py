"""The repository scanner and the OSV reader under generated input: random bytes under every
file name the scanner reads by, real-shaped samples of each kind with bytes flipped, inserted
and cut, nesting thousands deep, and OSV records with fields of the wrong types. A scan always
ends in a report (a file that cannot be parsed is `repo/unreadable`, one line), and an OSV
record is an advisory or a ValueError, never another exception."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custos.intel.osv import parse
from custos.repo.scan import scan

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RECORDS = Path(__file__).resolve().parents[1] / "intel" / "advisories"
ADVISORY = json.loads((RECORDS / "PYSEC-2025-41.json").read_text())
CELL = {
    "cell_type": "code",
    "source": ["%pip install x\n", "import pickle\n", "o = pickle.loads(b)\n"],
}
NOTEBOOK = {"cells": [CELL], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}
PIPFILE = {"default": {"torch": {"version": "==2.5.1", "hashes": ["sha256:" + "c" * 64]}}}
SAMPLES = {
    "train.py": b"import torch as T\nimport yaml\nfrom joblib import load as jl\n\n"
    b"def f(p):\n    m = T.load(p)\n    c = yaml.load(open(p))\n    return jl(p), m, c\n",
    "explore.ipynb": json.dumps(NOTEBOOK).encode(),
    "requirements.txt": b"torch==2.5.1 \\\n    --hash=sha256:"
    + b"a" * 64
    + b"\nnumpy>=1.26 ; python_version>'3.9'\n-e git+https://x/y@main#egg=y\n-r dev.txt\n",
    "pyproject.toml": b'[project]\nname = "x"\ndependencies = ["torch>=2", "pyyaml==6.0.1"]\n'
    b"[tool.poetry.dependencies]\npython = '^3.11'\nnumpy = '1.26.4'\n",
    "poetry.lock": b'[[package]]\nname = "torch"\nversion = "2.5.1"\n'
    b'files = [{file = "t.whl", hash = "sha256:' + b"b" * 64 + b'"}]\n',
    "uv.lock": b'version = 1\n[[package]]\nname = "numpy"\nversion = "1.26.4"\n'
    b'source = { registry = "https://pypi.org/simple" }\n',
    "Pipfile.lock": json.dumps(PIPFILE).encode(),
    "environment.yml": b"name: x\ndependencies:\n  - python=3.11\n  - numpy=1.26.4=py311_0\n"
    b"  - pip:\n    - torch==2.5.1\n",
    "Dockerfile": b"FROM python:3.11 AS build\nRUN curl -fsSL https://x | sh \\\n  && echo ok\n"
    b"FROM build\nADD https://x/y.tgz /y\nUSER root\n",
    "ci.yml": b"on: pull_request_target\njobs:\n  t:\n    runs-on: u\n    steps:\n"
    b"      - uses: actions/checkout@v4\n        with:\n"
    b"          ref: ${{ github.event.pull_request.head.sha }}\n"
    b"      - run: echo ${{ github.event.issue.title }}\n      - uses: a/b@v1\n",
    ".gitlab-ci.yml": b"image: python\ntest:\n  image: python:latest\n  script: [pytest]\n"
    b'build:\n  script:\n    - eval "$CI_COMMIT_TITLE"\n'
    b'    - |\n      sh -c "make ${CI_COMMIT_BRANCH}"\n'
    b"      cat <<EOF | bash\n      echo $(echo $CI_MERGE_REQUEST_TITLE) `x`\n      EOF\n",
    "action.yml": b"name: a\ninputs:\n  v: {}\nruns:\n  using: composite\n  steps:\n"
    b"    - uses: a/b@v1\n    - shell: bash\n      run: echo ${{ inputs.v }}"
    b" ${{ github.event.issue.title }}\n",
    "Pipfile": b'[packages]\ntorch = "==2.5.1"\nnumpy = "*"\n'
    b'peft = {git = "https://github.com/h/peft.git", ref = "main"}\n'
    b'[dev-packages]\npytest = {version = ">=8"}\n',
    "settings.yaml": b"db:\n  password: Zq8!kLp2vR7xW9tY\n"
    b"  api_key: sk_live_4eC39HqLyjWDarjtT1zd\n",
}


def _place(name: str) -> str:
    return f".github/workflows/{name}" if name == "ci.yml" else name


def _scan(data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / _place(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        report = scan(Path(tmp))
        for _, _, message in report.errors:
            assert "\n" not in message
        json.dumps(report.to_json())


@FUZZ
@given(st.sampled_from(sorted(SAMPLES)), st.binary(max_size=2048))
def test_random_bytes_under_every_name(name: str, data: bytes) -> None:
    _scan(data, name)


@FUZZ
@given(
    st.sampled_from(sorted(SAMPLES)),
    st.lists(st.tuples(st.integers(0, 4000), st.binary(min_size=1, max_size=6)), max_size=8),
    st.integers(1, 4000),
)
def test_mutated_samples(name: str, edits: list[tuple[int, bytes]], cut: int) -> None:
    data = bytearray(SAMPLES[name])
    for at, inserted in edits:
        at %= len(data) + 1
        data[at : at + 1] = inserted
    _scan(bytes(data[:cut]), name)


def test_the_samples_themselves_and_deep_nesting() -> None:
    for name, data in SAMPLES.items():
        _scan(data, name)
    _scan(b"x = " + b"(" * 5000 + b")" * 5000 + b"\n", "deep.py")
    _scan(b"a: " + b"[" * 20000 + b"]" * 20000 + b"\n", "ci.yml")
    _scan(b'{"cells": ' + b"[" * 20000 + b"]" * 20000 + b"}", "explore.ipynb")
    _scan(b'{"default": ' + b"{" * 20000 + b"}" * 20000 + b"}", "Pipfile.lock")
    _scan(b"j:\n  script: " + b"[" * 20000 + b"]" * 20000 + b"\n", ".gitlab-ci.yml")
    _scan(b"j:\n  script: 'echo " + b'"$(' * 20000 + b"eval $CI_COMMIT_TITLE'\n", ".gitlab-ci.yml")
    _scan(b"[packages]\nx = " + b"[" * 20000 + b"]" * 20000 + b"\n", "Pipfile")
    _scan(b"[project]\ndependencies = " + b"[" * 20000 + b"]" * 20000 + b"\n", "pyproject.toml")


VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "id",
                    "modified",
                    "aliases",
                    "affected",
                    "severity",
                    "summary",
                    "withdrawn",
                    "published",
                    "references",
                    "database_specific",
                ]
            ),
            VALUES,
        ),
        max_size=4,
    )
)
def test_osv_records_with_fields_of_the_wrong_type(changes: list[tuple[str, Any]]) -> None:
    record = json.loads(json.dumps(ADVISORY))
    for key, value in changes:
        record[key] = value
    try:
        parse(record)
    except ValueError as exc:
        message = str(exc)
    else:
        message = ""
    assert "\n" not in message


@FUZZ
@given(VALUES)
def test_osv_ranges_of_any_shape(value: Any) -> None:
    record = json.loads(json.dumps(ADVISORY))
    record["affected"][0]["ranges"] = value
    with contextlib.suppress(ValueError):
        parse(record)
