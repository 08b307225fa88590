"""The pipeline: paths in (files, or directories searched by content), configs parsed with the
safe YAML loader, each product's rules, one report per file out. A file that cannot be read as
a gateway configuration gets a report with an `error` naming the file and the line; the other
files are still judged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from custos.errors import DataError, UserError
from custos.gateways import envoy, kong, litellm
from custos.gateways.discover import discover
from custos.gateways.model import Config, Doc, GatewayFinding, GatewayReport, Product
from custos.gateways.rules import Collector, as_dict

MAX_BYTES = 16 * 1024 * 1024  # far beyond any real gateway config
NOT_A_GATEWAY = (
    "not a LiteLLM, Kong or Envoy AI Gateway configuration (no model_list, _format_version or "
    "gateway.envoyproxy.io resources)"
)

try:  # libyaml is several times faster; both are the *safe* loader.
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader


def parse(text: str, path: Path) -> tuple[Doc, ...]:
    """Every YAML document of `text`, safely; DataError names the file and the line."""
    loader = _Loader(text)
    docs: list[Doc] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            docs.append(Doc(path, len(docs), loader.construct_document(node), node))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise DataError(path, f"invalid YAML: {exc.problem or exc.context or 'unreadable'}",
                        line) from None  # fmt: skip
    except yaml.YAMLError as exc:
        raise DataError(path, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise DataError(path, "invalid YAML: nested too deeply") from None
    finally:
        loader.dispose()
    return tuple(docs)


def detect(docs: Sequence[Doc]) -> Product | None:
    """Which product the parsed documents configure, if any."""
    for doc in docs:
        api = as_dict(doc.data).get("apiVersion")
        if isinstance(api, str) and api.startswith(("aigateway.envoyproxy.io/",
                                                    "gateway.envoyproxy.io/")):  # fmt: skip
            return "envoy-ai-gateway"
    first = as_dict(docs[0].data) if len(docs) == 1 else {}
    if "_format_version" in first:
        return "kong"
    if "model_list" in first or "general_settings" in first or "litellm_settings" in first:
        return "litellm"
    return None


def load(path: Path) -> Config:
    """Read and parse one gateway configuration; UserError (a DataError where the file is at
    fault) says why it cannot be judged."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise DataError(path, f"{size:,} bytes: too large for a gateway configuration")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(path, "no such file") from None
    except IsADirectoryError:
        raise DataError(path, "is a directory") from None
    except OSError as exc:
        raise DataError(path, f"cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(path, "not UTF-8 text") from None
    docs = parse(text, path)
    product = detect(docs) if docs else None
    if product is None:
        raise DataError(path, NOT_A_GATEWAY)
    return Config(path, product, docs)


def judge(configs: Sequence[Config]) -> list[GatewayReport]:
    """Each product's rules on the parsed configs (the Envoy resources of all files
    together); one report per config, findings by line."""
    found: dict[Path, list[GatewayFinding]] = defaultdict(list)
    facts: dict[Path, dict[str, Any]] = {}
    for config in configs:
        if config.product == "envoy-ai-gateway":
            continue
        collector = Collector()
        module = litellm if config.product == "litellm" else kong
        facts[config.path] = module.analyse(config, collector)
        found[config.path] += collector.found
    envoys = [c for c in configs if c.product == "envoy-ai-gateway"]
    if envoys:
        collector = Collector()
        facts.update(envoy.analyse(envoys, collector))
        for finding in collector.found:
            found[finding.path].append(finding)
    return [
        GatewayReport(c.path, c.product, tuple(sorted(found[c.path], key=_order)), facts[c.path])
        for c in configs
    ]


def _order(finding: GatewayFinding) -> tuple[int, int, str]:
    return (finding.line or 0, -finding.severity, finding.rule)


def expand(paths: Iterable[Path]) -> tuple[list[Path], list[GatewayReport]]:
    """Files to read: each file as given, and the gateway configs found by content under each
    directory (an error report for a directory that holds none). Duplicates are dropped."""
    files: list[Path] = []
    errors: list[GatewayReport] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            inside = [p for p, _ in discover(path)]
            if not inside:
                why = f"{path}: no LiteLLM, Kong or Envoy AI Gateway configuration found under it"
                errors.append(GatewayReport(path, None, error=why))
        else:
            inside = [path]
        for item in inside:
            key = item.resolve()
            if key not in seen:
                seen.add(key)
                files.append(item)
    return files, errors


def scan_paths(paths: Sequence[Path]) -> list[GatewayReport]:
    """Reports for files and directories, in the order given; unreadable ones carry `error`."""
    files, errors = expand(paths)
    configs: list[Config] = []
    failed: dict[Path, GatewayReport] = {}
    for path in files:
        try:
            configs.append(load(path))
        except UserError as exc:
            failed[path] = GatewayReport(path, None, error=str(exc).splitlines()[0])
    judged = {r.path: r for r in judge(configs)}
    return [judged.get(p) or failed[p] for p in files] + errors
