"""Fuzzing the pickle walker: no exception escapes, nothing hangs, and a stream that is not
walked to its end always carries a high finding (never "clean")."""

from __future__ import annotations

import collections
import io
import pickle
import pickletools
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custos.checks.model import Finding, Severity
from custos.modelfile.context import Limits, ScanContext
from custos.modelfile.pickle.scan import PickleResult, scan_pickle_stream
from custos.modelfile.policy import Policy
from tests.modelfile import picklegen as gen

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
POLICY = Policy.default()
LIMITS = Limits(max_memo=1000, max_stack=5000, max_opcodes=100_000)
SEEDS = [
    *gen.benign().values(),
    *(case.data for case in gen.malicious().values()),
    gen.frame_disagreement(),
    pickle.dumps({"k": [1, "two", 3.0, b"four", (5,)]}, protocol=0),
    pickle.dumps(collections.OrderedDict(a={1, 2}), protocol=5),
]
# Where pickletools is stricter than _pickle.c, which parses INT lines with strtol (base 0,
# stopping at a NUL): pickletools failing there does not mean the stream is not a pickle.
_TEXT_PARSE = ("invalid literal for int()", "could not convert string to float")


def scan(data: bytes) -> tuple[PickleResult, list[Finding]]:
    ctx = ScanContext(policy=POLICY, limits=LIMITS)
    started = time.monotonic()
    result = scan_pickle_stream(io.BytesIO(data), "fuzz", ctx)
    assert time.monotonic() - started < 10
    return result, ctx.findings


def high(findings: list[Finding]) -> bool:
    return any(f.severity >= Severity.high for f in findings)


def genops_walks_everything(data: bytes) -> bool | None:
    """True when pickletools walks every pickle in `data` to its end, False when it fails,
    None when it fails only on a text number _pickle.c would accept."""
    pos = 0
    while pos < len(data):
        end = None
        try:
            for op, _, at in pickletools.genops(io.BytesIO(data[pos:])):
                if op.name == "STOP":
                    end = pos + at + 1
        except ValueError as err:
            return None if any(text in str(err) for text in _TEXT_PARSE) else False
        except Exception:
            return False
        if end is None:
            return False
        pos = end
    return pos > 0


def check(data: bytes) -> None:
    result, findings = scan(data)
    if not result.complete:
        assert high(findings), findings
    if genops_walks_everything(data) is False:
        assert high(findings), findings


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes(data: bytes) -> None:
    check(data)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "splice"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif kind == "truncate":
            del data[at:]
        else:
            data[at:at] = draw(st.sampled_from(SEEDS))
    return bytes(data)


@FUZZ
@given(mutated())
def test_mutated_pickles(data: bytes) -> None:
    check(data)


plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.text(max_size=5), inner, max_size=5)
    | st.tuples(inner, inner)
    | st.frozensets(st.integers(), max_size=3),
    max_leaves=30,
)  # fmt: skip


@settings(max_examples=150, deadline=None, derandomize=True)
@given(plain, st.integers(0, 5))
def test_plain_data_is_clean_at_every_protocol(value: object, protocol: int) -> None:
    result, findings = scan(pickle.dumps(value, protocol=protocol))
    assert result.complete
    assert [f for f in findings if f.severity > Severity.low] == []
