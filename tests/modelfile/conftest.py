"""Fixtures for the format and container scanners.

`fake_pickle` replaces the pickle analyser with a static disassembler (pickletools.genops; it
never loads anything) that reports every global a stream imports as `test/global`, so container
tests can check exactly which pickle bytes reached the analyser, with which offsets.
"""

from __future__ import annotations

import io
import pickletools
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest

from custos.checks.model import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.dispatch import scan_file
from custos.modelfile.report import FileReport


class FakeAnalyser:
    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes, bool]] = []

    def scan(self, stream: BinaryIO, location: str, ctx: ScanContext) -> types.SimpleNamespace:
        # Like the real analyser, say whether joblib's array wrapper is imported.
        mark = len(ctx.findings)
        self.scan_pickle_stream(stream, location, ctx, all_pickles=True)
        names = [f.message for f in ctx.findings[mark:] if f.rule == "test/global"]
        return types.SimpleNamespace(joblib=any(n.endswith("NumpyArrayWrapper") for n in names))

    def scan_pickle_stream(
        self, stream: BinaryIO, location: str, ctx: ScanContext, all_pickles: bool = True
    ) -> None:
        data = stream.read()
        self.calls.append((location, data, all_pickles))
        pos = 0
        while pos < len(data):
            strings: list[str] = []
            end = None
            try:
                for op, arg, at in pickletools.genops(io.BytesIO(data[pos:])):
                    if isinstance(arg, str):
                        strings.append(arg)
                    if op.name in ("GLOBAL", "INST"):
                        name = str(arg).replace(" ", ".")
                        ctx.emit("test/global", Severity.info, name, f"{location}@{pos + at}")
                    elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                        name = f"{strings[-2]}.{strings[-1]}"
                        ctx.emit("test/global", Severity.info, name, f"{location}@{pos + at}")
                    if op.name == "STOP":
                        end = pos + at + 1
            except Exception as err:
                ctx.emit("test/malformed", Severity.high, str(err), f"{location}@{pos}")
                return
            if end is None or not all_pickles:
                return
            pos = end


@pytest.fixture
def fake_pickle(monkeypatch: pytest.MonkeyPatch) -> FakeAnalyser:
    fake = FakeAnalyser()
    module = types.ModuleType("custos.modelfile.pickle.scan")
    module.scan = fake.scan  # type: ignore[attr-defined]
    module.scan_pickle_stream = fake.scan_pickle_stream  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "custos.modelfile.pickle.scan", module)
    return fake


Scan = Callable[..., FileReport]


@pytest.fixture
def scan_bytes(tmp_path: Path) -> Scan:
    """Write bytes to a file and scan it (policy None: container tests use fake_pickle)."""

    def run(data: bytes, name: str = "model.bin", policy: object = None) -> FileReport:
        path = tmp_path / name
        path.write_bytes(data)
        return scan_file(path, policy)

    return run


def rules(report: FileReport) -> set[str]:
    return {f.rule for f in report.findings}


def globals_seen(report: FileReport) -> set[str]:
    return {f.message for f in report.findings if f.rule == "test/global"}


def worst(report: FileReport) -> Severity:
    return max((f.severity for f in report.findings), default=Severity.info)
