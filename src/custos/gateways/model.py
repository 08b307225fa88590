"""What the gateway scanner reads and reports: YAML documents that remember their lines, the
findings (each with a file, a line and the key path it is about) and one report per file.
`GatewayReport.to_json` is the contract of `custos scan-gateway --format json`
(docs/runtime.md). No I/O here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from custos.findings import Finding, Severity

Product = Literal["litellm", "kong", "envoy-ai-gateway"]
PRODUCT_NAMES: Mapping[Product, str] = {
    "litellm": "LiteLLM proxy config",
    "kong": "Kong declarative config",
    "envoy-ai-gateway": "Envoy AI Gateway resources",
}

Where = tuple[str | int, ...]


@dataclass(frozen=True, eq=False)
class Doc:
    """One YAML document of a file: its data and its node tree (for line numbers)."""

    path: Path
    index: int  # 0-based position in a multi-document file
    data: Any
    root: yaml.Node | None

    def line(self, where: Sequence[str | int]) -> int | None:
        """1-based line of the key (or list item) at `where`, or of its nearest parent that
        exists. Where a key repeats, the last one counts, as it does for the data."""
        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        for part in where:
            step = _child(node, part)
            if step is None:
                break
            mark, node = step
            line = mark.start_mark.line + 1
        return line


def _child(node: yaml.Node | None, part: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """(the node whose line names the step: a key, or a list item; the value) of one step."""
    if isinstance(node, yaml.MappingNode):
        found: tuple[yaml.Node, yaml.Node] | None = None
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                found = (key, value)
        return found
    if (
        isinstance(node, yaml.SequenceNode)
        and isinstance(part, int)
        and 0 <= part < len(node.value)
    ):
        item: yaml.Node = node.value[part]
        return item, item
    return None


def pointer(where: Sequence[str | int]) -> str:
    """`("services", 0, "routes", 1)` -> `services[0].routes[1]` (empty for the whole file)."""
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass(frozen=True)
class Config:
    """A gateway configuration file, parsed."""

    path: Path
    product: Product
    docs: tuple[Doc, ...]


@dataclass(frozen=True)
class GatewayFinding:
    """One gap, at a place: the file, the line, and the key path inside the document."""

    rule: str
    severity: Severity
    message: str
    path: Path
    line: int | None
    where: str  # the key path (`pointer`), with `#N` in front for the Nth document of a file
    controls: tuple[str, ...] = ()

    def location(self, shown: str | None = None) -> str:
        """`file:line` (the file as `shown`, e.g. relative to a project)."""
        name = str(self.path) if shown is None else shown
        return f"{name}:{self.line}" if self.line is not None else name

    def finding(self, shown: str | None = None) -> Finding:
        return Finding(self.rule, self.severity, self.message, self.location(shown),
                       self.controls)  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        body = self.finding().to_json()
        body["line"] = self.line
        body["key"] = self.where
        return body


@dataclass(frozen=True)
class GatewayReport:
    """What was found in one file; `error` says why it could not be read as a gateway config
    (the other files are still reported)."""

    path: Path
    product: Product | None
    findings: tuple[GatewayFinding, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "product": self.product,
            "facts": dict(self.facts),
            "findings": [f.to_json() for f in self.findings],
            "error": self.error,
        }
