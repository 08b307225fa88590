"""CI pipelines (custos.repo.workflows): each rule planted once, and a safe look-alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from custos.findings import Severity
from custos.repo.model import RepoFinding, Unreadable
from custos.repo.workflows import RULES, is_workflow, scan_workflow

SHA = "b4ffde65f46336ab88eb53be808477a3936bae11"


def _scan(tmp_path: Path, text: str, name: str = ".github/workflows/ci.yml") -> list[RepoFinding]:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    found = scan_workflow(path.read_text(), path)
    for f in found:
        assert f.path == path
        assert f.controls == RULES[f.rule].controls
    return found


def _brief(found: list[RepoFinding]) -> list[tuple[str, int | None, Severity]]:
    return [(f.rule, f.line, f.severity) for f in found]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".github/workflows/ci.yml", True),
        (".github/workflows/release.yaml", True),
        ("services/api/.github/workflows/ci.yml", True),
        (".gitlab-ci.yml", True),
        ("ci/templates/train.gitlab-ci.yml", True),
        (".github/workflows/scripts/helper.yml", False),
        (".github/dependabot.yml", False),
        ("workflows/ci.yml", False),
        ("docs/ci.yml", False),
    ],
)
def test_is_workflow(path: str, expected: bool) -> None:
    assert is_workflow(path) is expected


PINNED = f"""\
name: ci
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{SHA} # v4.1.1
      - uses: astral-sh/setup-uv@{SHA}
      - uses: ./.github/actions/local
      - uses: docker://alpine@sha256:{"ab" * 32}
      - name: title, safely
        env:
          TITLE: ${{{{ github.event.pull_request.title }}}}
        run: echo "$TITLE" ${{{{ github.sha }}}} ${{{{ matrix.python }}}}
  reuse:
    uses: org/shared/.github/workflows/train.yml@{SHA}
"""


def test_pinned_workflow_is_quiet(tmp_path: Path) -> None:
    assert _scan(tmp_path, PINNED) == []


UNPINNED = """\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: github/codeql-action/init@v3
      - id: setup
        uses: some-org/setup-cuda@main
      - uses: docker://alpine:3.19
  reuse:
    uses: org/shared/.github/workflows/train.yml@v1
"""


def test_unpinned_actions(tmp_path: Path) -> None:
    found = _scan(tmp_path, UNPINNED)
    assert _brief(found) == [
        ("repo/action-unpinned", 6, Severity.low),
        ("repo/action-unpinned", 7, Severity.low),
        ("repo/action-unpinned", 9, Severity.medium),
        ("repo/action-unpinned", 10, Severity.medium),
        ("repo/action-unpinned", 12, Severity.medium),
    ]
    assert found[2].where == "workflow:build.setup:uses:some-org/setup-cuda"
    assert "some-org/setup-cuda@main" in found[2].message
    assert found[4].where == "workflow:reuse:uses:org/shared/.github/workflows/train.yml"


TARGET = """\
on:
  pull_request_target:
    types: [opened, synchronize]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: make test
"""


def test_pull_request_target_checks_out_the_head(tmp_path: Path) -> None:
    found = _scan(tmp_path, TARGET)
    assert _brief(found) == [("repo/pull-request-target-checkout", 10, Severity.high)]
    assert found[0].where == "workflow:test.0:checkout"


@pytest.mark.parametrize(
    "ref",
    ["${{ github.head_ref }}", "${{ github.event.pull_request.head.ref }}",
     "refs/pull/${{ github.event.pull_request.number }}/merge"],
)  # fmt: skip
def test_other_head_refs(tmp_path: Path, ref: str) -> None:
    text = TARGET.replace("${{ github.event.pull_request.head.sha }}", ref)
    assert [f.rule for f in _scan(tmp_path, text)] == ["repo/pull-request-target-checkout"]


def test_checkout_of_the_base_or_under_pull_request_is_fine(tmp_path: Path) -> None:
    base = TARGET.replace("ref: ${{ github.event.pull_request.head.sha }}", "fetch-depth: 0")
    assert _scan(tmp_path, base) == []
    plain = TARGET.replace("pull_request_target:", "pull_request:")
    assert _scan(tmp_path, plain) == []


INJECTION = """\
on:
  issues:
    types: [opened]
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - name: label
        run: |
          echo "triaging"
          echo "${{ github.event.issue.title }}" > title.txt
      - run: echo ${{ github.head_ref }}
      - uses: actions/github-script@60a0d83039c74a4aee543508d2ffcb1c3799cdea
        with:
          script: |
            const body = `${{ github.event.comment.body }}`
"""


def test_script_injection(tmp_path: Path) -> None:
    found = _scan(tmp_path, INJECTION)
    assert _brief(found) == [
        ("repo/workflow-script-injection", 11, Severity.high),
        ("repo/workflow-script-injection", 12, Severity.high),
        ("repo/workflow-script-injection", 16, Severity.high),
    ]
    assert found[0].where == "workflow:triage.label:run:github.event.issue.title"
    assert "github.event.issue.title" in found[0].message


def test_trusted_expressions_are_not_injection(tmp_path: Path) -> None:
    text = INJECTION.replace("github.event.issue.title", "github.event.issue.number")
    text = text.replace("github.head_ref", "github.ref_name").replace(
        "github.event.comment.body", "github.event.comment.id"
    )
    assert _scan(tmp_path, text) == []


GITLAB = (
    """\
image: python:latest
stages: [train]
variables:
  IMAGE: registry.example.com/ml/trainer
train:
  stage: train
  image:
    name: nvidia/cuda
    entrypoint: [""]
  services:
    - postgres:16.2
    - redis
  script:
    - python train.py
pinned:
  image: python:3.11@sha256:"""
    + "ab" * 32
    + """
  script: [make]
by-variable:
  image: $IMAGE
  script: [make]
"""
)


def test_gitlab_images(tmp_path: Path) -> None:
    found = _scan(tmp_path, GITLAB, ".gitlab-ci.yml")
    assert _brief(found) == [
        ("repo/gitlab-image-latest", 1, Severity.low),
        ("repo/gitlab-image-latest", 8, Severity.low),
        ("repo/gitlab-image-latest", 12, Severity.low),
    ]
    assert [f.where for f in found] == [
        "gitlab:(top):image",
        "gitlab:train:image",
        "gitlab:train:services[1]",
    ]


def test_malformed_yaml_is_unreadable_with_a_line(tmp_path: Path) -> None:
    with pytest.raises(Unreadable) as raised:
        _scan(tmp_path, "on: push\njobs:\n  a:\n    steps: [uses: x\n")
    assert raised.value.line is not None


def test_yaml_tags_are_not_constructed(tmp_path: Path) -> None:
    text = "on: push\njobs: !!python/object/apply:os.system ['echo pwned']\n# uses:\n"
    assert _scan(tmp_path, text) == []
