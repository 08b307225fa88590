"""Hugging Face configs that make a loader run code: `auto_map` and `custom_pipelines`.

transformers reads `auto_map` from `config.json`, `tokenizer_config.json` and the processor
and feature-extractor configs: each Auto class maps to `module.Class` (a tokenizer to a
`[slow, fast]` pair), optionally `repo--module.Class` for code kept in another repository.
With `trust_remote_code=True` it imports `module.py` from the model folder (or downloads it)
and runs it. `custom_pipelines` in `config.json` names pipeline classes (`impl`) the same way.

- `hf/remote-code` (high): the config names code to import; the finding lists the classes and
  modules, and the repositories code would be downloaded from.
- `model-dir/reference-escape` (high): a module path that is absolute or climbs out.
- `hf/malformed` (high): `auto_map` / `custom_pipelines` of the wrong shape.

Module files are recorded (`ctx.refer`) so that a directory walk checks they are there.
"""

from __future__ import annotations

from typing import Any

from custos.findings import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.paths import ESCAPE, escapes
from custos.modelfile.rules import rule

REMOTE_CODE = rule(
    "hf/remote-code",
    Severity.high,
    "A Hugging Face config maps Auto classes or pipelines to custom code (auto_map, "
    "custom_pipelines): loading needs trust_remote_code and runs that code.",
)
MALFORMED = rule(
    "hf/malformed",
    Severity.high,
    "A Hugging Face config's auto_map or custom_pipelines is not of the shape transformers "
    "reads; it could not be checked.",
)
KEYS = ("auto_map", "custom_pipelines")


def has_code_keys(document: dict[str, Any]) -> bool:
    return any(key in document for key in KEYS)


def check(document: dict[str, Any], location: str, ctx: ScanContext) -> None:
    """Report the custom code a config's `auto_map` / `custom_pipelines` make a loader run."""
    refs: list[tuple[str, str]] = []  # (what, class reference)
    problems: list[str] = []
    auto_map = document.get("auto_map")
    if isinstance(auto_map, dict):
        for auto_class, value in auto_map.items():
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, str):
                    refs.append((str(auto_class), item))
                elif item is not None or not isinstance(value, list):
                    problems.append(f"auto_map[{auto_class!s:.60}] is {_kind(value)}")
                    break
    elif "auto_map" in document:
        problems.append(f"auto_map is {_kind(auto_map)}, not an object of Auto classes")
    pipelines = document.get("custom_pipelines")
    if isinstance(pipelines, dict):
        for task, spec in pipelines.items():
            impl = spec.get("impl") if isinstance(spec, dict) else None
            if isinstance(impl, str):
                refs.append((f"pipeline {task!s:.60}", impl))
            else:
                problems.append(f"custom_pipelines[{task!s:.60}].impl is {_kind(impl)}")
    elif "custom_pipelines" in document:
        problems.append(f"custom_pipelines is {_kind(pipelines)}, not an object of tasks")
    for problem in problems:
        ctx.emit(MALFORMED.id, MALFORMED.severity, problem, location)
    if refs:
        _report(refs, location, ctx)


def _report(refs: list[tuple[str, str]], location: str, ctx: ScanContext) -> None:
    classes: list[str] = []
    modules: dict[str, None] = {}
    repos: dict[str, None] = {}
    for what, reference in refs:
        classes.append(f"{what} -> {reference}")
        repo, _, local = reference.rpartition("--")
        module, dot, name = local.partition(".")
        if not dot or not module or not name or "." in name:
            ctx.emit(MALFORMED.id, MALFORMED.severity,
                     f"{what}: {reference!r:.200} is not module.Class", location)  # fmt: skip
            continue
        if repo:
            repos[repo] = None
            continue
        file = f"{module}.py"
        if escapes(file):
            ctx.emit(ESCAPE.id, ESCAPE.severity,
                     f"{what} imports {file!r:.200}: outside the model folder; not followed",
                     location)  # fmt: skip
            continue
        if file not in modules:
            modules[file] = None
            ctx.refer(file, f"module of {what} ({reference:.200})", location)
    message = "loading needs trust_remote_code and runs custom code: " + _cut(", ".join(classes))
    if modules:
        message += f"; modules {', '.join(modules)}"
    if repos:
        message += f"; code downloaded from other repositories (not scanned): {', '.join(repos)}"
    ctx.emit(REMOTE_CODE.id, REMOTE_CODE.severity, message, location)


def _cut(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else text[:limit] + " ..."


def _kind(value: Any) -> str:
    return "missing" if value is None else f"a {type(value).__name__}"
