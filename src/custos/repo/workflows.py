"""CI pipelines that build, test and publish models: GitHub Actions workflows
(`.github/workflows/*.yml`) and GitLab CI (`.gitlab-ci.yml`). Read as YAML node trees through
the safe loader (for line numbers), never run.

Rules: a third-party action used by a movable ref instead of a commit SHA; a
`pull_request_target` workflow that checks out the pull request's head (untrusted code with the
base repository's secrets and write token); an attacker-controlled expression (an issue title,
a PR body, a branch name) interpolated into a `run:` script, where it becomes shell code; a
GitLab job image by a moving tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import yaml

from custos.findings import Rule, Severity
from custos.repo.model import RepoFinding, Unreadable

CONTROLS = ("iso27002:2022:8.25", "iso27002:2022:8.32", "iso27002:2022:8.28")

RULES: Mapping[str, Rule] = {
    "repo/action-unpinned": Rule(
        Severity.medium,
        "An action is used by a tag or branch, which its owner (or whoever takes over the "
        "repository) can move to other code that then runs with the workflow's secrets. Pin "
        "the full commit SHA. Actions of GitHub's own `actions/` and `github/` are low.",
        CONTROLS,
    ),
    "repo/pull-request-target-checkout": Rule(
        Severity.high,
        "A pull_request_target workflow checks out the pull request's code: a fork's code runs "
        "with the base repository's secrets and a write token. Use pull_request, or never "
        "build or run the checked-out head.",
        CONTROLS,
    ),
    "repo/workflow-script-injection": Rule(
        Severity.high,
        "A run: script interpolates text an outsider controls (an issue or PR title or body, "
        "a comment, a branch name): it is pasted into the script before the shell runs, so it "
        'can be shell code. Pass it through env: and use "$VAR".',
        CONTROLS,
    ),
    "repo/gitlab-image-latest": Rule(
        Severity.low,
        "A GitLab CI image is named by a moving tag (latest, or none): every pipeline may run "
        "different software. Pin a version tag and its digest.",
        CONTROLS,
    ),
}

try:  # libyaml is several times faster; both are the safe loader
    _LOADER: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _LOADER = yaml.SafeLoader

_SHA1 = re.compile(r"[0-9a-fA-F]{40}")
_DIGEST = re.compile(r"@sha256:[0-9a-fA-F]{64}")
_FIRST_PARTY = frozenset({"actions", "github"})
_EXPRESSION = re.compile(r"\$\{\{(?P<expression>.*?)\}\}", re.DOTALL)
_ANY = r"(?:\[[^\]]*\]|\.\*)?"  # `commits[0]`, `commits.*`
# Contexts an outsider sets (GitHub Security Lab's list of untrusted input).
_UNTRUSTED = re.compile(
    rf"""github\s*\.\s*head_ref\b
    |github\.event\.(?:
        (?:issue|pull_request|discussion)\.(?:title|body)\b
       |(?:comment|review|review_comment)\.body\b
       |pages{_ANY}\.page_name\b
       |(?:head_commit|workflow_run\.head_commit)\.(?:message|author\.(?:email|name))\b
       |commits{_ANY}\.(?:message|author\.(?:email|name))\b
       |pull_request\.head\.(?:ref|label|repo\.default_branch)\b
       |workflow_run\.(?:head_branch|display_title)\b
       |workflow_run\.pull_requests{_ANY}\.head\.ref\b
    )""",
    re.VERBOSE,
)
# What a checkout under pull_request_target must not fetch: the PR's head (or merge) commit.
_PR_HEAD = re.compile(
    r"github\.event\.pull_request\.(?:head\.(?:sha|ref|repo)|merge_commit_sha|number)"
    r"|github\.head_ref|github\.event\.number|refs/pull/"
)
_GITLAB_RESERVED = frozenset(
    {
        "stages",
        "variables",
        "include",
        "workflow",
        "default",
        "before_script",
        "after_script",
        "cache",
        "image",
        "services",
        "pages",
    }
)
_CHEAP = ("uses:", "run:", "script", "image", "pull_request_target")


def is_workflow(relative_posix_path: str) -> bool:
    """A GitHub Actions workflow (`.github/workflows/<name>.yml|yaml`) or a GitLab CI file
    (`.gitlab-ci.yml`, or an included `<name>.gitlab-ci.yml`)."""
    parts = relative_posix_path.split("/")
    name = parts[-1].lower()
    if name.endswith((".yml", ".yaml")) and parts[-3:-1] == [".github", "workflows"]:
        return True
    return name.endswith((".gitlab-ci.yml", ".gitlab-ci.yaml"))


def scan_workflow(text: str, path: Path) -> list[RepoFinding]:
    """The findings of one CI file. Raises Unreadable for YAML that does not parse."""
    if not any(word in text for word in _CHEAP):
        return []  # nothing any rule looks at
    try:
        roots = list(yaml.compose_all(text, Loader=_LOADER))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise Unreadable(f"invalid YAML: {problem}", mark.line + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        raise Unreadable(f"invalid YAML: {exc}") from exc
    found: list[RepoFinding] = []
    gitlab = path.name.lower().endswith((".gitlab-ci.yml", ".gitlab-ci.yaml"))
    for root in roots:
        if isinstance(root, yaml.MappingNode):
            if gitlab:
                _gitlab(root, path, found)
            else:
                _github(root, path, found)
    return sorted(found, key=lambda f: f.line or 0)


# -- nodes --------------------------------------------------------------------------------------


def _items(node: yaml.Node | None) -> Iterator[tuple[str, yaml.Node, yaml.Node]]:
    """(key, key node, value node) of a mapping; nothing for anything else."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                yield str(key.value), key, value


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    found = None
    for name, _, value in _items(node):
        if name == key:
            found = value  # the last of repeated keys, as the data would have it
    return found


def _text(node: yaml.Node | None) -> str | None:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _line_at(node: yaml.ScalarNode, offset: int) -> int:
    """The line of a position inside a scalar: a block scalar (`run: |`) starts on the line
    after its indicator and keeps its lines; other styles are folded, so their first line."""
    if node.style in ("|", ">"):
        return _line(node) + 1 + str(node.value).count("\n", 0, offset)
    return _line(node)


def _add(
    found: list[RepoFinding],
    rule: str,
    path: Path,
    line: int,
    where: str,
    message: str,
    severity: Severity | None = None,
) -> None:
    spec = RULES[rule]
    found.append(
        RepoFinding(rule, severity or spec.severity, message, path, line, where, spec.controls)
    )


# -- GitHub Actions -----------------------------------------------------------------------------


def _triggers(root: yaml.Node) -> set[str]:
    # `on` is a boolean to YAML 1.1 readers; the node keeps the text
    node = _get(root, "on") or _get(root, "true")
    if isinstance(node, yaml.ScalarNode):
        return {str(node.value)}
    if isinstance(node, yaml.SequenceNode):
        return {str(n.value) for n in node.value if isinstance(n, yaml.ScalarNode)}
    return {name for name, _, _ in _items(node)}


def _github(root: yaml.MappingNode, path: Path, found: list[RepoFinding]) -> None:
    target = "pull_request_target" in _triggers(root)
    for job, _, body in _items(_get(root, "jobs")):
        uses = _get(body, "uses")  # a reusable workflow
        if isinstance(uses, yaml.ScalarNode):
            _pinning(uses, path, f"workflow:{job}:uses", found)
        steps = _get(body, "steps")
        if not isinstance(steps, yaml.SequenceNode):
            continue
        for index, step in enumerate(steps.value):
            label = _text(_get(step, "id")) or _text(_get(step, "name")) or str(index)
            where = f"workflow:{job}.{label}"
            action = _get(step, "uses")
            action_name = _text(action) or ""
            if isinstance(action, yaml.ScalarNode):
                _pinning(action, path, f"{where}:uses", found)
            run = _get(step, "run")
            if isinstance(run, yaml.ScalarNode):
                _injection(run, path, f"{where}:run", "run:", found)
            inputs = _get(step, "with")
            if action_name.lower().startswith("actions/github-script"):
                script = _get(inputs, "script")
                if isinstance(script, yaml.ScalarNode):
                    _injection(script, path, f"{where}:script", "github-script", found)
            if target and action_name.lower().startswith("actions/checkout"):
                _head_checkout(inputs, path, f"{where}:checkout", _line(step), found)


def _pinning(node: yaml.ScalarNode, path: Path, where: str, found: list[RepoFinding]) -> None:
    value = str(node.value).strip()
    if value.startswith(("./", ".\\")) or "${{" in value:
        return  # the repository's own action; expressions are not allowed here anyway
    if value.lower().startswith("docker://"):
        if _DIGEST.search(value) is None:
            _add(
                found,
                "repo/action-unpinned",
                path,
                _line(node),
                f"{where}:{value}",
                f"uses: {value} names a Docker image without its @sha256 digest",
            )
        return
    action, _, ref = value.rpartition("@")
    if not action:
        action, ref = value, ""
    if _SHA1.fullmatch(ref):
        return
    owner = action.split("/", 1)[0].lower()
    severity = Severity.low if owner in _FIRST_PARTY else None
    shown = f"{action}@{ref}" if ref else action
    _add(
        found,
        "repo/action-unpinned",
        path,
        _line(node),
        f"{where}:{action}",
        f"uses: {shown} is not pinned to a commit SHA; a tag or branch can be moved to other code",
        severity,
    )


def _injection(
    node: yaml.ScalarNode, path: Path, where: str, what: str, found: list[RepoFinding]
) -> None:
    script = str(node.value)
    if "${{" not in script:
        return
    for expression in _EXPRESSION.finditer(script):
        untrusted = _UNTRUSTED.search(expression.group("expression"))
        if untrusted is None:
            continue
        context = re.sub(r"\s+", "", untrusted.group())
        _add(
            found,
            "repo/workflow-script-injection",
            path,
            _line_at(node, expression.start()),
            f"{where}:{context}",
            f"{what} interpolates ${{{{ {context} }}}}, which an outsider sets, into the "
            'script; pass it through env: and use "$VAR"',
        )


def _head_checkout(
    inputs: yaml.Node | None, path: Path, where: str, step_line: int, found: list[RepoFinding]
) -> None:
    for key in ("ref", "repository"):
        node = _get(inputs, key)
        value = _text(node)
        if node is not None and value and _PR_HEAD.search(value):
            _add(
                found,
                "repo/pull-request-target-checkout",
                path,
                _line(node),
                where,
                f"a pull_request_target workflow checks out the pull request's head "
                f"({key}: {value.strip()}): fork code runs with this repository's secrets",
            )
            return


# -- GitLab CI ----------------------------------------------------------------------------------


def _gitlab(root: yaml.MappingNode, path: Path, found: list[RepoFinding]) -> None:
    _gitlab_images(root, "(top)", path, found)
    _gitlab_images(_get(root, "default"), "default", path, found)
    for job, _, body in _items(root):
        if job not in _GITLAB_RESERVED and isinstance(body, yaml.MappingNode):
            _gitlab_images(body, job, path, found)


def _gitlab_images(body: yaml.Node | None, job: str, path: Path, found: list[RepoFinding]) -> None:
    candidates: list[tuple[yaml.Node, str]] = []
    image = _get(body, "image")
    if image is not None:
        candidates.append((image, f"gitlab:{job}:image"))
    services = _get(body, "services")
    if isinstance(services, yaml.SequenceNode):
        candidates += [(s, f"gitlab:{job}:services[{i}]") for i, s in enumerate(services.value)]
    for node, where in candidates:
        name_node = _get(node, "name") if isinstance(node, yaml.MappingNode) else node
        name = (_text(name_node) or "").strip()
        if not name or "$" in name or name_node is None:
            continue  # a CI variable decides
        if _moving_tag(name):
            _add(
                found,
                "repo/gitlab-image-latest",
                path,
                _line(name_node),
                where,
                f"image {name} is a moving tag without a digest; pin a version and "
                "@sha256:<digest>",
            )


def _moving_tag(image: str) -> bool:
    if _DIGEST.search(image):
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.rsplit(":", 1)[1].lower() == "latest"
