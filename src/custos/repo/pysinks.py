"""The Python rules of the repository scanner (the "ML code rules"): calls that load models or
data in a way that can run code (torch.load without weights_only, pickle and its relatives,
NumPy's allow_pickle, PyYAML's full and unsafe loaders, Keras with safe mode off, ONNX Runtime
custom-op libraries), calls that run code or commands (trust_remote_code, eval/exec, shell
commands), TLS verification switched off, and hub downloads not pinned to a commit.

On Python's `ast` only: the scanned code is parsed, never imported or run. Per file: a substring
screen (a file holding none of the trigger words is not walked), one `ast.parse`, one walk
(`pynames`: imports, name bindings, candidate calls), then the candidates are judged here with
everything the walk learnt, by the callee's resolved name (`_BY_NAME`), its last name on any
object (`_BY_TAIL`) and the keywords of any call (`_BY_KEYWORD`). Aliases do not hide a sink, and
a name the code binds itself (`def eval(...)`, `yaml = YAML()`) does not pass for the library's.

A finding's `where` is `qualname:callee:n` (the enclosing function or class, the callee as
written, the n-th hit of that rule in that scope): it stays the same when lines move.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from custos.findings import Rule, Severity
from custos.repo.model import RepoFinding
from custos.repo.pynames import MAX_DEPTH, Event, Names, Scope, argument, parse

LOADING = ("custos:ai:unsafe-loading-code", "iso27002:2022:8.28")
SERIALIZATION = (*LOADING, "custos:ai:safe-model-serialization")
PROVENANCE = ("custos:ai:ml-dependencies", "custos:ai:model-provenance", "iso27002:2022:5.21")
CODE = ("iso27002:2022:8.28", "iso27002:2022:8.26")
TLS = ("custos:ai:encryption-in-transit", "iso27002:2022:8.24", "iso27002:2022:8.28")

RULES: Mapping[str, Rule] = {
    "repo/torch-load-unsafe": Rule(
        Severity.high,
        "torch.load unpickles the checkpoint: with weights_only=False (the default before torch "
        "2.6) a crafted file runs code when loaded. Pass weights_only=True, or use safetensors.",
        SERIALIZATION,
    ),
    "repo/pickle-load": Rule(
        Severity.high,
        "pickle (and dill, cloudpickle, joblib, pandas.read_pickle, shelve) runs code carried by "
        "the data it loads. Unpickle only files shipped in the repository; take anything else in "
        "a data-only format (safetensors, JSON, Parquet, ONNX).",
        SERIALIZATION,
    ),
    "repo/numpy-allow-pickle": Rule(
        Severity.high,
        "numpy.load with allow_pickle=True unpickles object arrays, which can run code. Keep "
        "allow_pickle=False and store plain arrays.",
        SERIALIZATION,
    ),
    "repo/yaml-unsafe-load": Rule(
        Severity.high,
        "yaml.load with a full or unsafe loader builds Python objects named by the document, so "
        "a crafted file runs code. Use yaml.safe_load or Loader=yaml.SafeLoader.",
        LOADING,
    ),
    "repo/trust-remote-code": Rule(
        Severity.high,
        "trust_remote_code=True runs Python code downloaded with the model or dataset. Review "
        "and vendor that code and pin the revision, or use a model that needs no custom code.",
        PROVENANCE,
    ),
    "repo/eval-exec": Rule(
        Severity.high,
        "eval/exec of a string computed at runtime runs whatever it holds: configuration, user "
        "input and model output must never be evaluated. Parse them (json.loads, "
        "ast.literal_eval) instead.",
        CODE,
    ),
    "repo/subprocess-shell": Rule(
        Severity.high,
        "A command line run through the shell can be made to run other commands by the text put "
        "into it. Pass an argument list with shell=False.",
        CODE,
    ),
    "repo/keras-unsafe-mode": Rule(
        Severity.high,
        "Keras safe mode is off, so loading a model deserialises Python lambdas, which run code. "
        "Keep safe_mode=True (the default).",
        SERIALIZATION,
    ),
    "repo/onnx-custom-op": Rule(
        Severity.medium,
        "ONNX Runtime loads a native custom-op library that is not shipped in the repository: "
        "its code runs in the process. Ship the reviewed library and load it by a constant path.",
        LOADING,
    ),
    "repo/tls-verify-off": Rule(
        Severity.high,
        "TLS certificate verification is off, so anyone on the network path can read and alter "
        "the traffic (models, data, credentials). Keep it on; pass a CA bundle for private CAs.",
        TLS,
    ),
    "repo/unpinned-model-download": Rule(
        Severity.medium,
        "A model or file is downloaded from a hub without a pinned revision, so what runs can "
        "change under the same name. Pass revision=<commit sha>.",
        PROVENANCE,
    ),
}

# A file that holds none of these cannot hold a sink (every rule's callee, keyword or import
# contains one), so it is not parsed at all. Most frequent first: `any` stops at the first hit.
_TRIGGERS = (
    "load", "eval", "exec", "verify", "shell", "system", "popen", "from_pretrained", "unsafe",
    "trust_remote_code", "safe_mode", "read_pickle", "shelve", "Unpickler", "check_hostname",
    "_create_unverified_context", "register_custom_ops", "snapshot_download", "hf_hub_download",
    "getoutput", "getstatusoutput", "CERT_NONE", "disable_warnings", "ssl",
)  # fmt: skip
_SHA = re.compile(r"[0-9a-f]{40}")
_VERSION = re.compile(r"\s*v?(\d+)\.(\d+)")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_SAFE_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})
_FULL_LOADERS = frozenset({"FullLoader", "CFullLoader"})
_HTTP_VERBS = frozenset({
    "get", "post", "put", "patch", "delete", "head", "options", "request", "ws_connect",
    "TCPConnector",
})  # fmt: skip

Hit = tuple[str, Severity | None, str]  # rule, severity (None: the rule's), message
_Check = Callable[["Scanner", ast.Call, Scope], Iterator[Hit]]
_KeywordCheck = Callable[["Scanner", ast.Call, ast.expr], Iterator[Hit]]


# -- entry points -------------------------------------------------------------------------------


def might_match(text: str) -> bool:
    """Whether the text holds any trigger word; without one no rule can fire."""
    return any(word in text for word in _TRIGGERS)


def scan_python(
    source: str, path: Path, *, torch_pinned: str | None = None, repo_root: Path | None = None
) -> list[RepoFinding]:
    """Every Python rule on one file's text; Unreadable when it is not Python. A file with
    no trigger word is still parsed (a syntax error anywhere is reported) but not walked."""
    source = source.removeprefix("\ufeff")
    tree = parse(source)
    if not might_match(source):
        return []
    scanner = Scanner(path, torch_pinned=torch_pinned, repo_root=repo_root)
    scanner.add(tree, source)
    return scanner.findings()


# -- the judge ----------------------------------------------------------------------------------


class Scanner(Names):
    """The rules over one file's trees: one for a script, one per code cell for a notebook
    (cells share one module namespace, as in the kernel). `add` walks a tree; `findings`
    judges what the walks collected."""

    def __init__(
        self, path: Path, *, torch_pinned: str | None = None, repo_root: Path | None = None
    ) -> None:
        super().__init__(path, repo_root=repo_root, known=_BY_NAME, watch=_tls_assignment)
        self.torch_pinned = torch_pinned
        found = _VERSION.match(torch_pinned or "")
        self.torch = (int(found[1]), int(found[2])) if found else None
        self._lines: dict[int | None, list[str]] = {}

    # -- judging --------------------------------------------------------------------------------

    def findings(self) -> list[RepoFinding]:
        """The findings in source order; `n` counts each rule's hits per scope."""
        counters: dict[tuple[str, str], int] = {}
        out: list[RepoFinding] = []
        for node, scope, cell in sorted(self.events, key=_position):
            if isinstance(node, ast.Call):
                hits = self._judge_call(node, scope)
            else:
                hits = _judge_assignment(self, node)
            for hit in hits:
                out.append(self._finding(hit, node, scope, cell, counters))
        return out

    def _judge_call(self, call: ast.Call, scope: Scope) -> list[Hit]:
        hits: list[Hit] = []
        name = self.qual(call.func)
        check = _BY_NAME.get(name)
        if check is not None:
            hits += check(self, call, scope)
        elif isinstance(call.func, ast.Attribute) or (
            isinstance(call.func, ast.Name) and call.func.id in self.aliases
        ):
            check = _BY_TAIL.get(name.rpartition(".")[2])
            if check is not None:
                hits += check(self, call, scope)
        for keyword in call.keywords:
            by_keyword = _BY_KEYWORD.get(keyword.arg or "")
            if by_keyword is not None:
                hits += by_keyword(self, call, keyword.value)
        return hits

    def _finding(
        self,
        hit: Hit,
        node: ast.Call | ast.Assign | ast.AnnAssign,
        scope: Scope,
        cell: int | None,
        counters: dict[tuple[str, str], int],
    ) -> RepoFinding:
        rule, severity, message = hit
        key = (scope.name, rule)
        n = counters.get(key, 0)
        counters[key] = n + 1
        spec = RULES[rule]
        where = f"{scope.name}:{_unparse(_subject(node))}:{n}"
        return RepoFinding(rule, severity or spec.severity, message, self.path, node.lineno,
                           where, spec.controls, self._column(node, cell), cell)  # fmt: skip

    def _column(self, node: ast.expr | ast.stmt, cell: int | None) -> int:
        """1-based, in characters (`col_offset` counts UTF-8 bytes)."""
        lines = self._lines.get(cell)
        if lines is None:
            lines = self._lines[cell] = _NEWLINE.split(self.sources.get(cell, ""))
        text = lines[node.lineno - 1] if 0 < node.lineno <= len(lines) else ""
        if text.isascii():
            return node.col_offset + 1
        return len(text.encode("utf-8")[: node.col_offset].decode("utf-8", "ignore")) + 1

    def loader_kind(self, node: ast.expr, depth: int = 0) -> str:
        """A YAML loader as "safe", "full" or "unsafe": by name, alias or attribute; a local
        subclass of a safe loader is safe; so is `getattr(yaml, "CSafeLoader", SafeLoader)`."""
        if isinstance(node, ast.Name) and node.id in self.classes and depth < MAX_DEPTH:
            kinds = {self.loader_kind(base, depth + 1) for base in self.classes[node.id]}
            return "safe" if "safe" in kinds else "full" if "full" in kinds else "unsafe"
        if isinstance(node, ast.Call) and self.qual(node.func) == "getattr":
            return _getattr_loader_kind(self, node, depth)
        tail = self.qual(node).rpartition(".")[2]
        return "safe" if tail in _SAFE_LOADERS else "full" if tail in _FULL_LOADERS else "unsafe"


# -- helpers ------------------------------------------------------------------------------------


def _position(event: Event) -> tuple[int, int, int, int, int]:
    node, _, cell = event
    return (-1 if cell is None else cell, node.lineno, node.col_offset,
            node.end_lineno or 0, node.end_col_offset or 0)  # fmt: skip


def _subject(node: ast.Call | ast.Assign | ast.AnnAssign) -> ast.expr:
    if isinstance(node, ast.Call):
        return node.func
    return node.targets[0] if isinstance(node, ast.Assign) else node.target


def _unparse(node: ast.expr) -> str:
    try:
        return ast.unparse(node)
    except (RecursionError, ValueError):
        return "?"


def _callee(call: ast.Call) -> str:
    """The callee as written, short enough for a one-line message."""
    text = _unparse(call.func)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _splat(call: ast.Call) -> bool:
    """`**kwargs`: any keyword may be in it."""
    return any(k.arg is None for k in call.keywords)


def _is(node: ast.expr | None, value: object) -> bool:
    """A literal True, False or None (`is`: 1 and 0 do not pass for True and False)."""
    return isinstance(node, ast.Constant) and node.value is value


def _str(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _described(scanner: Scanner, node: ast.expr | None, scope: Scope) -> str:
    """Where a loaded file comes from, for a message."""
    value = scanner.const(node, scope) if node is not None else None
    if value is None:
        return "a path computed at runtime"
    if "://" in value.text:
        return f"a URL ({value.text[:60]!r})"
    return f"{value.text[:60]!r}, outside the repository"


def _getattr_loader_kind(scanner: Scanner, call: ast.Call, depth: int) -> str:
    name = _str(call.args[1]) if len(call.args) > 1 else None
    kind = "safe" if name in _SAFE_LOADERS else "full" if name in _FULL_LOADERS else "unsafe"
    if kind == "safe" and len(call.args) > 2:
        return scanner.loader_kind(call.args[2], depth + 1)
    return kind


def _tls_assignment(targets: list[ast.expr], value: ast.expr) -> bool:
    """An assignment that may switch verification off: worth judging once the walk is done."""
    if isinstance(value, ast.Attribute | ast.Name):
        name = value.attr if isinstance(value, ast.Attribute) else value.id
        if name in ("_create_unverified_context", "CERT_NONE"):
            return True
    return any(isinstance(t, ast.Attribute) and t.attr in ("check_hostname", "verify")
               for t in targets)  # fmt: skip


# -- the rules: loading -------------------------------------------------------------------------


def _torch_load(s: Scanner, call: ast.Call, scope: Scope) -> Iterator[Hit]:
    rule, name = "repo/torch-load-unsafe", _callee(call)
    flag = _kw(call, "weights_only")
    if isinstance(flag, ast.Constant) and flag.value is not None:
        if not flag.value:
            message = (
                f"{name}(..., weights_only=False) unpickles the checkpoint, so a crafted file "
                "runs code; pass weights_only=True or use safetensors."
            )
            yield rule, None, message
    elif flag is not None:
        message = (
            f"{name}() takes weights_only from a variable; pass weights_only=True so a crafted "
            "checkpoint cannot run code."
        )
        yield rule, Severity.medium, message
    elif s.torch is None:
        message = (
            f"{name}() without weights_only is safe only on torch >= 2.6 (where weights_only=True "
            "is the default) and no pinned torch says which runs; pass weights_only=True."
        )
        yield rule, Severity.medium, message
    elif s.torch < (2, 6):
        message = (
            f"{name}() without weights_only unpickles the checkpoint on the pinned torch "
            f"{s.torch_pinned} (weights_only=True is the default only from 2.6); pass "
            "weights_only=True."
        )
        yield rule, None, message


def _pickle_bytes(s: Scanner, call: ast.Call, scope: Scope) -> Iterator[Hit]:
    message = (
        f"{_callee(call)}() unpickles bytes, which runs any code they carry; take data across a "
        "trust boundary in a data-only format (JSON, safetensors)."
    )
    yield "repo/pickle-load", None, message


def _pickle_file(*names: str) -> _Check:
    """pickle.load and its relatives: safe only on a constant path inside the repository."""

    def check(s: Scanner, call: ast.Call, scope: Scope) -> Iterator[Hit]:
        source = argument(call, 0, *names)
        if s.in_repo(source, scope):
            return
        message = (
            f"{_callee(call)}() unpickles the file at {_described(s, source, scope)}, which runs "
            "any code it carries; unpickle only files shipped in the repository, or use a "
            "data-only format (safetensors, JSON, Parquet)."
        )
        yield "repo/pickle-load", None, message

    return check


def _numpy_load(s: Scanner, call: ast.Call, scope: Scope) -> Iterator[Hit]:
    flag = argument(call, 2, "allow_pickle")
    if flag is None or (isinstance(flag, ast.Constant) and not flag.value):
        return
    name = _callee(call)
    if isinstance(flag, ast.Constant):
        message = (
            f"{name}(..., allow_pickle=True) unpickles object arrays, which can run code; keep "
            "allow_pickle=False and store plain arrays."
        )
        yield "repo/numpy-allow-pickle", None, message
    else:
        message = (
            f"{name}() takes allow_pickle from a variable; keep allow_pickle=False so object "
            "arrays (pickles) are refused."
        )
        yield "repo/numpy-allow-pickle", Severity.medium, message


def _yaml_load(s: Scanner, call: ast.Call, scope: Scope) -> Iterator[Hit]:
    rule, name = "repo/yaml-unsafe-load", _callee(call)
    loader = argument(call, 1, "Loader")
    if loader is None:
        if not _splat(call):
            message = (
                f"{name}() without a Loader builds arbitrary Python objects on PyYAML < 5.1 (and "
                "fails from 6.0); use yaml.safe_load or Loader=yaml.SafeLoader."
            )
            yield rule, None, message
        return
    kind = s.loader_kind(loader)
    if kind == "full":
        message = (
            f"{name}() with a FullLoader builds Python objects beyond plain data; use "
            "yaml.safe_load or Loader=yaml.SafeLoader."
        )
        yield rule, Severity.medium, message
    elif kind == "unsafe":
        message = (
            f"{name}() with Loader={_unparse(loader)[:40]} builds arbitrary Python objects, so a "
            "crafted document runs code; use yaml.safe_load or Loader=yaml.SafeLoader."
        )
        yield rule, None, message


def _yaml_unsafe(s: Scanner, call: ast.Call, scope: Scope) -> Iterator[Hit]:
    message = (
        f"{_callee(call)}() builds arbitrary Python objects, so a crafted document runs code; "
        "use yaml.safe_load."
    )
    yield "repo/yaml-unsafe-load", None, message


def _yaml_full(s: Scanner, call: ast.Call, scope: Scope) -> Iterator[Hit]:
    message = (
        f"{_callee(call)}() builds Python objects beyond plain data (the FullLoader); use "
        "yaml.safe_load."
    )
    yield "repo/yaml-unsafe-load", Severity.medium, message


def _keras_unsafe(s: Scanner, call: ast.Call, scope: Scope) -> Iterator[Hit]:
    message = (
        f"{_callee(call)}() switches Keras safe mode off for every later load, so a model file "
        "can run code; remove it and keep safe mode on."
    )
    yield "repo/keras-unsafe-mode", None, message


def _onnx_custom_op(s: Scanner, call: ast.Call, scope: Scope) -> Iterator[Hit]:
    library = argument(call, 0, "library_path", "path")
    if s.in_repo(library, scope):
        return
    message = (
        f"{_callee(call)}() loads a native library from {_described(s, library, scope)}; ship "
        "the reviewed library in the repository and load it by a constant path."
    )
    yield "repo/onnx-custom-op", None, message


# -- the rules: code and commands ---------------------------------------------------------------


def _eval(s: Scanner, call: ast.Call, scope: Scope) -> Iterator[Hit]:
    if not call.args or s.fixed(call.args[0], scope):
        return  # a literal is code the author wrote, not data
    message = (
        f"{_callee(call)}() runs a string computed at runtime; configuration, user input and "
        "model output must never be evaluated: parse them (json.loads, ast.literal_eval)."
    )
    yield "repo/eval-exec", None, message


def _shell_keyword(s: Scanner, call: ast.Call, scope: Scope) -> Iterator[Hit]:
    flag = _kw(call, "shell")
    if flag is None or (isinstance(flag, ast.Constant) and not flag.value):
        return
    rule, name = "repo/subprocess-shell", _callee(call)
    if not isinstance(flag, ast.Constant):
        message = f"{name}() takes shell from a variable; pass an argument list with shell=False."
        yield rule, Severity.medium, message
    elif s.fixed(argument(call, 0, "args"), scope):
        # a fixed command line cannot be injected into: worth fixing, not urgent
        message = (
            f"{name}(..., shell=True) with a constant command; pass an argument list with "
            "shell=False all the same."
        )
        yield rule, Severity.low, message
    else:
        message = (
            f"{name}(..., shell=True) runs a command line built at runtime through the shell, "
            "where injected text runs as commands; pass an argument list with shell=False."
        )
        yield rule, None, message


def _shell_always(s: Scanner, call: ast.Call, scope: Scope) -> Iterator[Hit]:
    command = argument(call, 0, "cmd", "command")
    if command is None or s.fixed(command, scope):
        return
    message = (
        f"{_callee(call)}() runs a command line built at runtime through the shell; use "
        "subprocess.run with an argument list (shell=False)."
    )
    yield "repo/subprocess-shell", Severity.medium, message


def _torch_hub(s: Scanner, call: ast.Call, scope: Scope) -> Iterator[Hit]:
    repo = _str(argument(call, 0, "repo_or_dir")) or ""
    if _str(_kw(call, "source")) == "local" or _SHA.fullmatch(repo.rpartition(":")[2]):
        return
    message = (
        f"{_callee(call)}() imports and runs hubconf.py from a GitHub repository; pin it to a "
        "commit ('owner/repo:<sha>') or vendor it and load it with source='local'."
    )
    yield "repo/trust-remote-code", Severity.medium, message


# -- the rules: provenance and transport --------------------------------------------------------


def _download(s: Scanner, call: ast.Call, scope: Scope) -> Iterator[Hit]:
    revision = _kw(call, "revision")
    if (revision is None and _splat(call)) or _is(_kw(call, "local_files_only"), True):
        return  # the revision may be in **kwargs; a local-only load downloads nothing
    names = ("pretrained_model_name_or_path", "repo_id", "model_id", "model_name_or_path")
    source = argument(call, 0, *names)
    if source is None or s.is_local(source, scope):
        return
    rule, name = "repo/unpinned-model-download", _callee(call)
    folded = s.const(source, scope)
    what = f"{folded.text[:60]!r}" if folded is not None else "a model named at runtime"
    if revision is None or _is(revision, None):
        message = (
            f"{name}() downloads {what} without revision=, so the files can change under the "
            "same name; pin revision=<commit sha>."
        )
        yield rule, None, message
        return
    pinned = _str(revision)
    if pinned is not None and not _SHA.fullmatch(pinned):
        message = (
            f"{name}(..., revision={pinned[:40]!r}) follows a branch or tag, which can move; pin "
            "a 40-hex commit sha."
        )
        yield rule, Severity.low, message


def _unverified_context(s: Scanner, call: ast.Call, scope: Scope) -> Iterator[Hit]:
    message = (
        f"{_callee(call)}() builds a TLS context that accepts any certificate; use "
        "ssl.create_default_context()."
    )
    yield "repo/tls-verify-off", None, message


def _disable_warnings(s: Scanner, call: ast.Call, scope: Scope) -> Iterator[Hit]:
    if "urllib3" in s.qual(call.func):
        message = (
            f"{_callee(call)}() hides the warnings about unverified HTTPS requests; fix the "
            "verification instead of silencing it."
        )
        yield "repo/tls-verify-off", Severity.low, message


def _judge_assignment(s: Scanner, node: ast.Assign | ast.AnnAssign) -> list[Hit]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    value = node.value
    assert value is not None  # only assignments with a value are recorded
    subject = _unparse(targets[0])[:60]
    tail = s.qual(value).rpartition(".")[2]
    hits: list[Hit] = []
    for target in targets:
        attr = target.attr if isinstance(target, ast.Attribute) else ""
        if attr == "check_hostname" and _is(value, False):
            message = (
                f"{subject} = False accepts a certificate issued for any host name; keep "
                "check_hostname=True."
            )
            hits.append(("repo/tls-verify-off", Severity.medium, message))
        elif attr == "verify" and _is(value, False):
            message = (
                f"{subject} = False switches certificate verification off for the session; keep "
                "verify=True (or a CA bundle path)."
            )
            hits.append(("repo/tls-verify-off", None, message))
        elif attr == "verify_mode" and tail == "CERT_NONE":
            message = f"{subject} = CERT_NONE accepts any certificate; use ssl.CERT_REQUIRED."
            hits.append(("repo/tls-verify-off", None, message))
    if tail == "_create_unverified_context" and not isinstance(value, ast.Call):
        message = (
            f"{subject} = ssl._create_unverified_context makes TLS accept any certificate; "
            "remove it and keep the default context."
        )
        hits.append(("repo/tls-verify-off", None, message))
    return hits


# -- keyword rules: any call --------------------------------------------------------------------


def _trust_keyword(s: Scanner, call: ast.Call, value: ast.expr) -> Iterator[Hit]:
    name = _callee(call)
    if not isinstance(value, ast.Constant):
        message = (
            f"{name}() takes trust_remote_code from a variable; keep it False unless the code "
            "was reviewed and the revision pinned."
        )
        yield "repo/trust-remote-code", Severity.medium, message
    elif value.value:
        message = (
            f"{name}(..., trust_remote_code=True) runs Python code that comes with the model or "
            "dataset; review and vendor it and pin revision=<commit sha>, or use a model "
            "without custom code."
        )
        yield "repo/trust-remote-code", None, message


def _verify_keyword(s: Scanner, call: ast.Call, value: ast.expr) -> Iterator[Hit]:
    # PyJWT's `decode(..., verify=False)` skips a signature check, not TLS: not this rule
    if _is(value, False) and not s.qual(call.func).endswith("decode"):
        message = (
            f"{_callee(call)}(..., verify=False) switches certificate verification off, so "
            "anyone on the path can read and alter the traffic; keep verify=True or pass a CA "
            "bundle."
        )
        yield "repo/tls-verify-off", None, message


def _verify_ssl_keyword(s: Scanner, call: ast.Call, value: ast.expr) -> Iterator[Hit]:
    if _is(value, False):
        message = (
            f"{_callee(call)}(..., verify_ssl=False) switches certificate verification off; "
            "keep it on or pass an ssl context with your CA."
        )
        yield "repo/tls-verify-off", None, message


def _ssl_keyword(s: Scanner, call: ast.Call, value: ast.expr) -> Iterator[Hit]:
    # aiohttp's way of switching verification off; elsewhere `ssl=False` means other things
    name = s.qual(call.func)
    if _is(value, False) and ("aiohttp" in name or name.rpartition(".")[2] in _HTTP_VERBS):
        message = (
            f"{_callee(call)}(..., ssl=False) switches certificate verification off; keep the "
            "default or pass an ssl context with your CA."
        )
        yield "repo/tls-verify-off", None, message


def _cert_reqs_keyword(s: Scanner, call: ast.Call, value: ast.expr) -> Iterator[Hit]:
    if _str(value) == "CERT_NONE" or s.qual(value).rpartition(".")[2] == "CERT_NONE":
        message = (
            f"{_callee(call)}(..., cert_reqs=CERT_NONE) accepts any certificate; use CERT_REQUIRED."
        )
        yield "repo/tls-verify-off", None, message


def _safe_mode_keyword(s: Scanner, call: ast.Call, value: ast.expr) -> Iterator[Hit]:
    if _is(value, False):
        message = (
            f"{_callee(call)}(..., safe_mode=False) lets the model file deserialise Python "
            "lambdas, which run code; keep safe_mode=True (the default)."
        )
        yield "repo/keras-unsafe-mode", None, message


# -- the dispatch tables ------------------------------------------------------------------------


def _family(modules: tuple[str, ...], names: tuple[str, ...], check: _Check) -> dict[str, _Check]:
    return {f"{m}.{n}": check for m in modules for n in names}


_PICKLES = ("pickle", "_pickle", "cPickle", "dill", "cloudpickle")
_SUBPROCESS = ("run", "call", "check_call", "check_output", "Popen")

_BY_NAME: Mapping[str, _Check] = {
    "torch.load": _torch_load,
    "torch.serialization.load": _torch_load,
    **_family(_PICKLES, ("loads",), _pickle_bytes),
    **_family(_PICKLES, ("load", "Unpickler"), _pickle_file("file")),
    **_family(("joblib", "sklearn.externals.joblib"), ("load",), _pickle_file("filename")),
    "dill.load_session": _pickle_file("filename"),
    "pandas.read_pickle": _pickle_file("filepath_or_buffer", "path"),
    "shelve.open": _pickle_file("filename"),
    "numpy.load": _numpy_load,
    **_family(("yaml",), ("load", "load_all"), _yaml_load),
    **_family(("yaml",), ("unsafe_load", "unsafe_load_all"), _yaml_unsafe),
    **_family(("yaml",), ("full_load", "full_load_all"), _yaml_full),
    "eval": _eval,
    "exec": _eval,
    **_family(("builtins", "__builtins__"), ("eval", "exec"), _eval),
    **_family(("subprocess",), _SUBPROCESS, _shell_keyword),
    **_family(("os",), ("system", "popen"), _shell_always),
    **_family(("subprocess",), ("getoutput", "getstatusoutput"), _shell_always),
    "asyncio.create_subprocess_shell": _shell_always,
    "torch.hub.load": _torch_hub,
}

# By the callee's last name, on any object: `so.register_custom_ops_library(...)`.
_BY_TAIL: Mapping[str, _Check] = {
    "from_pretrained": _download,
    "hf_hub_download": _download,
    "snapshot_download": _download,
    "register_custom_ops_library": _onnx_custom_op,
    "enable_unsafe_deserialization": _keras_unsafe,
    "_create_unverified_context": _unverified_context,
    "disable_warnings": _disable_warnings,
}

# By a keyword, on any call.
_BY_KEYWORD: Mapping[str, _KeywordCheck] = {
    "trust_remote_code": _trust_keyword,
    "verify": _verify_keyword,
    "verify_ssl": _verify_ssl_keyword,
    "ssl": _ssl_keyword,
    "cert_reqs": _cert_reqs_keyword,
    "safe_mode": _safe_mode_keyword,
}
