"""CI pipelines (custos.repo.workflows): each rule planted once, and a safe look-alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from custos.findings import Severity
from custos.repo.model import RepoFinding, Unreadable
from custos.repo.scan import scan
from custos.repo.workflows import RULES, is_action, is_workflow, scan_workflow

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
        ("action.yml", True),
        (".github/actions/setup/action.yaml", True),
        ("tools/lint/action.yml", True),
        ("tools/lint/my-action.yml", False),
        ("tools/lint/action.yml.bak", False),
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


# -- composite actions --------------------------------------------------------------------------

COMPOSITE = f"""\
name: setup
description: Sets up the training environment
inputs:
  version:
    description: the version to install
  title:
    description: a title for the report
runs:
  using: composite
  steps:
    - uses: actions/setup-python@v5
    - uses: some-org/cache@main
    - uses: some-org/pinned@{SHA}
    - uses: ./local-action
    - id: greet
      shell: bash
      run: |
        echo "installing"
        pip install "trainer==${{{{ inputs.version }}}}"
        echo "${{{{ github.event.pull_request.title }}}}"
    - uses: actions/github-script@{SHA}
      with:
        script: core.info(`${{{{ inputs['title'] }}}}`)
    - shell: bash
      run: make ${{{{ inputs.debug == 'true' && 'debug' || inputs.mode }}}}
"""


def test_composite_action(tmp_path: Path) -> None:
    found = _scan(tmp_path, COMPOSITE, ".github/actions/setup/action.yml")
    assert _brief(found) == [
        ("repo/action-unpinned", 11, Severity.low),
        ("repo/action-unpinned", 12, Severity.medium),
        ("repo/workflow-script-injection", 19, Severity.medium),
        ("repo/workflow-script-injection", 20, Severity.high),
        ("repo/workflow-script-injection", 23, Severity.medium),
        ("repo/workflow-script-injection", 25, Severity.medium),
    ]
    assert [f.where for f in found[2:]] == [
        "action:greet:run:inputs.version",
        "action:greet:run:github.event.pull_request.title",
        "action:5:script:inputs['title']",
        "action:6:run:inputs.mode",  # the comparison yields a boolean, `|| inputs.mode` the text
    ]
    assert "composite action" in found[2].message
    assert found[1].where == "action:1:uses:some-org/cache"


COMPOSITE_SAFE = f"""\
name: setup
inputs:
  version:
    description: the version
runs:
  using: "composite"
  steps:
    - uses: some-org/cache@{SHA} # v4
    - shell: bash
      env:
        VERSION: ${{{{ inputs.version }}}}
      run: |
        pip install "trainer==$VERSION"
        echo ${{{{ github.action_path }}}} ${{{{ github.event.inputs.version }}}}
        echo ${{{{ runner.os }}}} ${{{{ steps.x.outputs.inputs }}}}
        make ${{{{ inputs.debug == 'true' && 'debug' || 'release' }}}}
        make ${{{{ contains(inputs.flags, 'gpu') }}}} ${{{{ 'v' != inputs.version }}}}
"""


def test_composite_action_safe_look_alike(tmp_path: Path) -> None:
    assert _scan(tmp_path, COMPOSITE_SAFE, "action.yaml") == []


def test_other_actions_and_a_workflow_named_action(tmp_path: Path) -> None:
    node = "name: n\nruns:\n  using: node20\n  main: dist/index.js\n"
    assert _scan(tmp_path, node, "action.yml") == []
    # steps under runs: of a non-composite action are not run: nothing to judge
    docker = "runs:\n  using: docker\n  image: Dockerfile\n  steps:\n    - uses: a/b@v1\n"
    assert _scan(tmp_path, docker, "x/action.yml") == []
    # in .github/workflows the name does not make a workflow an action
    found = _scan(tmp_path, UNPINNED, ".github/workflows/action.yml")
    assert len(found) == 5
    assert is_action("a/b/action.yml")
    assert not is_action("a/b/Action.yml")


def test_the_walk_reads_actions_anywhere(tmp_path: Path) -> None:
    (tmp_path / ".github" / "actions" / "setup").mkdir(parents=True)
    (tmp_path / ".github" / "actions" / "setup" / "action.yml").write_text(COMPOSITE)
    (tmp_path / "tools" / "publish").mkdir(parents=True)
    (tmp_path / "tools" / "publish" / "action.yaml").write_text(COMPOSITE)
    report = scan(tmp_path)
    files = {f.path.relative_to(tmp_path).as_posix() for f in report.findings}
    assert files == {".github/actions/setup/action.yml", "tools/publish/action.yaml"}
    assert len(report.findings) == 12


# -- GitLab script injection --------------------------------------------------------------------

GITLAB_INJECTION = """\
.notify: &notify
  - eval "$CI_COMMIT_TITLE"
default:
  before_script:
    - echo "pipeline for $CI_COMMIT_BRANCH"
    - $CI_COMMIT_BRANCH
before_script:
  - echo start
train:
  script:
    - *notify
    - !reference [.notify]
    - |
      echo "training"
      sh -c "git checkout ${CI_MERGE_REQUEST_SOURCE_BRANCH_NAME}"
    - python -c "print('$CI_MERGE_REQUEST_TITLE')"
    - echo "$CI_MERGE_REQUEST_DESCRIPTION" | bash
  after_script: VERSION=$(echo $CI_COMMIT_TAG_MESSAGE | cut -d' ' -f1)
pages:
  script:
    - ssh deploy@docs "cd /srv && git checkout $CI_COMMIT_REF_NAME"
.mr-template:
  script: [eval $CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME]
"""


def test_gitlab_script_injection(tmp_path: Path) -> None:
    found = _scan(tmp_path, GITLAB_INJECTION, ".gitlab-ci.yml")
    assert _brief(found) == [
        ("repo/workflow-script-injection", 2, Severity.high),
        ("repo/workflow-script-injection", 6, Severity.high),
        ("repo/workflow-script-injection", 15, Severity.high),
        ("repo/workflow-script-injection", 16, Severity.high),
        ("repo/workflow-script-injection", 17, Severity.high),
        ("repo/workflow-script-injection", 18, Severity.medium),
        ("repo/workflow-script-injection", 21, Severity.high),
        ("repo/workflow-script-injection", 23, Severity.high),
    ]
    assert [f.where for f in found] == [
        "gitlab:train:script:CI_COMMIT_TITLE",  # the anchored lines, where a job runs them
        "gitlab:default:before_script:CI_COMMIT_BRANCH",
        "gitlab:train:script:CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
        "gitlab:train:script:CI_MERGE_REQUEST_TITLE",
        "gitlab:train:script:CI_MERGE_REQUEST_DESCRIPTION",
        "gitlab:train:after_script:CI_COMMIT_TAG_MESSAGE",
        "gitlab:pages:script:CI_COMMIT_REF_NAME",
        "gitlab:.mr-template:script:CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME",
    ]
    assert all(f.message.startswith("GitLab ") for f in found)
    assert "eval" in found[0].message
    assert "sh -c" in found[2].message


def test_gitlab_anchored_lines_are_judged_once(tmp_path: Path) -> None:
    text = GITLAB_INJECTION + "lint:\n  script:\n    - *notify\n"
    found = _scan(tmp_path, text, ".gitlab-ci.yml")
    assert [f.line for f in found if "CI_COMMIT_TITLE" in f.where] == [2]


GITLAB_SAFE = """\
variables:
  TITLE: $CI_MERGE_REQUEST_TITLE
default:
  before_script:
    - echo "building $CI_COMMIT_REF_NAME"
test:
  script:
    - git commit -m "$CI_COMMIT_MESSAGE"
    - echo $CI_COMMIT_MESSAGE
    - 'if [ "$CI_COMMIT_BRANCH" = "main" ]; then make release; fi'
    - docker build -t "app:$CI_COMMIT_REF_NAME" .
    - export BRANCH=$CI_COMMIT_BRANCH
    - sh -c 'git checkout "$1"' _ "$CI_COMMIT_BRANCH"
    - echo '$CI_COMMIT_MESSAGE' && eval "$SAFE_COMMAND"
    - eval "$(ssh-agent -s)"
    - python3 notify.py --title "$CI_MERGE_REQUEST_TITLE"
    - |
      cat <<EOF > release-notes.md
      $CI_COMMIT_TAG_MESSAGE
      EOF
    - echo "$CI_COMMIT_SHA $CI_COMMIT_REF_SLUG $CI_PIPELINE_ID" | sh
  rules:
    - if: $CI_COMMIT_BRANCH == "main"
"""


def test_gitlab_safe_look_alikes(tmp_path: Path) -> None:
    assert _scan(tmp_path, GITLAB_SAFE, ".gitlab-ci.yml") == []


def test_gitlab_script_at_a_depth_yaml_allows(tmp_path: Path) -> None:
    nested = "job:\n  script: " + "[" * 500 + "eval $CI_COMMIT_MESSAGE" + "]" * 500 + "\n"
    found = _scan(tmp_path, nested, ".gitlab-ci.yml")
    assert _brief(found) == [("repo/workflow-script-injection", 2, Severity.high)]
