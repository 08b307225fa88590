"""Files that are not models under a model's name: said so at low (images, documents, markup,
databases), medium when they could carry code (executables, archives Custos does not open);
a pickle wearing a signature, or a file that starts like a pickle, is still a pickle."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from custos.checks.model import Severity
from custos.modelfile.policy import Policy
from tests.modelfile import nonmodels
from tests.modelfile.conftest import Scan, rules, worst
from tests.modelfile.zips import BENIGN, EVIL, make_zip, torch_zip

Maker = Callable[[], bytes]


@pytest.mark.parametrize("name", ["model.pt", "pytorch_model.bin", "model.pkl"])
@pytest.mark.parametrize(("fmt", "make"), sorted(nonmodels.DATA.items()))
def test_data_file_under_a_model_name_is_low(
    scan_bytes: Scan, name: str, fmt: str, make: Maker
) -> None:
    report = scan_bytes(make(), name, Policy.default())
    assert report.format == fmt
    assert rules(report) == {"format/not-a-model"}
    assert worst(report) == Severity.low


@pytest.mark.parametrize(("fmt", "make"), sorted(nonmodels.CODE.items()))
def test_executable_is_medium(scan_bytes: Scan, fmt: str, make: Maker) -> None:
    report = scan_bytes(make(), "model.bin", Policy.default())
    assert report.format == fmt
    assert rules(report) == {"format/executable"}
    assert worst(report) == Severity.medium


@pytest.mark.parametrize(("fmt", "make"), sorted(nonmodels.ARCHIVES.items()))
def test_archive_type_not_opened_is_medium_not_analysed(
    scan_bytes: Scan, fmt: str, make: Maker
) -> None:
    report = scan_bytes(make(), "model.bin", Policy.default())
    assert report.format == fmt
    assert rules(report) == {"format/not-analysed"}
    assert worst(report) == Severity.medium


def test_unopened_archive_inside_a_zip_is_still_medium(scan_bytes: Scan) -> None:
    # Inside an archive too: unanalysable content that could carry code never passes as low.
    data = make_zip([("weights.rar", nonmodels.rar()), ("card.png", nonmodels.png())])
    report = scan_bytes(data, "model.zip", Policy.default())
    assert rules(report) == {"format/not-analysed"}  # the picture is unremarkable in there


def test_unknown_bytes_stay_low(scan_bytes: Scan) -> None:
    report = scan_bytes(bytes(range(7, 250)) * 4, "model.bin", Policy.default())
    assert rules(report) == {"format/unknown"}


def test_pickle_behind_a_gif_signature_is_a_pickle(scan_bytes: Scan) -> None:
    # 'G' is BINFLOAT: "GIF89a" plus three bytes is a float, POP drops it, then the payload.
    report = scan_bytes(b"GIF89a\0\0\x000" + EVIL, "cat.gif", Policy.default())
    assert report.format == "pickle"
    assert worst(report) == Severity.critical


def test_pickle_that_breaks_into_an_image_is_still_a_broken_pickle(scan_bytes: Scan) -> None:
    report = scan_bytes(b"\x80\x02" + nonmodels.png(), "model.pt", Policy.default())
    assert report.format == "pickle"
    assert worst(report) >= Severity.high


def test_image_with_a_zip_appended_is_scanned_as_both(scan_bytes: Scan) -> None:
    report = scan_bytes(nonmodels.png() + make_zip([("p.pkl", EVIL)]), "x.png", Policy.default())
    assert "format/polyglot" in rules(report)
    assert worst(report) == Severity.critical


def test_html_is_still_read_as_text(scan_bytes: Scan) -> None:
    # A chat template file that starts like HTML is still a template the text scanner checks.
    template = b"<html>{% for m in messages %}{{ cycler.__init__.__globals__.os.popen('id') }}"
    template += b"{% endfor %}</html>"
    report = scan_bytes(template, "chat_template.jinja", Policy.default())
    assert "format/not-a-model" in rules(report)
    assert worst(report) >= Severity.high


@pytest.mark.parametrize("start", [b"\xca\xfe\xba\xbe", b"MZ", b"\x7fELF", b"\xff\xd8\xff"])
def test_tensor_bytes_that_start_like_a_signature_are_data(scan_bytes: Scan, start: bytes) -> None:
    # Short signatures are confirmed by their structure: raw weights in an archive whose first
    # float happens to spell one (0xcafebabe is -0.365 in float32) are not an executable.
    storage = start + bytes(range(200, 256)) * 8
    report = scan_bytes(torch_zip(BENIGN, [("archive/data/1", storage)]), "model.pt")
    assert worst(report) <= Severity.low, report.findings
