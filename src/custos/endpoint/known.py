"""The unauthenticated paths of well-known model servers and AI tools: data, not code
(`data/known_paths.yaml`, read with yaml.safe_load and checked here)."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any, Literal, cast

import yaml

from custos.endpoint.model import KnownPath
from custos.endpoint.rules import OPEN_RULES
from custos.errors import DataError

FILE = "known_paths.yaml"
EXPECTATIONS = ("json_key", "json_list", "json_object", "text")


@functools.cache
def known_paths() -> tuple[KnownPath, ...]:
    """The shipped list, read once per process."""
    text = (resources.files("custos.endpoint") / "data" / FILE).read_text(encoding="utf-8")
    return parse(text, FILE)


def parse(text: str, name: str) -> tuple[KnownPath, ...]:
    """Known paths from YAML text; DataError naming the entry that is wrong."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DataError(name, f"not YAML: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != 1:
        raise DataError(name, "expected a mapping with version: 1 and paths")
    entries = data.get("paths")
    if not isinstance(entries, list) or not entries:
        raise DataError(name, "paths: expected a non-empty list")
    found: list[KnownPath] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        known = _entry(entry, f"paths[{index}]", name)
        if known.path in seen:
            raise DataError(name, f"paths[{index}]: {known.path} is listed twice")
        seen.add(known.path)
        found.append(known)
    return tuple(found)


def _entry(entry: Any, where: str, name: str) -> KnownPath:
    if not isinstance(entry, dict) or set(entry) != {"path", "product", "rule", "expect"}:
        raise DataError(name, f"{where}: expected exactly path, product, rule and expect")
    path, product, rule, expect = (entry[k] for k in ("path", "product", "rule", "expect"))
    if not isinstance(path, str) or not path.startswith("/"):
        raise DataError(name, f"{where}: path must start with /")
    if not isinstance(product, str) or not product.strip():
        raise DataError(name, f"{where}: product must be a name")
    if rule not in OPEN_RULES:
        raise DataError(name, f"{where}: rule must be one of {', '.join(sorted(OPEN_RULES))}")
    if not isinstance(expect, dict) or len(expect) != 1 or next(iter(expect)) not in EXPECTATIONS:
        raise DataError(name, f"{where}: expect must be one of {', '.join(EXPECTATIONS)}")
    kind, value = next(iter(expect.items()))
    if kind in ("json_key", "text") and not (isinstance(value, str) and value):
        raise DataError(name, f"{where}: expect.{kind} needs a non-empty string")
    if kind in ("json_list", "json_object") and value is not True:
        raise DataError(name, f"{where}: expect.{kind} must be true")
    expected = cast(Literal["json_key", "json_list", "json_object", "text"], kind)
    return KnownPath(path, product, rule, expected, value if isinstance(value, str) else "")
