"""`custos monitor`'s whole pipeline under generated input: random bytes, valid JSON Lines,
nginx, ALB and OpenTelemetry logs with bytes flipped, inserted and cut, JSON lines nested
thousands deep, a 2 MB line, aliases of the default field names pointing at each other. The
answer is always a report (with broken lines counted) or one clear line (UserError), never
another exception."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custos.accesslog.monitor import examine
from custos.accesslog.settings import Settings
from custos.errors import UserError
from tests.accesslog.test_readers import ALB, _row, _span

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fraud-detection" / "logs"
ALB_LINES = [ALB.format(s=i, h=i % 3, code=200, k=f"k{i % 2}") for i in range(40)]
OTEL = {"resourceSpans": [{"scopeSpans": [{"spans": [_span(i) for i in range(20)]}]}]}
SEEDS = {
    "jsonl": "".join(_row(i) + "\n" for i in range(40)).encode(),
    "nginx": b"".join((EXAMPLE / "access.log").read_bytes().splitlines(keepends=True)[:40]),
    "alb": "".join(line + "\n" for line in ALB_LINES).encode(),
    "otel": (json.dumps(OTEL) + "\n").encode(),
}
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _monitor(data: bytes, mapping: dict[str, str] | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "access.log"
        path.write_bytes(data)
        try:
            report, _ = examine([path], Settings(), mapping=mapping)
        except UserError as exc:
            refused = str(exc)
        else:
            json.dumps(report.to_json())  # always serialisable
            return
        assert "\n" not in refused


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes(data: bytes) -> None:
    _monitor(data)


@FUZZ
@given(
    st.sampled_from(sorted(SEEDS)),
    st.lists(st.tuples(st.integers(0, 6000), st.binary(min_size=1, max_size=8)), max_size=8),
    st.integers(1, 6000),
)
def test_mutated_logs_of_every_format(kind: str, edits: list[tuple[int, bytes]], cut: int) -> None:
    data = bytearray(SEEDS[kind])
    for at, inserted in edits:
        at %= len(data) + 1
        data[at : at + 1] = inserted
    _monitor(bytes(data[:cut]))


def test_deep_nesting_a_huge_line_and_crossed_aliases() -> None:
    deep = '{"ts": "2026-11-23T10:00:00Z", "input": ' + "[" * 20_000 + "]" * 20_000 + "}"
    huge = _row(1, input=[0.5] * 200_000)  # about 2 MB on one line
    body = "\n".join([_row(0), deep, huge, *(_row(i) for i in range(2, 30))]) + "\n"
    _monitor(body.encode())
    # field names mapped onto each other and onto nested paths that do not exist
    crossed = {"ts": "api_key", "api_key": "ts", "input": "a.b.c.d", "client_ip": "input"}
    _monitor(SEEDS["jsonl"], crossed)
