"""Dependencies as manifests and lockfiles state them, and what is wrong with how they are
pinned.

Read: `requirements*.txt` (pip's format: options, continuations, hashes, markers, VCS and URL
lines), `pyproject.toml` (PEP 621 `[project]` dependencies and optional dependencies, PEP 735
`[dependency-groups]`, Poetry's dependency tables), Pipenv's `Pipfile` (`[packages]`,
`[dev-packages]`), `poetry.lock`, `uv.lock`, `Pipfile.lock` and conda's `environment.yml` (with
its `pip:` list). Files are parsed as data (tomllib, PyYAML's
safe loader, json), never evaluated, and `-r` includes are recorded, not followed: the walk
reads every manifest anyway, and following a path out of the tree is not ours to do.

Rules: an unpinned direct dependency, unless it is a range in `pyproject.toml` with a lockfile
beside it, or in a `Pipfile` with its `Pipfile.lock` beside it (ranges are how a project
declares what it works with; the lock pins them); a
requirements file that pins without `--hash` (a version pin still trusts whatever file the
index serves for it).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import InvalidRequirement, Requirement

from custos.findings import Rule, Severity
from custos.repo.model import Dependency, Ecosystem, RepoFinding, Unreadable

CONTROLS = ("custos:ai:ml-dependencies", "iso27002:2022:5.21", "iso27002:2022:8.8")

RULES: Mapping[str, Rule] = {
    "repo/unpinned-dependency": Rule(
        Severity.medium,
        "A direct dependency is not pinned to an exact version: every install may resolve a "
        "different release, including a compromised or breaking one. Pin it (==) or install "
        "from a lockfile.",
        CONTROLS,
    ),
    "repo/unhashed-requirements": Rule(
        Severity.low,
        "A requirements file pins versions without --hash: pip accepts whatever file the index "
        "serves for that version. Generate hashes (pip-compile --generate-hashes, uv pip "
        "compile --generate-hashes) and install with --require-hashes.",
        CONTROLS,
    ),
}

LOCKFILES = frozenset({"poetry.lock", "uv.lock", "Pipfile.lock"})
# Locks that make pyproject.toml ranges fine, including one we do not read.
_PINNING_LOCKS = LOCKFILES | {"pdm.lock"}
# A manifest whose ranges the named locks pin, when one sits in the same folder.
_LOCKED_BY = {"pyproject.toml": _PINNING_LOCKS, "Pipfile": frozenset({"Pipfile.lock"})}
_ENVIRONMENTS = frozenset({"environment.yml", "environment.yaml"})
_PIPFILE_SECTIONS = ("packages", "dev-packages")
_VCS_KEYS = ("git", "hg", "svn", "bzr")
_CONDA_TOOLS = frozenset({"python", "pip"})  # the interpreter and installer, not libraries

_NORMAL = re.compile(r"[-_.]+")
_COMMENT = re.compile(r"(?:^|\s)#.*$")
_OPTION = re.compile(r"\s--?[A-Za-z]")  # the first per-requirement option (`--hash=...`)
_HASH = re.compile(r"--hash[=\s]+\S+")
_INCLUDE = re.compile(r"^(?:-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=\S))(?P<file>\S+)")
_EDITABLE = re.compile(r"^(?:-e|--editable)(?:\s*=\s*|\s+)")
_WRITTEN_SPEC = re.compile(r"^\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?\s*(?P<spec>[^;]*)")
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_SHA1 = re.compile(r"[0-9a-fA-F]{40}")
_EGG = re.compile(r"[#&]egg=(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)")
_VCS = ("git+", "hg+", "svn+", "bzr+")
_TOML_POSITION = re.compile(r"\(at line (?P<line>\d+), column \d+\)")
_POETRY_EXACT = re.compile(r"^\s*(?:==?)?\s*v?\d[\w.!+-]*\s*$")  # "1.2.3", "==1.2.3", "=1.2.3"
_CONDA_SPEC = re.compile(r"^(?P<name>[A-Za-z0-9_][A-Za-z0-9_.\-]*)\s*(?P<rest>.*)$")


def normalise(name: str) -> str:
    """PEP 503: lower case, runs of `-`, `_`, `.` as one `-`."""
    return _NORMAL.sub("-", name).lower()


def is_manifest(name: str) -> bool:
    """Whether a file of this name is a manifest or lockfile this module reads."""
    lower = name.lower()
    return (
        ("requirements" in lower and lower.endswith(".txt"))
        or name in ("pyproject.toml", "Pipfile", *LOCKFILES)
        or lower in _ENVIRONMENTS
    )


def parse_dependencies(text: str, path: Path) -> list[Dependency]:
    """The dependencies a manifest or lockfile states. Raises Unreadable (with a line when the
    parser gives one) for malformed TOML, YAML or JSON."""
    name = path.name
    lower = name.lower()
    if name == "pyproject.toml":
        return _pyproject(_toml(text), text, path)
    if name == "poetry.lock":
        return _poetry_lock(_toml(text), text, path)
    if name == "uv.lock":
        return _uv_lock(_toml(text), text, path)
    if name == "Pipfile.lock":
        return _pipfile_lock(text, path)
    if name == "Pipfile":
        return _pipfile(_toml(text), text, path)
    if lower in _ENVIRONMENTS:
        return _environment(text, path)
    if lower.endswith(".txt"):
        return _requirements(text, path)
    return []


def included_files(text: str, path: Path) -> list[Path]:
    """The files a requirements file includes (`-r`, `-c`), relative to it, not followed."""
    found = []
    for _, line in _logical_lines(text):
        include = _INCLUDE.match(line)
        if include:
            found.append(path.parent / include.group("file"))
    return found


# -- requirements files -------------------------------------------------------------------------


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(1-based first line, text without comment) of each logical line: continuations joined
    as pip joins them, comments (`#` at the start or after a blank) removed."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if raw.endswith("\\") and not _COMMENT.search(raw):
            pending.append(raw[:-1])
            continue
        pending.append(raw)
        line = _COMMENT.sub("", " ".join(pending)).strip()
        pending = []
        if line:
            yield start, line
    if pending:
        line = _COMMENT.sub("", " ".join(pending)).strip()
        if line:
            yield start, line


def _requirements(
    text: str, path: Path, *, line: int | None = None, ecosystem: Ecosystem = "PyPI"
) -> list[Dependency]:
    found = []
    for number, logical in _logical_lines(text):
        dependency = _requirement_line(logical, path, line or number, ecosystem)
        if dependency is not None:
            found.append(dependency)
    return found


def _requirement_line(
    logical: str, path: Path, number: int | None, ecosystem: Ecosystem
) -> Dependency | None:
    """One logical line of a requirements file, or None for options, includes, local paths
    and what pip would not parse either."""
    if _INCLUDE.match(logical):
        return None
    editable = _EDITABLE.match(logical)
    body = logical[editable.end() :] if editable else logical
    if not editable and body.startswith("-"):
        return None  # --index-url, --find-links, --pre, ...: options for the whole file
    option = _OPTION.search(body)
    requirement, options = (
        (body[: option.start()], body[option.start() :]) if option else (body, "")
    )
    requirement = requirement.strip()
    hashed = _HASH.search(options) is not None
    if editable or _is_location(requirement):
        return _location(requirement, editable is not None, hashed, path, number, ecosystem)
    try:
        parsed = Requirement(requirement)
    except InvalidRequirement:
        return None  # e.g. a template placeholder; pip would reject the file
    if parsed.url:
        url = _USERINFO.sub("", parsed.url)
        pinned = _vcs_commit(parsed.url)
        return Dependency(
            normalise(parsed.name), f"@ {url}", None, pinned, hashed, ecosystem, path, number
        )
    version = _exact(parsed)
    written = _WRITTEN_SPEC.match(requirement)
    spec = written.group("spec").strip() if written else str(parsed.specifier)
    return Dependency(
        normalise(parsed.name), spec, version, version is not None, hashed, ecosystem, path, number
    )


def _is_location(requirement: str) -> bool:
    lower = requirement.lower()
    return (
        lower.startswith((*_VCS, "file:", ".", "/", "~"))
        or "://" in lower.split("@", 1)[0]
        or (len(lower) > 1 and lower[1] == ":")  # a Windows path
    )


def _location(
    requirement: str,
    editable: bool,
    hashed: bool,
    path: Path,
    number: int | None,
    ecosystem: Ecosystem,
) -> Dependency | None:
    """A VCS, URL or path requirement (`-e git+https://...#egg=name`, `./pkg`); local paths
    are the project's own code and are not recorded."""
    lower = requirement.lower()
    remote = lower.startswith(_VCS) or "://" in lower
    if not remote or lower.startswith("file:"):
        return None
    egg = _EGG.search(requirement)
    if egg:
        name = egg.group("name")
    else:
        tail = requirement.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        name = tail.split("@", 1)[0].removesuffix(".git")
        if name.endswith((".whl", ".tar.gz", ".zip")):
            name = name.split("-", 1)[0]
    if not name:
        return None
    url = _USERINFO.sub("", requirement)
    spec = f"-e {url}" if editable else url
    return Dependency(
        normalise(name), spec, None, _vcs_commit(requirement), hashed, ecosystem, path, number
    )


def _vcs_commit(url: str) -> bool:
    """A VCS URL that names a full commit (`git+https://host/repo@<40 hex>`): pinned."""
    lower = url.lower()
    if not lower.startswith(_VCS):
        return False
    address = url.split("#", 1)[0]
    _, _, rest = address.partition("://")
    ref = rest.rsplit("@", 1)[1] if "@" in rest.split("/", 1)[-1] else ""
    return _SHA1.fullmatch(ref) is not None


def _exact(requirement: Requirement) -> str | None:
    """The version when the specifier pins one exactly (`==X` without a wildcard, `===X`)."""
    for specifier in requirement.specifier:
        if specifier.operator == "===" or (
            specifier.operator == "==" and "*" not in specifier.version
        ):
            return specifier.version
    return None


# -- TOML: pyproject.toml, poetry.lock, uv.lock -------------------------------------------------


def _toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _TOML_POSITION.search(message)
        line = int(position.group("line")) if position else None
        raise Unreadable(f"invalid TOML: {_TOML_POSITION.sub('', message).strip()}", line) from exc
    except RecursionError:  # tomllib recurses into nested arrays and inline tables
        raise Unreadable("invalid TOML: nested too deeply to parse") from None


class _Lines:
    """Finds the line of a value in the text, for formats whose parsers give none: the first
    line holding it that no earlier value took, at or after a starting line."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.taken: set[tuple[int, str]] = set()
        self.index: dict[str, list[int]] | None = None

    def find(self, needle: str, start: int = 0) -> int | None:
        for index in range(start, len(self.lines)):
            if needle in self.lines[index] and (index, needle) not in self.taken:
                self.taken.add((index, needle))
                return index + 1
        return None

    def exact(self, wanted: str) -> int | None:
        """The first line that is `wanted` (stripped), not taken before: a lock's `name = "x"`
        of a package, not the `{ name = "x" }` of a dependency list. Indexed on first use, as
        a lock has hundreds of packages."""
        if self.index is None:
            self.index = {}
            for number, line in enumerate(self.lines, 1):
                self.index.setdefault(line.strip(), []).append(number)
        numbers = self.index.get(wanted)
        return numbers.pop(0) if numbers else None

    def header(self, table: str) -> int:
        """0-based index of the line after `[table]`, or 0."""
        for index, line in enumerate(self.lines):
            if line.strip().replace(" ", "") == f"[{table}]":
                return index + 1
        return 0

    def key(self, name: str, start: int) -> int | None:
        pattern = re.compile(rf"""^\s*["']?{re.escape(name)}["']?\s*=""")
        for index in range(start, len(self.lines)):
            if pattern.match(self.lines[index]):
                return index + 1
            if index > start and self.lines[index].lstrip().startswith("["):
                break
        return None


def _pyproject(data: dict[str, Any], text: str, path: Path) -> list[Dependency]:
    lines = _Lines(text)
    found: list[Dependency] = []
    project = _table(data.get("project"))
    strings: list[object] = list(_list(project.get("dependencies")))
    for group in _table(project.get("optional-dependencies")).values():
        strings.extend(_list(group))
    for group in _table(data.get("dependency-groups")).values():
        strings.extend(item for item in _list(group) if isinstance(item, str))
    for item in strings:
        if not isinstance(item, str):
            continue
        number = lines.find(f'"{item}"') or lines.find(f"'{item}'")
        dependency = _requirement_line(item, path, number, "PyPI")
        if dependency is not None:
            found.append(dependency)
    poetry = _table(_table(data.get("tool")).get("poetry"))
    tables = [
        ("tool.poetry.dependencies", poetry.get("dependencies")),
        ("tool.poetry.dev-dependencies", poetry.get("dev-dependencies")),
    ]
    for group, body in _table(poetry.get("group")).items():
        tables.append((f"tool.poetry.group.{group}.dependencies", _table(body).get("dependencies")))
    for header, table in tables:
        start = lines.header(header)
        for name, constraint in _table(table).items():
            if name.lower() == "python":
                continue  # the interpreter range, not a package
            dependency = _poetry_dependency(name, constraint, path, lines.key(name, start))
            if dependency is not None:
                found.append(dependency)
    return found


def _poetry_dependency(
    name: str, constraint: object, path: Path, line: int | None
) -> Dependency | None:
    """Poetry's forms: `"^1.2"`, `"1.2.3"` (exact), `{version = ...}`, `{git = ..., rev = ...}`,
    `{path = ...}` (local: not recorded), or a list of alternatives (pinned if all are)."""
    entries = constraint if isinstance(constraint, list) else [constraint]
    pins: list[tuple[str, str | None]] = []
    for entry in entries:
        if isinstance(entry, str):
            pins.append((entry, _poetry_exact(entry)))
        elif isinstance(entry, dict):
            if "path" in entry:
                return None
            if "git" in entry:
                rev = str(entry.get("rev") or entry.get("tag") or entry.get("branch") or "")
                url = _USERINFO.sub("", str(entry["git"]))
                spec = f"@ git+{url}@{rev}" if rev else f"@ git+{url}"
                pins.append((spec, rev if _SHA1.fullmatch(rev) else None))
            elif "url" in entry:
                pins.append((f"@ {_USERINFO.sub('', str(entry['url']))}", None))
            else:
                version = str(entry.get("version", ""))
                pins.append((version, _poetry_exact(version)))
    if not pins:
        return None
    pinned = all(version is not None for _, version in pins)
    exact = pins[0][1] if pinned and len(pins) == 1 else None
    spec = " || ".join(spec for spec, _ in pins)
    return Dependency(normalise(name), spec, exact, pinned, False, "PyPI", path, line)


def _poetry_exact(constraint: str) -> str | None:
    if _POETRY_EXACT.match(constraint) and "*" not in constraint:
        return constraint.strip().lstrip("=").strip()
    return None


def _poetry_lock(data: dict[str, Any], text: str, path: Path) -> list[Dependency]:
    lines = _Lines(text)
    legacy = _table(_table(data.get("metadata")).get("files"))  # poetry < 1.5 kept them here
    found = []
    for package in _list(data.get("package")):
        if not isinstance(package, dict) or "name" not in package:
            continue
        name = str(package["name"])
        version = str(package["version"]) if "version" in package else None
        files = _list(package.get("files")) or _list(legacy.get(name))
        hashed = any(isinstance(f, dict) and f.get("hash") for f in files)
        spec = f"=={version}" if version else ""
        found.append(_locked(name, spec, version, hashed, path, lines.exact(f'name = "{name}"')))
    return found


def _uv_lock(data: dict[str, Any], text: str, path: Path) -> list[Dependency]:
    """uv's lock: the project itself (an editable or virtual source) lists what it declares,
    so those packages are direct."""
    lines = _Lines(text)
    packages = [p for p in _list(data.get("package")) if isinstance(p, dict) and "name" in p]
    declared: set[str] = set()
    for package in packages:
        source = _table(package.get("source"))
        if "editable" in source or "virtual" in source:
            groups = [_list(package.get("dependencies"))]
            groups += [_list(g) for g in _table(package.get("optional-dependencies")).values()]
            groups += [_list(g) for g in _table(package.get("dev-dependencies")).values()]
            declared.update(
                normalise(str(d["name"]))
                for g in groups
                for d in g
                if isinstance(d, dict) and "name" in d
            )
    found = []
    for package in packages:
        source = _table(package.get("source"))
        name = str(package["name"])
        if "editable" in source or "virtual" in source or "path" in source or "directory" in source:
            lines.exact(f'name = "{name}"')  # the project's own entry; keep lines in step
            continue
        version = str(package["version"]) if "version" in package else None
        artifacts = [_table(package.get("sdist")), *map(_table, _list(package.get("wheels")))]
        hashed = any(a.get("hash") for a in artifacts)
        spec = f"=={version}" if version else ""
        line = lines.exact(f'name = "{name}"')
        found.append(_locked(name, spec, version, hashed, path, line, normalise(name) in declared))
    return found


# -- Pipfile, Pipfile.lock, environment.yml -----------------------------------------------------


def _pipfile(data: dict[str, Any], text: str, path: Path) -> list[Dependency]:
    """Pipenv's manifest: `name = "*"`, `name = "==1.2"` (a PEP 440 specifier),
    `{version = ..., extras = [...]}`, `{git = ..., ref = ...}` (pinned at a 40-hex commit),
    `{file = <url>}`; `{path = ...}` and local files are the project's own, not recorded."""
    lines = _Lines(text)
    found = []
    for section in _PIPFILE_SECTIONS:
        start = lines.header(section)
        for name, entry in _table(data.get(section)).items():
            dependency = _pipfile_entry(name, entry, path, lines.key(name, start))
            if dependency is not None:
                found.append(dependency)
    return found


def _pipfile_entry(name: str, entry: object, path: Path, line: int | None) -> Dependency | None:
    if isinstance(entry, dict):
        if "path" in entry:
            return None
        vcs = next((key for key in _VCS_KEYS if key in entry), None)
        if vcs is not None:
            ref = str(entry.get("ref", ""))
            url = _USERINFO.sub("", str(entry[vcs]))
            spec = f"@ {vcs}+{url}@{ref}" if ref else f"@ {vcs}+{url}"
            pinned = _SHA1.fullmatch(ref) is not None
            return Dependency(normalise(name), spec, None, pinned, False, "PyPI", path, line)
        if "file" in entry:
            location = str(entry["file"])
            if "://" not in location or location.lower().startswith("file:"):
                return None  # a local file
            url = f"@ {_USERINFO.sub('', location)}"
            return Dependency(normalise(name), url, None, False, False, "PyPI", path, line)
        entry = entry.get("version", "*")
    if not isinstance(entry, str):
        return None
    spec = entry.strip()
    version = None
    if spec not in ("", "*"):
        try:
            version = _exact(Requirement(f"x {spec}"))
        except InvalidRequirement:
            version = None  # not a specifier pip would take: not a pin either
    return Dependency(normalise(name), spec, version, version is not None, False, "PyPI", path,
                      line)  # fmt: skip


def _pipfile_lock(text: str, path: Path) -> list[Dependency]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Unreadable(f"invalid JSON: {exc.msg}", exc.lineno) from exc
    lines = _Lines(text)
    found = []
    for section in ("default", "develop"):
        for name, entry in _table(_table(data).get(section)).items():
            if not isinstance(entry, dict) or "path" in entry:
                continue
            number = lines.find(f"{json.dumps(name)}: {{") or lines.find(json.dumps(name))
            hashed = bool(_list(entry.get("hashes")))
            if "git" in entry:
                ref = str(entry.get("ref", ""))
                url = _USERINFO.sub("", str(entry["git"]))
                pinned = _SHA1.fullmatch(ref) is not None
                spec = f"@ git+{url}@{ref}"
                found.append(_locked(name, spec, ref if pinned else None, hashed, path, number))
                continue
            written = str(entry.get("version", ""))
            version = written[2:] if written.startswith("==") and "*" not in written else None
            found.append(_locked(name, written, version, hashed, path, number))
    return found


def _locked(
    name: str,
    spec: str,
    version: str | None,
    hashed: bool,
    path: Path,
    line: int | None,
    direct: bool = False,
) -> Dependency:
    """A lockfile's entry: pinned when it records a version (or a commit)."""
    pinned = version is not None
    return Dependency(normalise(name), spec, version, pinned, hashed, "PyPI", path, line, direct)


def _environment(text: str, path: Path) -> list[Dependency]:
    """conda's environment file: match specs (`numpy=1.26.4`, `conda-forge::pytorch>=2`) and
    pip requirements under `pip:`, each at its line (from the YAML node)."""
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise Unreadable(f"invalid YAML: {problem}", mark.line + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        raise Unreadable(f"invalid YAML: {exc}") from exc
    found: list[Dependency] = []
    items = _mapping_value(root, "dependencies")
    if not isinstance(items, yaml.SequenceNode):
        return found
    for item in items.value:
        line = item.start_mark.line + 1
        if isinstance(item, yaml.ScalarNode):
            dependency = _conda(str(item.value), path, line)
            if dependency is not None:
                found.append(dependency)
            continue
        pip = _mapping_value(item, "pip")
        if isinstance(pip, yaml.SequenceNode):
            for entry in pip.value:
                if isinstance(entry, yaml.ScalarNode):
                    found.extend(
                        _requirements(str(entry.value), path, line=entry.start_mark.line + 1)
                    )
    return found


def _conda(spec: str, path: Path, line: int) -> Dependency | None:
    """A conda match spec. Pinned: `==X`, `=X=build`, `name X build`, or `=X` / `name X` with a
    full version (three or more parts): conda reads `=1.26.4` as 1.26.4 and its rebuilds, but
    `=1.26` as any 1.26.x."""
    text = spec.strip().split("#", 1)[0].strip()
    if "::" in text:
        text = text.split("::", 1)[1]
    found = _CONDA_SPEC.match(text)
    if found is None:
        return None
    name, rest = found.group("name"), found.group("rest").strip()
    version: str | None = None
    if rest.startswith("==") and "*" not in rest:
        version = rest[2:].split("=", 1)[0].strip()
    elif rest.startswith("=") and not rest.startswith("=="):
        parts = rest[1:].split("=")
        exact = parts[0].strip()
        if "*" not in exact and exact and (len(parts) > 1 or exact.count(".") >= 2):
            version = exact
    elif rest and rest[0].isdigit():  # "numpy 1.26.4 py311h64a7726_0"
        parts = rest.split()
        exact = parts[0]
        if not re.search(r"[*<>=!,|]", exact) and (len(parts) > 1 or exact.count(".") >= 2):
            version = exact
    return Dependency(name.lower(), rest, version, version is not None, False, "conda", path, line)


try:  # libyaml is several times faster; both are the safe loader
    _LOADER: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _LOADER = yaml.SafeLoader


def _mapping_value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                found: yaml.Node = v
                return found
    return None


def _table(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


# -- findings -----------------------------------------------------------------------------------


def declared(dependencies: Iterable[Dependency]) -> list[Dependency]:
    """The dependencies with lockfile entries marked direct where a manifest in the same
    folder declares the same package (the lock alone does not say so)."""
    deps = list(dependencies)
    named = {(d.path.parent, d.ecosystem, d.name) for d in deps if d.path.name not in LOCKFILES}
    return [
        replace(d, direct=True)
        if not d.direct
        and d.path.name in LOCKFILES
        and (d.path.parent, d.ecosystem, d.name) in named
        else d
        for d in deps
    ]


def dependency_findings(
    deps: list[Dependency], *, lockfiles_present: set[str]
) -> list[RepoFinding]:
    """`repo/unpinned-dependency` and `repo/unhashed-requirements` for the dependencies of a
    tree. A `pyproject.toml` with a lockfile in its folder may use ranges, and so may a
    `Pipfile` with a `Pipfile.lock`: the folders are those of the lockfiles' dependencies and of
    the paths in `lockfiles_present`; a bare file name there (`"uv.lock"`) whose folder no
    parsed dependency shows counts for every folder (other entries, `pyproject.toml` say, are
    ignored)."""
    locked: dict[str, set[Path]] = {}  # lock name -> the folders that hold one
    for d in deps:
        if d.path.name in LOCKFILES:
            locked.setdefault(d.path.name, set()).add(d.path.parent)
    located = set(locked)
    everywhere: set[str] = set()  # locks named without a folder
    for entry in lockfiles_present:
        lock = Path(entry)
        if lock.name not in _PINNING_LOCKS:
            continue
        if lock.parent != Path(".") or "/" in entry or "\\" in entry:
            locked.setdefault(lock.name, set()).add(lock.parent)
        elif lock.name not in located:
            everywhere.add(lock.name)
    found: list[RepoFinding] = []
    unhashed: dict[Path, Dependency] = {}
    for dep in deps:
        name = dep.path.name
        if not dep.direct or name in LOCKFILES:
            continue
        requirements = name.lower().endswith(".txt")
        if requirements and dep.pinned and not dep.hashed:
            unhashed.setdefault(dep.path, dep)
        if dep.pinned or (dep.ecosystem == "conda" and dep.name in _CONDA_TOOLS):
            continue
        locks = _LOCKED_BY.get(name)
        if locks is not None:
            if any(lock in everywhere or dep.path.parent in locked.get(lock, ()) for lock in locks):
                continue
            advice = (
                "pin it, or commit a lockfile (uv.lock, poetry.lock) beside pyproject.toml"
                if name == "pyproject.toml"
                else "pin it (==), or commit the Pipfile.lock beside the Pipfile"
            )
        else:
            advice = "pin an exact version (==) and, for pip, its hashes"
        _add(
            found,
            "repo/unpinned-dependency",
            dep.path,
            dep.line,
            f"dep:{dep.name}",
            f"{dep.name} is not pinned ({dep.spec or 'any version'}): {advice}",
        )
    for path, dep in unhashed.items():
        _add(
            found,
            "repo/unhashed-requirements",
            path,
            dep.line,
            f"dep:{path.name}",
            f"{path.name} pins versions without --hash (first: {dep.name}=={dep.version}): "
            "generate hashes and install with --require-hashes",
        )
    return found


def _add(
    found: list[RepoFinding], rule: str, path: Path, line: int | None, where: str, message: str
) -> None:
    spec = RULES[rule]
    found.append(RepoFinding(rule, spec.severity, message, path, line, where, spec.controls))
