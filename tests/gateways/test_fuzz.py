"""`custos scan-gateway` under generated input: random bytes, the committed configs of each
product with bytes flipped, inserted and cut, YAML nested thousands deep, a 5 MB file, and
anchors and aliases everywhere (also the billion-laughs test in test_gateway_rules.py). The
answer is always a report, with `error` set (one line) when the file is not a readable config,
never an exception."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custos.gateways.scan import scan_paths

CONFIGS = Path(__file__).resolve().parent / "configs"
SEEDS = {p.name: p.read_bytes() for p in sorted(CONFIGS.glob("*.yaml"))}
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _scan(data: bytes, name: str = "config.yaml") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        (report,) = scan_paths([path])
        assert report.error is None or "\n" not in report.error
        json.dumps(report.to_json())


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    _scan(data)


@FUZZ
@given(
    st.sampled_from(sorted(SEEDS)),
    st.lists(st.tuples(st.integers(0, 8000), st.binary(min_size=1, max_size=8)), max_size=8),
    st.integers(1, 8000),
)
def test_mutated_configs(name: str, edits: list[tuple[int, bytes]], cut: int) -> None:
    data = bytearray(SEEDS[name])
    for at, inserted in edits:
        at %= len(data) + 1
        data[at : at + 1] = inserted
    _scan(bytes(data[:cut]), name)


def test_deep_huge_and_alias_laden_configs() -> None:
    _scan(b"model_list: " + b"[" * 50_000 + b"]" * 50_000 + b"\n")
    _scan(b"_format_version: '3.0'\nservices:\n" + b"  - name: s\n    url: http://x\n" * 60_000)
    aliased = (b"general_settings: &g {master_key: os.environ/KEY}\n"
               b"model_list:\n" + b"  - &m {model_name: a, litellm_params: *g}\n"
               + b"  - *m\n" * 2000 + b"litellm_settings: *g\nrouter_settings: *g\n")  # fmt: skip
    _scan(aliased)
