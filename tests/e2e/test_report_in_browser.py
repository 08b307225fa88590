"""The HTML report of the bundled example, opened in a real headless Chromium."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

from tests.cli.run import custos
from tests.e2e.browser import run_chromium

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "out" / "test-artifacts"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_demo_report_renders_offline_in_chromium(tmp_path: Path) -> None:
    project = tmp_path / "fraud-detection"
    shutil.copytree(ROOT / "examples" / "fraud-detection", project,
                    ignore=shutil.ignore_patterns(".custos", "custos-report*"))  # fmt: skip
    report = tmp_path / "report.html"
    for args in (("scan",), ("assess",), ("report", "--format", "html", "--out", str(report))):
        result = custos(args[0], str(project), *args[1:])
        assert result.code == 0, result.err

    dom = run_chromium(["--dump-dom", report.as_uri()], tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    for heading in ("Executive summary", "Statement of Applicability", "Roadmap", "Risks"):
        assert heading in dom.stdout
    assert "Kestrel Payments" in dom.stdout

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "fraud-detection-report.png"
    shot.unlink(missing_ok=True)
    taken = run_chromium(
        [f"--screenshot={shot}", "--window-size=1280,2400", report.as_uri()],
        tmp_path / "profile-shot",
    )
    assert taken.returncode == 0, taken.stderr[-2000:]
    data = shot.read_bytes()
    assert _png_size(data) == (1280, 2400)
    assert len(data) > 50_000  # a blank page compresses to a few KB
