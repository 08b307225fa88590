"""Which files of a tree are gateway configurations, by content: a YAML file with a top-level
`model_list:` (LiteLLM), `_format_version:` (Kong) or an `apiVersion: aigateway.envoyproxy.io/`
resource (Envoy AI Gateway). Envoy Gateway resources (`gateway.envoyproxy.io/`: the
SecurityPolicy, BackendTrafficPolicy and EnvoyProxy an AI Gateway relies on) come along when
they sit in the same directory as an AI Gateway file. Only the first 64 KiB of a file is read
to decide; Helm templates (files with `{{` under a `templates/` directory) are left out, as
they are not YAML until rendered.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from custos.gateways.model import Product
from custos.inventory.discover import MAX_FILES, SKIP_DIRS

HEAD = 64 * 1024
SUFFIXES = (".yaml", ".yml")
MARKERS: tuple[tuple[Product, re.Pattern[bytes]], ...] = (
    ("envoy-ai-gateway", re.compile(rb"^apiVersion\s*:\s*[\"']?aigateway\.envoyproxy\.io/", re.M)),
    ("kong", re.compile(rb"^[\"']?_format_version[\"']?\s*:", re.M)),
    ("litellm", re.compile(rb"^model_list\s*:", re.M)),
)
COMPANION = re.compile(rb"^apiVersion\s*:\s*[\"']?gateway\.envoyproxy\.io/", re.M)


def sniff(head: bytes) -> Product | None:
    """The product a file's first bytes show, if any."""
    for product, marker in MARKERS:
        if marker.search(head):
            return product
    return None


def discover(root: Path, max_files: int = MAX_FILES) -> list[tuple[Path, Product]]:
    """The gateway configurations under `root` (a file is returned as itself if it is one),
    sorted by path."""
    if root.is_file():
        product = _sniff_file(root, root.parent.resolve())
        return [(root, product)] if product else []
    real = root.resolve()
    found: list[tuple[Path, Product]] = []
    companions: list[Path] = []
    for path in _yaml_files(root, max_files):  # paths as `root` was given
        head = _head(path, real)
        product = sniff(head) if head is not None else None
        if product is not None:
            found.append((path, product))
        elif head is not None and COMPANION.search(head):
            companions.append(path)
    ai_dirs = {p.parent for p, product in found if product == "envoy-ai-gateway"}
    found += [(p, "envoy-ai-gateway") for p in companions if p.parent in ai_dirs]
    return sorted(found)


def _yaml_files(base: Path, max_files: int) -> Iterator[Path]:
    """The YAML files under `base`, skipping caches, VCS and virtualenvs; at most `max_files`
    files are looked at."""
    seen = 0
    for dirpath, dirnames, filenames in os.walk(base):  # symlinked dirs are listed, not entered
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            seen += 1
            if seen > max_files:
                return
            if name.lower().endswith(SUFFIXES):
                yield Path(dirpath) / name


def _head(path: Path, real: Path) -> bytes | None:
    try:
        if path.is_symlink() and not path.resolve().is_relative_to(real):
            return None  # never read outside the tree we were asked to search
        if not path.is_file():
            return None
        with path.open("rb") as handle:
            head = handle.read(HEAD)
    except OSError:
        return None
    if b"{{" in head and "templates" in path.parts:
        return None
    return head


def _sniff_file(path: Path, real: Path) -> Product | None:
    head = _head(path, real)
    return sniff(head) if head is not None else None
