"""Validating parsed YAML with pydantic, reporting each problem as `file:line: where: what`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from custos._yaml import YamlDocument
from custos.errors import DataError

M = TypeVar("M", bound=BaseModel)


def describe_loc(data: Any, loc: Sequence[str | int]) -> str:
    """`systems[0].assets[2].kind (fraud-model)`: the path, plus the id of the innermost entry."""
    parts: list[str] = []
    ident: str | None = None
    node = data
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{item}]"]
        else:
            parts.append(str(item))
        try:
            node = node[item]
        except (KeyError, IndexError, TypeError):
            node = None
        if isinstance(node, dict):
            found = node.get("id") or node.get("source") or node.get("control")
            if isinstance(found, str):
                ident = found
    where = ".".join(parts)
    return f"{where} ({ident})" if ident else where


def _message(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "string_pattern_mismatch":
        pattern = str(error.get("ctx", {}).get("pattern", ""))
        if ":" in pattern:
            return (
                f"{error['input']!r} is not a control id "
                "(expected prefix:reference, e.g. iso27002:2022:8.24)"
            )
        return f"{error['input']!r} is not a valid identifier (letters, digits, '.', '_', '-')"
    return message


def validate_model(model: type[M], doc: YamlDocument) -> M:
    """Validate `doc.data` as `model`; every problem becomes one line of a DataError."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        problems: list[tuple[int | None, str]] = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            where = describe_loc(doc.data, loc)
            message = _message(error)
            problems.append((doc.line_of(loc), f"{where}: {message}" if where else message))
        first, *more = problems
        raise DataError(doc.path, first[1], first[0], more) from exc
