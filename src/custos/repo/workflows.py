"""CI pipelines that build, test and publish models: GitHub Actions workflows
(`.github/workflows/*.yml`), composite actions (`action.yml` anywhere) and GitLab CI
(`.gitlab-ci.yml`). Read as YAML node trees through the safe loader (for line numbers), never
run.

Rules: a third-party action used by a movable ref instead of a commit SHA (in a workflow's or
a composite action's steps); a `pull_request_target` workflow that checks out the pull
request's head (untrusted code with the base repository's secrets and write token); an
attacker-controlled expression (an issue title, a PR body, a branch name; in a composite
action also its caller's `inputs.*`, medium) interpolated into a `run:` script, where it
becomes shell code; a GitLab script that hands a predefined variable an outsider writes (a
commit message, a branch name, a merge request title) to `eval`, `sh -c` and the like
(`shellvars`); a GitLab job image by a moving tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import yaml

from custos.findings import Rule, Severity
from custos.repo import shellvars
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
        "a comment, a branch name, a composite action's input): it is pasted into the script "
        'before the shell runs, so it can be shell code. Pass it through env: and use "$VAR". '
        "In GitLab CI a commit message, branch name or merge request title becomes code "
        "through eval, sh -c or an unquoted command word: use it only as a quoted argument.",
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
# A composite action's input (`inputs.name`, `inputs['name']`), not `github.event.inputs`.
_INPUT = re.compile(r"(?<![\w.])inputs\s*(?:\.\s*[A-Za-z_][\w-]*|\[\s*'[^']*'\s*\])")
_COMPARED_BEFORE = re.compile(r"(?:[=!<>]=|[<>]|(?:contains|startsWith|endsWith)\s*\()\s*$", re.I)
_COMPARED_AFTER = re.compile(r"\s*(?:[=!<>]=|[<>])")
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
_GITLAB_SCRIPTS = ("script", "before_script", "after_script")
# Predefined variables whose text an outsider writes: commit messages, branch and tag names,
# merge request titles and descriptions.
_GITLAB_UNTRUSTED = frozenset({
    "CI_COMMIT_MESSAGE", "CI_COMMIT_TITLE", "CI_COMMIT_DESCRIPTION", "CI_COMMIT_BRANCH",
    "CI_COMMIT_REF_NAME", "CI_COMMIT_TAG_MESSAGE", "CI_MERGE_REQUEST_TITLE",
    "CI_MERGE_REQUEST_DESCRIPTION", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
    "CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_NAME",
})  # fmt: skip
_ACTION_FILES = frozenset({"action.yml", "action.yaml"})
_CHEAP = ("uses:", "run:", "script", "image", "pull_request_target")


def is_workflow(relative_posix_path: str) -> bool:
    """A GitHub Actions workflow (`.github/workflows/<name>.yml|yaml`), a composite action's
    `action.yml` (see is_action) or a GitLab CI file (`.gitlab-ci.yml`, or an included
    `<name>.gitlab-ci.yml`)."""
    parts = relative_posix_path.split("/")
    name = parts[-1].lower()
    if name.endswith((".yml", ".yaml")) and parts[-3:-1] == [".github", "workflows"]:
        return True
    return is_action(relative_posix_path) or name.endswith((".gitlab-ci.yml", ".gitlab-ci.yaml"))


def is_action(relative_posix_path: str) -> bool:
    """A GitHub action's metadata file, anywhere in the tree: `action.yml` or `action.yaml`
    (the names GitHub looks for)."""
    return relative_posix_path.rsplit("/", 1)[-1] in _ACTION_FILES


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
    # `.github/workflows/action.yml` is a workflow that happens to have that name
    action = is_action(path.name) and path.parent.parts[-2:] != (".github", "workflows")
    for root in roots:
        if isinstance(root, yaml.MappingNode):
            if gitlab:
                _gitlab(root, path, found)
            elif action:
                _composite(root, path, found)
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
        _steps(_get(body, "steps"), path, f"workflow:{job}.", found, target=target)


def _composite(root: yaml.MappingNode, path: Path, found: list[RepoFinding]) -> None:
    """A composite action's steps (`runs: using: composite`); other kinds (node, docker) run
    no steps of their own."""
    runs = _get(root, "runs")
    if (_text(_get(runs, "using")) or "").strip().lower() == "composite":
        _steps(_get(runs, "steps"), path, "action:", found, inputs=True)


def _steps(
    steps: yaml.Node | None,
    path: Path,
    prefix: str,
    found: list[RepoFinding],
    *,
    target: bool = False,
    inputs: bool = False,
) -> None:
    """The rules on a list of steps (a job's, or a composite action's). `target`: the workflow
    runs on pull_request_target; `inputs`: `${{ inputs.* }}` is the caller's text."""
    if not isinstance(steps, yaml.SequenceNode):
        return
    for index, step in enumerate(steps.value):
        label = _text(_get(step, "id")) or _text(_get(step, "name")) or str(index)
        where = f"{prefix}{label}"
        action = _get(step, "uses")
        action_name = _text(action) or ""
        if isinstance(action, yaml.ScalarNode):
            _pinning(action, path, f"{where}:uses", found)
        run = _get(step, "run")
        if isinstance(run, yaml.ScalarNode):
            _injection(run, path, f"{where}:run", "run:", found, inputs=inputs)
        with_ = _get(step, "with")
        if action_name.lower().startswith("actions/github-script"):
            script = _get(with_, "script")
            if isinstance(script, yaml.ScalarNode):
                _injection(script, path, f"{where}:script", "github-script", found, inputs=inputs)
        if target and action_name.lower().startswith("actions/checkout"):
            _head_checkout(with_, path, f"{where}:checkout", _line(step), found)


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
    node: yaml.ScalarNode,
    path: Path,
    where: str,
    what: str,
    found: list[RepoFinding],
    *,
    inputs: bool = False,
) -> None:
    script = str(node.value)
    if "${{" not in script:
        return
    for expression in _EXPRESSION.finditer(script):
        text = expression.group("expression")
        untrusted = _UNTRUSTED.search(text)
        line = _line_at(node, expression.start())
        if untrusted is not None:
            context = re.sub(r"\s+", "", untrusted.group())
            _add(
                found,
                "repo/workflow-script-injection",
                path,
                line,
                f"{where}:{context}",
                f"{what} interpolates ${{{{ {context} }}}}, which an outsider sets, into the "
                'script; pass it through env: and use "$VAR"',
            )
            continue
        given = _input(text) if inputs else None
        if given is not None:
            context = re.sub(r"\s+", "", given.group())
            _add(
                found,
                "repo/workflow-script-injection",
                path,
                line,
                f"{where}:{context}",
                f"{what} interpolates ${{{{ {context} }}}}, an input of this composite action "
                "that callers may fill with untrusted text, into the script; pass it through "
                'env: and use "$VAR"',
                Severity.medium,
            )


def _input(expression: str) -> re.Match[str] | None:
    """The first input whose text the expression yields."""
    return next((m for m in _INPUT.finditer(expression) if not _compared(expression, m)), None)


def _compared(expression: str, found: re.Match[str]) -> bool:
    """An input only compared (`inputs.debug == 'true'`, `contains(inputs.x, 'y')`): the
    expression yields a boolean there, not the input's text."""
    before, after = expression[: found.start()], expression[found.end() :]
    return bool(_COMPARED_BEFORE.search(before) or _COMPARED_AFTER.match(after))


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
    done: set[int] = set()  # lines an anchor shares are judged where they are written
    _gitlab_scripts(root, "(top)", path, found, done, _GITLAB_SCRIPTS[1:])  # old global keys
    _gitlab_scripts(_get(root, "default"), "default", path, found, done)
    for job, _, body in _items(root):
        if job not in _GITLAB_RESERVED and isinstance(body, yaml.MappingNode):
            _gitlab_images(body, job, path, found)
        if (job not in _GITLAB_RESERVED or job == "pages") and isinstance(body, yaml.MappingNode):
            _gitlab_scripts(body, job, path, found, done)


def _gitlab_scripts(
    body: yaml.Node | None,
    job: str,
    path: Path,
    found: list[RepoFinding],
    done: set[int],
    keys: tuple[str, ...] = _GITLAB_SCRIPTS,
) -> None:
    """Script lines that hand a predefined variable an outsider sets to something that runs
    it as code (the runner's shell expands it; only eval, sh -c and the like parse it)."""
    seen: dict[str, int] = {}
    for key in keys:
        for node in _script_lines(_get(body, key)):
            script = str(node.value)
            if "CI_" not in script or id(node) in done:
                continue
            done.add(id(node))
            for use in shellvars.risky_uses(script, _GITLAB_UNTRUSTED):
                where = f"gitlab:{job}:{key}:{use.name}"
                n = seen.get(where, 0)
                seen[where] = n + 1
                _add(
                    found,
                    "repo/workflow-script-injection",
                    path,
                    _line_at(node, use.offset),
                    f"{where}:{n}" if n else where,
                    f"GitLab {key}: {_how(use)}, and an outsider writes that text (a commit, "
                    "branch, tag or merge request); use it only as a quoted argument "
                    f'("${use.name}")',
                    None if use.kind in shellvars.CODE_KINDS else Severity.medium,
                )


def _script_lines(node: yaml.Node | None) -> Iterator[yaml.ScalarNode]:
    """A script's lines: a string, or a list of them (nested lists, as anchors make, too); an
    `!reference` is another job's lines, scanned there."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, yaml.ScalarNode):
            yield item
        elif isinstance(item, yaml.SequenceNode) and item.tag != "!reference":
            stack.extend(reversed(item.value))


def _how(use: shellvars.Use) -> str:
    name = f"${use.name}"
    return {
        "eval": f"eval runs {name} as shell code",
        "shell": f"{name} is pasted into the script of `{use.via}`, which runs it as shell code",
        "code": f"{name} is pasted into the code of `{use.via}`",
        "stdin": f"{name} is fed to `{use.via}`, which runs it as code",
        "remote": f"{name} is pasted into the command line ssh hands to the remote shell",
        "command": f"{name} is expanded unquoted as a command, so its words run",
        "substitution": f"{name} is expanded unquoted inside a command substitution (split and "
        "globbed)",
    }[use.kind]


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
