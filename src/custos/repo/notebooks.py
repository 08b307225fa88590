"""Jupyter notebooks (.ipynb) for the repository scanner: the code cells of the JSON document
(nbformat 4, and nbformat 3's worksheets), and the Python rules of `pysinks` run over them.

IPython syntax is not Python: line magics (`%pip install x`) and shell escapes (`!ls`,
`files = !ls`) are blanked line for line, so line numbers inside a cell stay true; `%time stmt`
keeps its statement; a cell magic that takes Python (`%%time`) loses its first line, any other
(`%%bash`, `%%html`) makes the cell not Python. The cells are walked as one module, as the kernel
runs them (an import in the first cell resolves an alias in the tenth); each finding carries its
cell index (0-based, among all cells) and its line inside the cell. A cell that does not parse is
skipped; a notebook none of whose code cells parses is unreadable. Nothing is executed.
"""

from __future__ import annotations

import ast
import contextlib
import json
import re
from pathlib import Path
from typing import Any

from custos.repo import pynames, pysinks
from custos.repo.model import RepoFinding, Unreadable

_LINE_MAGIC = re.compile(r"^([ \t]*)(?:[%!]|[A-Za-z_][\w.]*[ \t]*=[ \t]*[%!])")
# `%time x = f()` runs the statement: keep it (without its options, there are none to keep).
_STATEMENT_MAGIC = re.compile(r"^([ \t]*)%(?:time|timeit|prun|capture)[ \t]+(?=[^\s-])")
_CELL_MAGIC = re.compile(r"[ \t]*%%(\w+)")
# Cell magics whose body is Python run by the kernel.
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "memit"})


def code_cells(text: str) -> list[tuple[int, str]]:
    """The code cells as (index among all cells, source as written, magics included)."""
    out = []
    for index, cell in enumerate(_cells(_document(text))):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            out.append((index, _source(cell.get("source", cell.get("input", "")))))
    return out


def python_source(source: str, *, keep_blocks: bool = False) -> str | None:
    """A cell's source as Python, line for line; None for a cell in another language.
    `keep_blocks` puts `pass` where a magic was, for a magic that is a block's only line."""
    lines = source.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None:
        found = _CELL_MAGIC.match(lines[first])
        if found is not None:
            if found[1] not in _PYTHON_CELL_MAGICS:
                return None
            lines[first] = ""
    for i, line in enumerate(lines):
        kept = _STATEMENT_MAGIC.match(line)
        if kept is not None:
            lines[i] = kept[1] + line[kept.end() :]
            continue
        magic = _LINE_MAGIC.match(line)
        if magic is not None:
            lines[i] = f"{magic[1]}pass" if keep_blocks else ""
    return "\n".join(lines)


def scan_notebook(
    text: str, path: Path, *, torch_pinned: str | None = None, repo_root: Path | None = None
) -> list[RepoFinding]:
    """Every Python rule on a notebook's code cells; Unreadable when the file is not a
    notebook or no code cell parses."""
    cells = code_cells(text)
    if not pysinks.might_match("\n".join(source for _, source in cells)):
        return []
    scanner = pysinks.Scanner(path, torch_pinned=torch_pinned, repo_root=repo_root)
    failed: list[tuple[int, Unreadable]] = []
    parsed = 0
    for index, source in cells:
        python = python_source(source)
        if python is None or not python.strip():
            continue
        try:
            python, tree = _parse(source, python)
        except Unreadable as exc:
            failed.append((index, exc))
            continue
        scanner.add(tree, python, cell=index)
        parsed += 1
    if failed and not parsed:
        index, error = failed[0]
        raise Unreadable(f"no code cell is Python; cell {index}: {error.message}", error.line)
    return scanner.findings()


def _parse(source: str, python: str) -> tuple[str, ast.Module]:
    """The cell's text and tree; a second try with `pass` for the magics, in case one was the
    only line of a block. The first error is the one reported."""
    try:
        return python, pynames.parse(python)
    except Unreadable as exc:
        first = exc
    retry = python_source(source, keep_blocks=True)
    if retry is not None and retry != python:
        with contextlib.suppress(Unreadable):
            return retry, pynames.parse(retry)
    raise first


def _document(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as exc:
        raise Unreadable(f"not a notebook: {exc.msg}", exc.lineno) from None
    except (ValueError, RecursionError):  # nested past the recursion limit
        raise Unreadable("not a notebook: not readable JSON") from None
    if not isinstance(document, dict):
        raise Unreadable("not a notebook: the top level is not a JSON object")
    return document


def _cells(document: dict[str, Any]) -> list[Any]:
    cells = document.get("cells")
    if isinstance(cells, list):
        return cells
    worksheets = document.get("worksheets")  # nbformat 3
    if isinstance(worksheets, list):
        sheets = [w.get("cells") for w in worksheets if isinstance(w, dict)]
        return [cell for sheet in sheets if isinstance(sheet, list) for cell in sheet]
    raise Unreadable("not a notebook: no cells")


def _source(value: object) -> str:
    """nbformat keeps a cell's source as a string or a list of lines."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(line for line in value if isinstance(line, str))
    return ""
