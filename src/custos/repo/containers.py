"""Dockerfiles (and Containerfiles): the image a model is trained or served from. Read as text,
never built: instructions are joined across line continuations, comments and parser
directives are honoured, heredocs are kept with the instruction they feed, and stages are
followed so that a stage built `FROM` an earlier one inherits its user.

Rules: the final stage runs as root; a base image by a moving tag (`latest`, or none) and no
digest; a script fetched with curl or wget and piped into a shell; `ADD` of a remote URL
without `--checksum`. `where` is `docker:<stage>:<INSTRUCTION>:<n>` (the nth such instruction
of the stage, from 0), which survives edits elsewhere in the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from custos.findings import Rule, Severity
from custos.repo.model import RepoFinding

CONTROLS = ("iso27002:2022:8.25", "iso27002:2022:8.27", "iso27002:2022:8.9")

RULES: Mapping[str, Rule] = {
    "repo/docker-root": Rule(
        Severity.medium,
        "The image runs as root: code execution in the model server (a malicious pickle, an "
        "injected tool call) owns the container. Add a USER with an unprivileged account.",
        CONTROLS,
    ),
    "repo/docker-latest": Rule(
        Severity.medium,
        "The base image is named by a moving tag (latest, or none), so every build may start "
        "from different software. Pin a version tag and its @sha256 digest.",
        CONTROLS,
    ),
    "repo/docker-curl-pipe-shell": Rule(
        Severity.high,
        "A script is downloaded and run in one step (curl | sh): whoever controls the URL or "
        "the network path runs code in the build. Download, verify a checksum, then run.",
        CONTROLS,
    ),
    "repo/docker-add-url": Rule(
        Severity.low,
        "ADD fetches a remote URL without --checksum, so the build takes whatever the server "
        "returns. Add --checksum=sha256:... or download and verify in a RUN step.",
        CONTROLS,
    ),
}

_DIRECTIVE = re.compile(r"^#\s*(?P<name>[A-Za-z]+)\s*=\s*(?P<value>\S+)\s*$")
_HEREDOC = re.compile(r"<<-?\s*[\"']?(?P<word>[A-Za-z_][A-Za-z0-9_]*)[\"']?")
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
_ARG_REFERENCE = re.compile(r"\$\{?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}?")
_ROOT_USERS = frozenset({"root", "0"})
_DIGEST = re.compile(r"@sha256:[0-9a-fA-F]{64}")
_FETCH = r"(?:/usr)?(?:/bin/)?(?:curl|wget)\b"
# curl or wget as a command (`echo curl | sh` runs no download): at the start of the script or
# after a separator, perhaps behind sudo or variable assignments
_COMMAND_START = r"""(?:^|[;&|(`"'\n]|\$\()\s*(?:sudo\s+(?:-\S+\s+)*)?(?:[A-Za-z_]\w*=\S*\s+)*"""
_SHELL = (
    r"(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+(?:\S+=\S*\s+)*)?(?:/usr)?(?:/bin/)?"
    r"(?:(?:ba|z|da|k|a|fi)?sh\b|python[0-9.]*\b|perl\b|ruby\b|node\b)"
)
_PIPED = re.compile(rf"{_COMMAND_START}{_FETCH}[^;&\n]*?(?<!\|)\|(?!\|)\s*(?:{_SHELL})")
_SUBSTITUTED = re.compile(
    rf"(?:(?:ba|z|k)?sh|python[0-9.]*)\s+(?:-c\s+)?[\"']?(?:<\(|\$\()\s*{_FETCH}"
)
_REMOTE = re.compile(r"^(?:https?|ftp)://", re.IGNORECASE)


@dataclass(frozen=True)
class Instruction:
    """One instruction, continuations joined (and a heredoc's body appended)."""

    line: int  # 1-based, where it starts
    keyword: str  # upper case: FROM, RUN, USER, ...
    arguments: str


@dataclass
class _Stage:
    index: int
    line: int
    image: str
    alias: str | None
    parent: int | None  # the earlier stage this one is built from
    user: str | None = None  # the last USER, None when there is none
    user_line: int | None = None
    user_where: tuple[int, int] = (0, 0)  # (stage, n) of that USER
    counts: dict[str, int] = field(default_factory=dict)


def is_dockerfile(name: str) -> bool:
    """`Dockerfile`, `Dockerfile.<variant>`, `<variant>.Dockerfile`, `Containerfile`."""
    lower = name.lower()
    if lower in ("dockerfile", "containerfile"):
        return True
    if lower.endswith((".md", ".rst", ".dockerignore", ".txt.bak", ".orig")):
        return False
    return lower.startswith(("dockerfile.", "containerfile.")) or lower.endswith(".dockerfile")


def instructions(text: str) -> Iterator[Instruction]:
    """The instructions of a Dockerfile, as its parser reads them: the escape character from
    a `# escape=` directive (default `\\`), comment and blank lines skipped (also inside a
    continuation), heredoc bodies (`RUN <<EOF ... EOF`) appended to their instruction."""
    lines = text.splitlines()
    escape = "\\"
    index = 0
    # parser directives: comments of the form `# name=value` before anything else
    while index < len(lines):
        directive = _DIRECTIVE.match(lines[index].strip())
        if directive is None:
            break
        if directive.group("name").lower() == "escape":
            escape = directive.group("value")[:1] or "\\"
        index += 1
    while index < len(lines):
        stripped = lines[index].strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        start = index
        parts: list[str] = []
        while index < len(lines):
            current = lines[index].rstrip()
            index += 1
            content = current.strip()
            if parts and (not content or content.startswith("#")):
                continue  # a comment or blank line inside a continuation is dropped
            if current.endswith(escape):
                parts.append(current[: -len(escape)])
                continue
            parts.append(current)
            break
        keyword, _, arguments = " ".join(part.strip() for part in parts).partition(" ")
        keyword = keyword.upper()
        if keyword in _HEREDOC_KEYWORDS:
            for heredoc in _HEREDOC.finditer(arguments):
                body: list[str] = []
                while index < len(lines) and lines[index].strip() != heredoc.group("word"):
                    body.append(lines[index])
                    index += 1
                index += 1  # the terminator
                arguments += "\n" + "\n".join(body)
        yield Instruction(start + 1, keyword, arguments.strip())


def _flags(arguments: str) -> tuple[dict[str, str], list[str]]:
    """`--name=value` flags before the operands, and the operands."""
    words = arguments.split()
    flags: dict[str, str] = {}
    while words and words[0].startswith("--"):
        name, _, value = words.pop(0)[2:].partition("=")
        flags[name.lower()] = value
    return flags, words


def _moving_tag(image: str) -> bool:
    """`python`, `python:latest`, `registry:5000/team/img` (no tag): not a version, and no
    digest to hold it."""
    if _DIGEST.search(image):
        return False
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return True
    return last.rsplit(":", 1)[1].lower() == "latest"


def scan_dockerfile(text: str, path: Path) -> list[RepoFinding]:
    """The findings of one Dockerfile."""
    found: list[RepoFinding] = []
    stages: list[_Stage] = []
    aliases: dict[str, int] = {}

    def add(rule: str, line: int, stage: int, keyword: str, n: int, message: str) -> None:
        spec = RULES[rule]
        found.append(
            RepoFinding(
                rule,
                spec.severity,
                message,
                path,
                line,
                f"docker:{stage}:{keyword}:{n}",
                spec.controls,
            )
        )

    arguments: dict[str, str] = {}  # ARG defaults before the first FROM, which FROM may use
    for instruction in instructions(text):
        keyword = instruction.keyword
        if keyword == "ARG" and not stages:
            name, _, default = instruction.arguments.partition("=")
            if default:
                arguments[name.strip()] = default.strip().strip("\"'")
            continue
        if keyword == "FROM":
            _, operands = _flags(instruction.arguments)
            image = _ARG_REFERENCE.sub(
                lambda m: arguments.get(m.group("name"), m.group()), operands[0] if operands else ""
            )
            alias = (
                operands[2].lower() if len(operands) >= 3 and operands[1].upper() == "AS" else None
            )
            parent = aliases.get(image.lower())
            stage = _Stage(len(stages), instruction.line, image, alias, parent)
            if parent is not None:  # built on an earlier stage: its user carries over
                stage.user = stages[parent].user
                stage.user_line = stages[parent].user_line
                stage.user_where = stages[parent].user_where
            stages.append(stage)
            if alias:
                aliases[alias] = stage.index
            stage.counts["FROM"] = 1
            if (
                parent is None
                and image
                and image.lower() != "scratch"
                and "$" not in image  # `FROM ${BASE}`: decided by a build argument
                and _moving_tag(image)
            ):
                add(
                    "repo/docker-latest",
                    instruction.line,
                    stage.index,
                    "FROM",
                    0,
                    f"FROM {image}: a moving tag and no digest; pin a version and @sha256:<digest>",
                )
            continue
        if not stages:
            continue
        stage = stages[-1]
        n = stage.counts.get(keyword, 0)
        stage.counts[keyword] = n + 1
        if keyword == "USER":
            stage.user = instruction.arguments.split()[0] if instruction.arguments else ""
            stage.user_line = instruction.line
            stage.user_where = (stage.index, n)
        elif keyword == "RUN":
            script = instruction.arguments
            if _PIPED.search(script) or _SUBSTITUTED.search(script):
                add(
                    "repo/docker-curl-pipe-shell",
                    instruction.line,
                    stage.index,
                    "RUN",
                    n,
                    "RUN pipes a downloaded script into an interpreter; download it, check its "
                    "checksum, then run it",
                )
        elif keyword == "ADD":
            flags, operands = _flags(instruction.arguments)
            sources = _json_operands(instruction.arguments) or operands[:-1]
            remote = [s for s in sources if _REMOTE.match(s)]
            if remote and "checksum" not in flags:
                add(
                    "repo/docker-add-url",
                    instruction.line,
                    stage.index,
                    "ADD",
                    n,
                    f"ADD {remote[0]} without --checksum",
                )

    if stages:
        final = stages[-1]
        user = (final.user or "").split(":", 1)[0].strip().lower()
        if final.user is None:
            if "nonroot" not in final.image.lower():  # distroless :nonroot images set a user
                add(
                    "repo/docker-root",
                    final.line,
                    final.index,
                    "FROM",
                    0,
                    "the final stage sets no USER, so the container runs as root",
                )
        elif user in _ROOT_USERS:
            line = final.user_line or final.line
            where_stage, n = final.user_where
            add(
                "repo/docker-root",
                line,
                where_stage,
                "USER",
                n,
                f"the final stage's last USER is {final.user}: it runs as root",
            )
    return found


def _json_operands(arguments: str) -> list[str]:
    """The sources of the exec form, `ADD ["https://...", "/dst"]` (without its flags)."""
    _, operands = _flags(arguments)
    text = " ".join(operands)
    if not text.startswith("["):
        return []
    items = re.findall(r'"((?:[^"\\]|\\.)*)"', text)
    return items[:-1]
