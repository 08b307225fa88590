"""Secrets written into code, configuration files and notebook cells, found with the plug-ins of
Yelp's `detect-secrets`, run in-process on the text (no subprocess, no baseline, no network).

Which plug-ins, and why:

* the pattern plug-ins (AWS, GitHub, GitLab, Slack, Stripe, JWT, private keys, ...) on every
  line that might hold what they look for, except the public-IP one (an address is not a
  credential), plus a Hugging Face token pattern that detect-secrets 1.5 does not have;
* the keyword plug-in (`password = "..."`), with the file type's own assignment patterns;
* the entropy plug-ins only for a value assigned to a key named like a credential (token,
  credential, access key, auth...): elsewhere they flag every digest, UUID and base64 blob.

Speed: cheap screens over the whole text (substring searches for credential-like key names,
one pattern for long token-like runs) decide which lines the plug-ins see, and what parts of a
very long line; most files have none. A plug-in's `analyze_string` is called directly:
`scan_line` reconfigures global settings and builds a code snippet on every call, and
`analyze_line` may try to verify a secret over the network.

A secret never leaves this module whole: messages show its first characters and its length,
`where` its type and a SHA-256 prefix.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from custos.findings import Rule, Severity
from custos.repo.model import RepoFinding

CONTROLS = ("custos:ai:ml-secrets", "iso27002:2022:5.17", "iso27002:2022:8.4")

RULES: Mapping[str, Rule] = {
    "repo/secret": Rule(
        Severity.high,
        "A credential (API key, token, password, private key) is written into the repository: "
        "whoever can read the code holds it. Revoke it, then load it from the environment or a "
        "secret store.",
        CONTROLS,
    ),
}

_SKIPPED_PLUGINS = frozenset({"IPPublicDetector"})
_HF_TYPE = "Hugging Face Token"
_HF_TOKEN = re.compile(r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{34,40}(?![A-Za-z0-9])")

# Keys whose values are credentials: the entropy plug-ins look at their values only.
_SECRET_KEY = re.compile(
    r"(?:^|_)(?:password|passwd|pwd|secret|token|api_?key|apikey|access_?key|private_?key"
    r"|secret_?key|credentials?|auth|authorization|auth_?token|bearer|secrets|passwords)$"
)
# `secret_name: db-creds`, `password_file: /run/secrets/pw`: the key names where a secret is,
# not the secret.
_NOT_SECRET_SUFFIX = frozenset({
    "file", "files", "path", "paths", "name", "names", "dir", "env", "var", "vars", "ref",
    "length", "len", "type", "field", "prompt", "policy", "hint", "label", "template",
    "manager", "store", "provider", "arn", "version", "regex", "pattern", "mount", "volume",
    "required", "enabled", "disabled", "rotation", "header", "param", "params", "url", "uri",
    "endpoint", "expiry", "expires", "ttl", "scope", "scopes", "count", "limit", "format",
    "encoding", "min", "max", "size", "algorithm",
})  # fmt: skip
_ASSIGNED_KEY = re.compile(
    r"""(?P<key>[A-Za-z_][\w.-]*)["'\]]*\s*(?::=|=>|[!=]{1,3}|:)\s*[@rbuRBU]?["'`]?\s*$"""
)
_VALUE_AFTER_KEY = re.compile(
    r"""(?P<key>[A-Za-z_][\w.-]*)["'\]]*\s*(?::=|=>|=|:)\s*[rbuRBU]?(?P<q>["'`]?)"""
    r"""(?:(?:Bearer|Basic|token)\s+)?(?P<value>[A-Za-z0-9+/=_\-.~]{12,})(?P=q)(?![\w.])"""
)
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")

# Text that stands for a secret without being one.
_PLACEHOLDER = re.compile(
    r"""(?:change_?me|changeit|example|dummy|placeholder|redacted|replace_?me|^(?:your|my)[-_ ]
    |fake|sample|insert|todo|fixme|xxx|\*\*\*|\.\.\.|\u2026|<[^<>]*>|\$\{[^}]*\}|\{\{.*\}\}
    |%\([^)]*\)s|\$\(|^\$[A-Za-z_]|os\.environ|getenv|environ\[|env\(|secrets\.|vault:
    |deadbeef|^(?:none|null|nil|true|false|password|passwd|pass|pw|pwd|secret|token|test|string
    |str|bytes|undefined|user|username|admin)$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]{2,}")  # `API_KEY=OPENAI_API_KEY`: a variable's name

# The screens of `_candidate_lines`.
_KEYWORD_LITERALS = ("pass", "pwd", "secret", "token", "credential", "auth", "bearer", "key",
                     "contrase")  # fmt: skip
_KEY_PREFIX_END = frozenset("abcdefghijklmnopqrstuvwxyz_-")  # `api_key`, not `key` or `keys`
# code: a quoted value after an assignment, comparison or call (`api_key = "..."`,
# `secret("...")`); configuration files: any value (`password: hunter2`)
_ASSIGNMENT_AFTER = re.compile(r"""\w*["'\]]*\s*(?:[:=!]=?=?=?|=>|\(|\s)\s*[@rbuf]{0,2}["'`]""")
_CONFIG_ASSIGNMENT_AFTER = re.compile(r"""\w*["'\]]*\s*(?:[:=!]|=>|\s["'])""")
_RUN = re.compile(r"[A-Za-z0-9+/_\-]{20,}")
_DIGIT = re.compile(r"\d")
_HEXLIKE = re.compile(r"[0-9a-fA-F_\-]+|[0-9+/_\-]+")
_TOKEN, _NAMED = 1, 2
# Lines longer than this are looked at in windows around what the screens marked.
_LONG_LINE = 4000
_WINDOW_BEFORE, _WINDOW_AFTER = 300, 2000
_URL_CREDENTIALS = re.compile(r"://[^\s/@:{}]+:[^\s/@{}]+@")
_ALLOWLISTED = re.compile(r"pragma:\s*allowlist[ -]secret", re.IGNORECASE)
_ALLOW_NEXT = re.compile(r"pragma:\s*allowlist[ -]nextline[ -]secret", re.IGNORECASE)
_PEM_END = re.compile(r"-----END[ A-Z0-9]*-----")
_PEM_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]*-----")
_NON_BASE64 = re.compile(r"\\[nr]|[^A-Za-z0-9+/=]")

# Priorities: a type-specific pattern names the secret better than the keyword plug-in, and
# both better than an entropy guess; one secret is reported once per line.
_SPECIFIC, _KEYWORD, _ENTROPY = 0, 1, 2


@dataclass(frozen=True)
class _Hit:
    line: int  # 0-based, in the text
    column: int  # 0-based
    kind: str
    secret: str
    rank: int


class _Plugins:
    """detect-secrets' plug-ins, instantiated once per process."""

    def __init__(self) -> None:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
        from detect_secrets.filters import heuristic
        from detect_secrets.plugins.base import RegexBasedDetector
        from detect_secrets.plugins.high_entropy_strings import (
            Base64HighEntropyString,
            HexHighEntropyString,
        )
        from detect_secrets.plugins.keyword import KeywordDetector

        classes: list[Any] = sorted(
            get_mapping_from_secret_type_to_class().values(), key=lambda c: c.__name__
        )
        self.patterns: tuple[Any, ...] = tuple(
            c()
            for c in classes
            if issubclass(c, RegexBasedDetector) and c.__name__ not in _SKIPPED_PLUGINS
        )
        self.keyword = KeywordDetector()
        # Only values of keys named like credentials reach it, so it may be less strict than
        # its default (4.5), which misses one random 40-character token in ten.
        self.base64 = Base64HighEntropyString(limit=4.0)
        self.hex = HexHighEntropyString()
        self.heuristic = heuristic


@functools.cache
def _plugins() -> _Plugins:
    return _Plugins()


@functools.cache
def _keyword_patterns(suffix: str, name: str) -> dict[re.Pattern[str], int]:
    """The keyword plug-in's assignment patterns for a kind of file: unquoted values count in
    configuration files (YAML, .env, INI, TOML), only quoted ones in code."""
    from detect_secrets.plugins import keyword
    from detect_secrets.util.filetype import determine_file_type

    if name == ".env" or name.startswith(".env.") or suffix in (".env", ".sh", ".bash"):
        return _config_patterns()
    found: dict[re.Pattern[str], int] = keyword.REGEX_BY_FILETYPE.get(
        determine_file_type(f"x{suffix}"), keyword.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP
    )
    return found


@functools.cache
def _config_patterns() -> dict[re.Pattern[str], int]:
    from detect_secrets.plugins import keyword

    found: dict[re.Pattern[str], int] = keyword.CONFIG_DENYLIST_REGEX_TO_GROUP
    return found


def mask(secret: str) -> str:
    """Enough of a secret to recognise it, never the secret: up to 4 leading characters (fewer
    for a short one, so that a short password is never mostly shown) and the length."""
    keep = min(4, len(secret) // 4)
    return f"{secret[:keep]}\u2026({len(secret)} chars)"


def fingerprint(line: str, secret: str) -> str:
    """What identifies a secret's finding across runs: its line with the secret cut out. Not
    the secret itself: a digest of a short password in a SARIF file could be brute-forced by
    whoever reads the file, and a rotated secret left on the same line is the same alert."""
    context = line.replace(secret, "\0").strip()
    return hashlib.sha256(context.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _snake(name: str) -> str:
    return _CAMEL.sub(r"_\1", name.rsplit(".", 1)[-1]).replace("-", "_").lower()


def _is_placeholder(secret: str) -> bool:
    text = secret.strip()
    return (
        len(text) < 4
        or _PLACEHOLDER.search(text) is not None
        or _ENV_NAME.fullmatch(text) is not None
        or len(set(text.lower())) <= 2  # "aaaaaaaa", "0000", "-----"
    )


def _key_of(line: str, column: int) -> str | None:
    found = _ASSIGNED_KEY.search(line, 0, column)
    return _snake(found.group("key")) if found else None


def _named_value_only(key: str | None) -> bool:
    """The key names where a secret lives (`password_file`), not a secret."""
    return key is not None and key.rsplit("_", 1)[-1] in _NOT_SECRET_SUFFIX


def _pem_body(line: str, lines: list[str], start: int, column: int) -> str:
    """The base64 body of a private key block starting in `line` (`lines[start]`, or a window
    of it): the text after the header, up to the END line. Empty when the header stands
    alone, e.g. in code that recognises keys."""
    body: list[str] = []
    first = line[max(column - 5, 0) :]
    header = _PEM_BEGIN.search(first)
    first = first[header.end() :] if header else first
    for index in range(start, min(start + 200, len(lines))):
        text = first if index == start else lines[index]
        end = _PEM_END.search(text)
        body.append(text[: end.start()] if end else text)
        if end:
            break
    joined = _NON_BASE64.sub("", "".join(body))
    # PEM headers such as `Proc-Type: 4,ENCRYPTED` leave a few letters; a key is hundreds.
    return joined if len(joined) >= 64 else ""


def _matches(plugin: Any, line: str) -> Iterator[tuple[int, str]]:
    """(column, secret) for each match of a pattern plug-in. Its own `analyze_string` yields
    the groups of a pattern, which for some is only the prefix (`ghp` of a GitHub token, `glpat`
    of a GitLab one): a group counts when it is not at the start of the match, so it is what
    follows a key or a scheme (AWS secret keys, URL passwords), else the whole match does."""
    if type(plugin).analyze_string is not _regex_analyze_string():
        for secret in plugin.analyze_string(line):  # JWTs: checked to be well-formed
            if secret:
                yield max(line.find(secret), 0), secret
        return
    for pattern in plugin.denylist:
        for found in pattern.finditer(line):
            groups = [g for g in range(1, (pattern.groups or 0) + 1) if found.group(g)]
            inner = [g for g in groups if found.start(g) > found.start()]
            if inner:
                best = max(inner, key=lambda g: len(found.group(g)))
                yield found.start(best), found.group(best)
            elif found.group():
                yield found.start(), found.group()


@functools.cache
def _regex_analyze_string() -> Any:
    from detect_secrets.plugins.base import RegexBasedDetector

    return RegexBasedDetector.analyze_string


def _token_hits(plugins: _Plugins, line: str, lines: list[str], index: int) -> Iterator[_Hit]:
    """What the pattern plug-ins (and the Hugging Face pattern) find on a line (`lines[index]`,
    or a window of it)."""
    heuristic = plugins.heuristic
    for plugin in plugins.patterns:
        if not any(pattern.search(line) for pattern in plugin.denylist):
            continue  # most lines: one search per pattern, nothing else
        for column, found in _matches(plugin, line):
            secret = found.strip()
            if type(plugin).__name__ == "PrivateKeyDetector":
                secret = _pem_body(line, lines, index, column)
                if not secret:
                    continue
            elif (
                len(secret) < 4
                or "example" in secret.lower()  # AWS's documented AKIAIOSFODNN7EXAMPLE
                or heuristic.is_templated_secret(secret)  # `{token}`, `${TOKEN}`
                or (type(plugin).__name__ == "BasicAuthDetector" and _is_placeholder(secret))
            ):
                continue
            yield _Hit(index, column, plugin.secret_type, secret, _SPECIFIC)
    for match in _HF_TOKEN.finditer(line):
        yield _Hit(index, match.start(), _HF_TYPE, match.group(), _SPECIFIC)


def _named_hits(
    plugins: _Plugins, line: str, index: int, keyword: dict[re.Pattern[str], int]
) -> Iterator[_Hit]:
    """What the keyword plug-in finds on a line, and values of keys named like credentials
    that the entropy plug-ins find random enough (in code, quoted ones only: an unquoted value
    there is a name, `embed_tokens = Embedding(...)`)."""
    unquoted = keyword is _config_patterns()
    heuristic = plugins.heuristic
    for secret in plugins.keyword.analyze_string(line, denylist_regex_to_group=keyword):
        if not secret:
            continue
        secret = secret.strip()
        column = max(line.find(secret), 0)
        key = _key_of(line, column)
        if (
            _is_placeholder(secret)
            or _named_value_only(key)
            or _snake(secret) == key  # `apiKey = "apiKey"`
            or secret.startswith(("/", "./", "~/", "http://", "https://"))
            or heuristic.is_templated_secret(secret)
            or heuristic.is_prefixed_with_dollar_sign(secret)
            or heuristic.is_sequential_string(secret)
            or heuristic.is_not_alphanumeric_string(secret)
            or heuristic.is_indirect_reference(line)  # `password = get_secret()`
        ):
            continue
        yield _Hit(index, column, plugins.keyword.secret_type, secret, _KEYWORD)

    for found in _VALUE_AFTER_KEY.finditer(line):
        key = _snake(found.group("key"))
        secret = found.group("value")
        if (
            (not unquoted and not found.group("q"))
            or _SECRET_KEY.search(key) is None
            or _named_value_only(key)
            or "public" in key  # `public_key_token`
            or _is_placeholder(secret)
        ):
            continue
        if heuristic.is_sequential_string(secret) or heuristic.is_potential_uuid(secret):
            continue
        for plugin in (plugins.hex, plugins.base64):
            if all(c in plugin.charset for c in secret) and (
                plugin.calculate_shannon_entropy(secret) > plugin.entropy_limit
            ):
                yield _Hit(index, found.start("value"), plugin.secret_type, secret, _ENTROPY)
                break


def _deduplicated(hits: list[_Hit]) -> list[_Hit]:
    """One hit per secret and line: the best-named one, and not a part of another."""
    kept: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: (h.line, h.rank, -len(h.secret), h.column)):
        if any(
            k.line == hit.line and (hit.secret in k.secret or k.secret in hit.secret) for k in kept
        ):
            continue
        kept.append(hit)
    return sorted(kept, key=lambda h: (h.line, h.column))


def _candidate_lines(text: str, config: bool) -> dict[int, tuple[int, list[int]]]:
    """The lines (0-based) a plug-in might report something on, each with what to run on it
    and the columns the screens marked:
    `_TOKEN` (the pattern plug-ins) for a run of 20 or more token characters with a letter and a
    digit in it (every token pattern's secrets are such runs; identifiers seldom hold digits,
    digests are all hex), a private key header or credentials in a URL; `_NAMED` (the keyword
    and entropy plug-ins) for a key named like a credential before an assignment. These screens
    are plain searches; the plug-ins' own patterns together run at about 1 MB/s."""
    starts: list[tuple[int, int]] = []
    lower = text.lower()
    assignment = _CONFIG_ASSIGNMENT_AFTER if config else _ASSIGNMENT_AFTER
    for literal in _KEYWORD_LITERALS:
        position = lower.find(literal)
        while position >= 0:
            end = position + len(literal)
            if assignment.match(lower, end) and (
                literal != "key" or lower[position - 1 : position] in _KEY_PREFIX_END
            ):
                starts.append((position, _NAMED))
            position = lower.find(literal, end)
    for run in _RUN.finditer(text):
        token = run.group()
        if (
            _DIGIT.search(token) or (len(token) >= 30 and not token.islower())
        ) and not _HEXLIKE.fullmatch(token):
            starts.append((run.start(), _TOKEN))
    for literal in ("-----BEGIN", "PuTTY-User-Key"):
        position = text.find(literal)
        while position >= 0:
            starts.append((position, _TOKEN))
            position = text.find(literal, position + 1)
    if "://" in text:
        starts += [(m.start(), _TOKEN) for m in _URL_CREDENTIALS.finditer(text)]
    found: dict[int, tuple[int, list[int]]] = {}
    line = 0
    line_start = 0
    previous = 0
    for start, kind in sorted(starts):
        newlines = text.count("\n", previous, start)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", previous, start) + 1
        previous = start
        kinds, columns = found.get(line, (0, []))
        columns.append(start - line_start)
        found[line] = (kinds | kind, columns)
    return found


def _windows(line: str, columns: list[int]) -> list[tuple[int, str]]:
    """(offset, text) of the parts of a long line (minified JSON, a data file) around the
    places the screens marked: the plug-ins see those, not megabytes of one line."""
    if len(line) <= _LONG_LINE:
        return [(0, line)]
    spans: list[list[int]] = []
    for column in sorted(columns):
        begin, end = max(column - _WINDOW_BEFORE, 0), column + _WINDOW_AFTER
        if spans and begin <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([begin, end])
    return [(begin, line[begin:end]) for begin, end in spans]


def scan_secrets(
    text: str, path: Path, *, line_offset: int = 0, cell: int | None = None
) -> list[RepoFinding]:
    """`repo/secret` findings for the credentials in `text` (a file's content, or a notebook
    cell's source with `cell` its index). Lines are 1-based, plus `line_offset`."""
    plugins = _plugins()
    suffix = ".py" if cell is not None else path.suffix.lower()
    keyword = _keyword_patterns(suffix, path.name.lower())
    candidates = _candidate_lines(text, keyword is _config_patterns())
    if not candidates:
        return []
    lines = text.split("\n")
    hits: list[_Hit] = []
    for index, (kinds, columns) in candidates.items():
        line = lines[index].rstrip("\r")
        if _ALLOWLISTED.search(line) or (index and _ALLOW_NEXT.search(lines[index - 1])):
            continue
        for offset, part in _windows(line, columns):
            found: list[_Hit] = []
            if kinds & _TOKEN:
                found.extend(_token_hits(plugins, part, lines, index))
            if kinds & _NAMED:
                found.extend(_named_hits(plugins, part, index, keyword))
            hits.extend(replace(h, column=h.column + offset) if offset else h for h in found)
    spec = RULES["repo/secret"]
    return [
        RepoFinding(
            rule="repo/secret",
            severity=spec.severity,
            message=f"{hit.kind} written into the file ({mask(hit.secret)}): revoke it and load "
            "it from the environment or a secret store",
            path=path,
            line=hit.line + 1 + line_offset,
            where=f"secret:{hit.kind}:{fingerprint(lines[hit.line], hit.secret)}",
            controls=spec.controls,
            column=hit.column + 1,
            cell=cell,
        )
        for hit in _deduplicated(hits)
    ]
