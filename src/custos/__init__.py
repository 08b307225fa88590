"""Custos: ISO/IEC 27002:2022 security controls for AI systems, verified on real artifacts.

Most people use the `custos` command (see the README). From Python, the catalog is the stable
surface today::

    from custos.catalog import load_catalog, crosswalk

    catalog = load_catalog()                      # shipped frameworks + your imported ones
    req = catalog.control("custos:ai:model-signing")
    print(req.title, "extends", req.parent)       # an ISO/IEC 27002 control
    for hit in crosswalk(catalog, req.id, to_framework="iso42001"):
        print(hit.target, hit.relationship, hit.path)

Errors raised on purpose derive from `custos.errors.CustosError`; `UserError` (and its
`DataError`, which names file and line) means the input needs fixing.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from custos import errors

__version__ = "0.1.0"

__all__ = ["__version__", "catalog", "errors"]


def __getattr__(name: str) -> ModuleType:
    # `custos.catalog` is loaded on first use: commands that never touch the catalog (scan-model)
    # should not pay for parsing it.
    if name == "catalog":
        return importlib.import_module("custos.catalog")
    raise AttributeError(f"module 'custos' has no attribute {name!r}")
