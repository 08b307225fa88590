"""End to end: malicious pickles are found at the right severity, benign ones stay quiet."""

from __future__ import annotations

import io
import pickle

import pytest

from custos.checks.model import Finding, Severity
from custos.modelfile.context import Limits, ScanContext
from custos.modelfile.pickle.scan import scan, scan_pickle_stream
from custos.modelfile.policy import Policy
from tests.modelfile import picklegen as gen

MALICIOUS = gen.malicious()
BENIGN = gen.benign()


def run(data: bytes, limits: Limits | None = None, policy: Policy | None = None) -> list[Finding]:
    ctx = ScanContext(policy=policy or Policy.default(), limits=limits or Limits())
    scan(io.BytesIO(data), "m.pkl", ctx)
    return ctx.findings


def has(findings: list[Finding], rule: str, severity: Severity, mentions: str = "") -> bool:
    return any(
        f.rule == rule and f.severity >= severity and mentions in f.message for f in findings
    )


@pytest.mark.parametrize("name", sorted(MALICIOUS))
def test_malicious_found_at_the_right_severity(name: str) -> None:
    case = MALICIOUS[name]
    findings = run(case.data)
    summary = [(f.rule, f.severity.name, f.message) for f in findings]
    assert has(findings, case.rule, case.severity, case.mentions), summary


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_benign_reports_nothing_above_low(name: str) -> None:
    findings = run(BENIGN[name])
    assert [f for f in findings if f.severity > Severity.low] == []


def test_finding_locations_point_at_opcodes() -> None:
    data = gen.p2(gen.call(gen.glob("os", "system"), gen.su("id")))
    (finding,) = run(data)
    assert finding.location == "m.pkl@2"  # after PROTO
    assert "called by REDUCE" in finding.message
    assert "'id'" in finding.message


def test_truncated_stream_keeps_what_came_before() -> None:
    findings = run(MALICIOUS["truncated-after-global"].data)
    assert has(findings, "pickle/dangerous-global", Severity.critical, "os.system")
    assert has(findings, "pickle/truncated", Severity.high)


def test_nested_pickle_findings_are_located_inside_the_payload() -> None:
    findings = run(MALICIOUS["nested-pickle-loads"].data)
    nested = [f for f in findings if "!nested@" in f.location]
    assert nested
    assert nested[0].rule == "pickle/dangerous-global"
    assert has(findings, "pickle/nested-pickle", Severity.info)
    assert has(findings, "pickle/dangerous-global", Severity.critical, "pickle.loads")


def test_nested_depth_is_bounded() -> None:
    data = gen.p2(gen.call(gen.glob("os", "system"), gen.su("id")))
    for _ in range(12):
        data = gen.p4(gen.sglob("pickle", "loads") + gen.binbytes(data) + gen.TUPLE1 + gen.REDUCE)
    findings = run(data)
    assert has(findings, "limits/depth", Severity.high)


def test_frame_disagreement_is_read_both_ways() -> None:
    findings = run(gen.frame_disagreement())
    assert has(findings, "pickle/frame-straddle", Severity.high)
    assert has(findings, "pickle/dangerous-global", Severity.critical, "second reading")


def test_frame_inside_frame_and_frame_past_stop() -> None:
    inner = gen.frame(gen.su("x") + gen.POP, length=20)
    findings = run(gen.PROTO4 + gen.frame(inner + gen.NONE + gen.STOP + b"\0" * 20))
    assert has(findings, "pickle/frame-straddle", Severity.high)


def test_frame_larger_than_the_stream_is_truncation() -> None:
    findings = run(gen.PROTO4 + gen.frame(gen.NONE + gen.STOP, length=1 << 40))
    assert has(findings, "pickle/truncated", Severity.high)


def test_memo_limit_reported_when_an_untracked_entry_is_read() -> None:
    body = b"".join(gen.su(f"s{i}") + gen.MEMOIZE + gen.POP for i in range(20))
    quiet = run(gen.p4(body + gen.NONE), Limits(max_memo=10))
    assert [f for f in quiet if f.severity > Severity.low] == []
    bomb = gen.p4(body + b"h\x0f" + gen.su("x") + gen.STACK_GLOBAL)
    findings = run(bomb, Limits(max_memo=10))
    assert has(findings, "limits/memo", Severity.high)
    assert has(findings, "pickle/unresolved-global", Severity.high)


def test_stack_bomb_hits_the_limit_and_globals_after_it_are_still_seen() -> None:
    body = gen.EMPTY_TUPLE * 5000 + gen.glob("os", "system")
    findings = run(gen.p2(body), Limits(max_stack=100))
    assert has(findings, "limits/stack", Severity.high)
    assert has(findings, "pickle/dangerous-global", Severity.critical, "os.system")


def test_mark_bomb_hits_the_stack_limit() -> None:
    findings = run(gen.p2(gen.MARK * 5000 + gen.NONE), Limits(max_stack=100))
    assert has(findings, "limits/stack", Severity.high)


def test_opcode_limit_stops_with_a_finding() -> None:
    findings = run(gen.p2((gen.NONE + gen.POP) * 5000 + gen.NONE), Limits(max_opcodes=1000))
    assert has(findings, "limits/opcodes", Severity.high)


def test_empty_and_garbage_streams_are_never_clean() -> None:
    assert has(run(b""), "pickle/truncated", Severity.high)
    assert has(run(b"\xff\xfe"), "pickle/malformed", Severity.high)
    assert has(run(pickle.dumps(1) + b"\x00junk"), "pickle/trailing-data", Severity.high)


def test_vm_error_then_stackless_walk_still_reports_globals() -> None:
    data = gen.p2(gen.POP + gen.glob("os", "system") + gen.NONE)  # POP on an empty stack
    findings = run(data)
    assert has(findings, "pickle/malformed", Severity.high, "stack")
    assert has(findings, "pickle/dangerous-global", Severity.critical, "os.system")


def test_only_first_pickle_when_asked() -> None:
    data = pickle.dumps([1]) + gen.p2(gen.call(gen.glob("os", "system"), gen.su("id")))
    ctx = ScanContext(policy=Policy.default())
    result = scan_pickle_stream(io.BytesIO(data), "m", ctx, all_pickles=False)
    assert (result.pickles, result.complete) == (1, True)
    assert result.end == len(pickle.dumps([1]))
    assert ctx.findings == []
    full = scan_pickle_stream(io.BytesIO(data), "m", ScanContext(policy=Policy.default()))
    assert (full.pickles, full.complete, full.end) == (2, True, len(data))


def test_user_policy_allows_and_denies() -> None:
    data = gen.p4(gen.call(gen.sglob("mylib", "Net")))
    assert run(data, policy=Policy.from_entries(allow=["mylib.Net"])) == []
    denied = run(BENIGN["ordered-dict-p4"], policy=Policy.from_entries(deny=["collections.*"]))
    assert has(denied, "pickle/dangerous-global", Severity.critical, "denied")


def test_large_payloads_are_skipped_not_read() -> None:
    data = pickle.dumps({"w": b"\0" * (3 << 20), "s": "x" * (2 << 20)}, protocol=4)
    assert run(data) == []


def test_large_nested_payload_from_protocol_2_bytes_is_scanned_lazily() -> None:
    evil = gen.call(gen.glob("os", "system"), gen.su("id"))
    nested = gen.p2(gen.binbytes(bytes(range(256)) * 8192) + gen.POP + evil)  # 2 MiB
    data = gen.p2(
        gen.call(
            gen.glob("torch.storage", "_load_from_bytes"),
            gen.call(
                gen.glob("_codecs", "encode"), gen.bu(nested.decode("latin-1")), gen.su("latin1")
            ),
        )
    )
    findings = run(data)
    assert has(findings, "pickle/nested-pickle", Severity.info)
    assert has(findings, "pickle/dangerous-global", Severity.critical, "os.system")


def test_many_distinct_names_are_aggregated() -> None:
    body = b"".join(gen.glob("mylib", f"Thing{i}") + gen.POP for i in range(10_050))
    findings = run(gen.p2(body + gen.NONE))
    assert len(findings) == 10_001
    assert "50 more distinct names" in findings[-1].message
