"""Files written by real PyTorch (`torch.save`, `torch.jit.save`), scanned with the real policy.

torch comes from the optional `torch` extra (make test installs it). Where it is missing the
tests skip loudly, except under CI=true, where a missing torch is a failure: these are the
benign files most users have, and a false positive on them would make the gate useless.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from custos.checks.model import Severity
from custos.modelfile.dispatch import scan_file
from custos.modelfile.policy import Policy
from custos.modelfile.report import FileReport
from tests.modelfile.conftest import rules, worst

if os.environ.get("CI", "").lower() == "true" or os.environ.get("CUSTOS_TEST_REQUIRE_TORCH"):
    import torch  # a missing torch fails the run in CI
else:
    torch = pytest.importorskip(
        "torch", reason="PyTorch not installed (pip install 'custos[torch]'): torch tests SKIPPED"
    )

# Built in a child process: torch.save of a module defined here would pickle it by reference to
# this test module; the child defines nothing and saves only torch's own classes.
SAVE = """
import sys, torch
from torch import nn
torch.manual_seed(0)
model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 10),
                      nn.LayerNorm(10), nn.Dropout(0.1))
kind, out = sys.argv[1], sys.argv[2]
if kind == "state_dict":
    torch.save(model.state_dict(), out)
elif kind == "module":
    torch.save(model, out)
elif kind == "legacy":
    torch.save(model.state_dict(), out, _use_new_zipfile_serialization=False)
elif kind == "checkpoint":
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(2, 1, 8, 8)).sum().backward()
    opt.step()
    torch.save({"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict(),
                "loss": torch.tensor(0.25)}, out)
elif kind == "torchscript":
    torch.jit.save(torch.jit.script(model), out)
elif kind == "evil":
    import os
    class Payload:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    torch.save({"weights": model.state_dict(), "hook": Payload()}, out)
"""


def saved(tmp_path: Path, kind: str, name: str = "model.pt") -> FileReport:
    path = tmp_path / name
    subprocess.run([sys.executable, "-c", SAVE, kind, str(path)], check=True, timeout=120)
    return scan_file(path, Policy.default())


@pytest.mark.parametrize("kind", ["state_dict", "module", "checkpoint"])
def test_torch_save_zip_files_are_clean(tmp_path: Path, kind: str) -> None:
    report = saved(tmp_path, kind)
    assert report.format == "pytorch-zip"
    assert report.error is None
    assert worst(report) <= Severity.low, report.findings


def test_legacy_torch_save_is_clean(tmp_path: Path) -> None:
    report = saved(tmp_path, "legacy", "model.bin")
    assert report.format == "pytorch-legacy"
    assert worst(report) <= Severity.low, report.findings


def test_torchscript_archive_is_recognised_and_reported(tmp_path: Path) -> None:
    report = saved(tmp_path, "torchscript")
    assert report.format == "torchscript"
    assert "torch/torchscript" in rules(report)
    assert worst(report) == Severity.medium, report.findings


def test_payload_in_torch_save_is_critical(tmp_path: Path) -> None:
    report = saved(tmp_path, "evil", "pytorch_model.bin")
    critical = [f for f in report.findings if f.severity == Severity.critical]
    assert critical, report.findings
    assert any("system" in f.message for f in critical)
    assert all("data.pkl" in f.location for f in critical)
