"""Issue 24, part A: the scanner cannot be steered away from a payload a real load reaches.

Three classes, each with attacks built here and checked against the independent oracle
(tests/modelfile/oracle.py: the real unpicklers with every import replaced by a recorder):

1. recognition: 64 KiB and more of few distinct opcodes and no import (NONE, NONE/POP, MARK,
   empty FRAMEs, one big BINBYTES or BINUNICODE then POP, past the machine's tracking limit)
   before the payload, at top level and as torch zip members (`archive/data.pkl` and others);
   FRAMEs read as the most lenient loader reads them (crossed, or past the end of the data);
2. two readings of one joblib file: bytes joblib reads as array data, pickle.load as opcodes;
3. describing a call whose arguments nest hundreds of thousands deep.

Malicious variants must be critical, clean ones (same padding, no payload) low at most.
"""

from __future__ import annotations

import io
import pickletools
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from custos.checks.model import Severity
from custos.modelfile.detect import detect, pickle_verdict, unpickled_member
from custos.modelfile.dispatch import scan_file
from custos.modelfile.pickle.values import describe
from custos.modelfile.policy import Policy
from custos.modelfile.report import FileReport
from tests.modelfile import oracle
from tests.modelfile.conftest import worst
from tests.modelfile.picklegen import (
    EMPTY_DICT,
    MARK,
    NONE,
    POP,
    REDUCE,
    STOP,
    TUPLE,
    binbytes,
    bu,
    call,
    glob,
)

WINDOW = 1 << 16  # what detection used to sample
PAYLOAD = call(glob("os", "system"), bu("echo pwned"))
EMPTY_FRAME = b"\x95" + struct.pack("<Q", 0)
PROTO4 = b"\x80\x04"

PADDINGS: dict[str, Callable[[int], bytes]] = {
    "none": lambda n: NONE * n,
    "none-pop": lambda n: (NONE + POP) * (n // 2),
    "mark": lambda n: MARK * n,
    "mark-pop-mark": lambda n: (MARK + b"1") * (n // 2),
    "empty-frames": lambda n: EMPTY_FRAME * (n // len(EMPTY_FRAME) + 1),
    "big-binbytes": lambda n: binbytes(b"\0" * n) + POP,
    "big-binunicode": lambda n: bu("A" * n) + POP,
    "past-tracking-limit": lambda n: NONE * 150_000 + (NONE + POP) * 1000,
}
PREFIXES = {"bare": b"", "proto4": PROTO4}


def malicious(padding: str, prefix: str = "bare", *, tail: bytes = STOP) -> bytes:
    return PREFIXES[prefix] + PADDINGS[padding](WINDOW) + PAYLOAD + tail


def clean(padding: str, prefix: str = "bare") -> bytes:
    return PREFIXES[prefix] + PADDINGS[padding](WINDOW) + EMPTY_DICT + STOP


def well_formed(data: bytes) -> bytes:
    """Generation-time check: pickletools reads every opcode and argument to the final STOP
    (genops, not dis: padding may leave items on the stack, which loaders accept)."""
    ops = list(pickletools.genops(data))
    assert ops[-1][0].name == "STOP"
    assert ops[-1][2] == len(data) - 1
    return data


def scan(tmp_path: Path, data: bytes, name: str = "model.bin") -> FileReport:
    path = tmp_path / name
    path.write_bytes(data)
    return scan_file(path, Policy.default())


def critical_system(report: FileReport) -> bool:
    return any(
        f.severity == Severity.critical and "os.system" in f.message for f in report.findings
    )


# --- 1. recognition ----------------------------------------------------------------------


@pytest.mark.parametrize("prefix", sorted(PREFIXES))
@pytest.mark.parametrize("padding", sorted(PADDINGS))
def test_payload_after_padding_is_found(tmp_path: Path, padding: str, prefix: str) -> None:
    data = well_formed(malicious(padding, prefix))
    assert oracle.reached(data).dangerous
    report = scan(tmp_path, data)
    assert report.format == "pickle", report.findings
    assert critical_system(report), report.findings


@pytest.mark.parametrize("padding", sorted(PADDINGS))
def test_payload_after_padding_in_a_broken_stream_is_found(tmp_path: Path, padding: str) -> None:
    # No STOP, junk instead: pickle.loads still runs os.system before it fails.
    data = malicious(padding, tail=b"\xff")
    reached = oracle.reached(data)
    assert reached.dangerous
    assert reached.error
    assert pickle_verdict(io.BytesIO(data), len(data), strict=True)
    assert critical_system(scan(tmp_path, data))


@pytest.mark.parametrize("prefix", sorted(PREFIXES))
@pytest.mark.parametrize("padding", sorted(PADDINGS))
def test_same_padding_without_payload_is_clean(tmp_path: Path, padding: str, prefix: str) -> None:
    data = well_formed(clean(padding, prefix))
    reached = oracle.reached(data)
    assert not reached.dangerous
    assert reached.error is None  # the loader accepts the whole stream
    report = scan(tmp_path, data)
    assert report.format == "pickle"
    assert worst(report) <= Severity.low, report.findings


@pytest.mark.parametrize("padding", sorted(PADDINGS))
@pytest.mark.parametrize("member", [False, True])
def test_padding_alone_is_not_a_pickle(padding: str, member: bool) -> None:
    # Valid opcodes to the end of the stream and no import: a loader fails having done
    # nothing, as with raw tensor bytes filled with one value. Walked, not sampled.
    data = PADDINGS[padding](2 * WINDOW)
    assert not oracle.reached(data).dangerous
    assert not pickle_verdict(data, len(data), strict=member)
    assert detect(io.BytesIO(data), member=member).format != "pickle"


def test_padding_alone_after_proto_is_a_broken_pickle_file(tmp_path: Path) -> None:
    data = PROTO4 + PADDINGS["none-pop"](2 * WINDOW)
    report = scan(tmp_path, data)
    assert report.format == "pickle"
    assert {f.rule for f in report.findings} == {"pickle/truncated"}


LONG_PATH = "path.os." * 1000 + "system"  # os.path.os.path...os.system, 8 kB long


@pytest.mark.parametrize(
    "spelling",
    [
        PROTO4 + bu("os") + bu(LONG_PATH) + b"\x93",  # STACK_GLOBAL: too long to keep
        PROTO4 + b"cos\n" + LONG_PATH.encode() * 200 + b"\n",  # GLOBAL: past MAX_LINE
    ],
)
def test_import_of_a_long_attribute_path_counts(tmp_path: Path, spelling: bytes) -> None:
    # Protocol 4 resolves dotted names attribute by attribute: however long, it is an import
    # (here in a broken stream, where only an import makes it a pickle).
    data = spelling + MARK + bu("echo pwned") + TUPLE + REDUCE + b"\xff"
    assert pickle_verdict(data, len(data), strict=True)
    if len(spelling) < 10_000:
        assert oracle.reached(data).dangerous
        assert worst(scan(tmp_path, zip_of({"a/w.bin": data}))) == Severity.critical


def test_a_module_line_too_long_to_import_is_not_an_import() -> None:
    # Text that starts with "c" and runs 2 MiB before its first newline: no module is named so.
    data = b"c" + b"x" * (2 << 20) + b"\nname\nmore text"
    assert not pickle_verdict(data, len(data), strict=False)


def frame(length: int) -> bytes:
    return b"\x95" + struct.pack("<Q", length)


FRAMED = {
    # _pickle.c lets opcodes cross a frame's end: a FRAME is only a read-ahead to it
    "frame-ends-inside-global": frame(5) + PAYLOAD + STOP,
    "frame-inside-frame": PROTO4 + frame(20) + frame(3) + PAYLOAD + STOP,
    # pickle._Unpickler (joblib, dill) reads a frame cut short by the end of the data
    "frame-past-the-end": frame(1000) + PAYLOAD + STOP,
    "proto-frame-past-the-end": PROTO4 + frame(1000) + PAYLOAD + STOP,
}


@pytest.mark.parametrize("member", [False, True])
@pytest.mark.parametrize("case", sorted(FRAMED))
def test_frames_read_as_some_loader_reads_them(tmp_path: Path, case: str, member: bool) -> None:
    data = FRAMED[case]
    assert oracle.reached(data).dangerous
    assert pickle_verdict(data, len(data), strict=member)
    report = scan(tmp_path, zip_of({"a/weights.bin": data}) if member else data)
    assert critical_system(report), report.findings


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


BENIGN_DATA_PKL = well_formed(b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01K\x01s.")
TORCH_MEMBERS = ("archive/data.pkl", "archive/data/0", "archive/extra.bin")


def torch_zip(member: str, data: bytes) -> bytes:
    members = {
        "archive/data.pkl": BENIGN_DATA_PKL,
        "archive/data/0": struct.pack("<4f", 1.0, 2.0, 3.0, 4.0),
        "archive/version": b"3\n",
    }
    members[member] = data
    return zip_of(members)


@pytest.mark.parametrize("member", TORCH_MEMBERS)
@pytest.mark.parametrize("padding", sorted(PADDINGS))
def test_payload_after_padding_in_a_torch_member_is_found(
    tmp_path: Path, padding: str, member: str
) -> None:
    data = well_formed(malicious(padding, "proto4" if member.endswith(".pkl") else "bare"))
    archive = torch_zip(member, data)
    if member == "archive/data.pkl":
        assert oracle.torch_reached(archive).dangerous  # what torch.load reads
    assert oracle.reached(data).dangerous  # what pickle.load of the member reaches
    report = scan(tmp_path, archive, "model.pt")
    assert report.format == "pytorch-zip"
    assert critical_system(report), report.findings


@pytest.mark.parametrize("member", TORCH_MEMBERS)
@pytest.mark.parametrize("padding", sorted(PADDINGS))
def test_padding_in_a_torch_member_without_payload_is_clean(
    tmp_path: Path, padding: str, member: str
) -> None:
    data = clean(padding, "proto4") if member.endswith(".pkl") else PADDINGS[padding](WINDOW)
    archive = torch_zip(member, data)
    assert not oracle.torch_reached(archive).dangerous
    report = scan(tmp_path, archive, "model.pt")
    assert report.format == "pytorch-zip"
    assert worst(report) <= Severity.low, report.findings


@pytest.mark.parametrize(
    "content", [b"hello, this is not a pickle\n", bytes(range(256)) * 4, NONE * WINDOW]
)
def test_the_member_torch_load_unpickles_is_never_passed_over(
    tmp_path: Path, content: bytes
) -> None:
    # Not a pickle by content, but torch.load unpickles archive/data.pkl whatever it holds:
    # analysed as a (broken) pickle, reported, never skipped as text or unknown data.
    report = scan(tmp_path, torch_zip("archive/data.pkl", content), "model.pt")
    assert report.format == "pytorch-zip"
    broken = [f for f in report.findings if "!archive/data.pkl" in f.location]
    assert any(f.rule.startswith("pickle/") and f.severity >= Severity.high for f in broken)
    # the same bytes in a member nothing unpickles by name stay data
    report = scan(tmp_path, torch_zip("archive/extra.bin", content), "model.pt")
    assert worst(report) <= Severity.low, report.findings


def test_unpickled_member_names() -> None:
    assert unpickled_member("m.pt!archive/data.pkl")
    assert unpickled_member("m.pt!archive/data.pkl#2")
    assert unpickled_member("m.pt!archive/data.pkl@hidden120")
    assert not unpickled_member("m.pt!archive/data/0")
    assert not unpickled_member("data.pkl")  # a file on its own: judged by content
    assert not unpickled_member("m.pt!archive/data.pkl.bak")


# --- 2. two readings of a joblib file ----------------------------------------------------


def joblib_dump(value: object) -> bytes:
    joblib = pytest.importorskip("joblib")
    out = io.BytesIO()
    joblib.dump(value, out)
    return out.getvalue()


def double_reading(payload: bytes) -> bytes:
    """A joblib file whose first array's padding is `payload` for pickle.load: the padding
    length byte is MARK (40), which joblib reads as "40 bytes of padding follow" and
    pickle.load as an opcode, then the 40 bytes (joblib skips them, pickle.load runs them)."""
    np = pytest.importorskip("numpy")
    data = joblib_dump({"w": np.frombuffer(b"ABCDEFGH", dtype=np.uint8), "n": 3})
    array = data.index(b"ABCDEFGH")
    pad = len(data[:array]) - len(data[:array].rstrip(b"\xff"))  # joblib pads with 0xff
    start = array - pad - 1  # the padding length byte, right after the wrapper's BUILD
    assert data[start] == pad
    assert data[start - 1 : start] == b"b"
    assert len(payload) <= 40
    padding = payload + NONE * (40 - len(payload))
    return data[:start] + MARK + padding + data[array:]


def test_joblib_double_reading_reports_the_plain_reading(tmp_path: Path) -> None:
    data = double_reading(PAYLOAD + STOP)
    assert oracle.reached(data).dangerous  # pickle.load runs it
    assert not oracle.joblib_reached(data).dangerous  # joblib.load skips it as padding
    report = scan(tmp_path, data, "model.joblib")
    assert report.format == "joblib"
    hits = [f for f in report.findings if f.severity == Severity.critical]
    assert hits
    assert all("plain pickle.load reading" in f.message for f in hits), hits


def test_joblib_double_reading_without_stop_is_reported(tmp_path: Path) -> None:
    data = double_reading(PAYLOAD)  # then padding, array bytes and joblib's own opcodes
    assert oracle.reached(data).dangerous
    assert critical_system(scan(tmp_path, data, "model.joblib"))


def test_joblib_padding_that_is_only_data_stays_clean(tmp_path: Path) -> None:
    # The same trick with harmless opcodes: both readings load, nothing is reported.
    data = double_reading(NONE + POP + EMPTY_DICT + STOP)
    assert not oracle.reached(data).dangerous
    report = scan(tmp_path, data, "model.joblib")
    assert report.format == "joblib"
    assert worst(report) <= Severity.low, report.findings


def test_joblib_unmodified_is_clean(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    data = joblib_dump({"w": np.arange(100.0), "b": np.ones((3, 4), dtype=np.int8), "n": 3})
    report = scan(tmp_path, data, "model.joblib")
    assert report.format == "joblib"
    assert worst(report) <= Severity.low, report.findings


# --- 3. describing deep values -----------------------------------------------------------


def nested(depth: int) -> bytes:
    return bu("echo pwned") + b"\x85" * depth  # TUPLE1, depth times


DEEP = {
    "args-350": glob("os", "system") + nested(350) + b"\x85" + REDUCE + STOP,
    "args-200k": glob("os", "system") + nested(200_000) + b"\x85" + REDUCE + STOP,
    "call-chain": glob("os", "system") + MARK + bu("x") + TUPLE + REDUCE
    + (MARK + TUPLE + REDUCE) * 50_000 + STOP,
    # a dict key: hash() of a tuple nested 200,000 deep overflows C's stack (a segfault)
    "dict-key": EMPTY_DICT + nested(300_000) + NONE + b"s" + POP + PAYLOAD + STOP,
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(DEEP))
def test_deep_values_do_not_lose_the_finding(tmp_path: Path, case: str) -> None:
    data = DEEP[case]
    if case == "args-350":
        assert oracle.reached(data).dangerous
    report = scan(tmp_path, data)
    assert report.error is None, report.error
    assert critical_system(report), report.findings
    assert "pickle/malformed" not in {f.rule for f in report.findings}


def test_describe_is_bounded_and_never_raises() -> None:
    value: object = "x"
    for _ in range(100_000):
        value = (value,)
    text = describe(value)
    assert len(text) < 200
    assert "..." in text
    assert describe(10**5000) == "<large int>"
