"""The symbolic machine: stack, marks and memo as CPython keeps them; names and calls found."""

from __future__ import annotations

import io
import pickle

import pytest

from custos.modelfile.context import Limits
from custos.modelfile.pickle.core import VMError
from custos.modelfile.pickle.reader import OpReader
from custos.modelfile.pickle.values import Call, Global, Unresolved
from custos.modelfile.pickle.vm import OpcodeLimit, PickleVM
from tests.modelfile import picklegen as gen


class Recorder:
    def __init__(self) -> None:
        self.imports: list[Global] = []
        self.calls: list[Call] = []
        self.unresolved_sites: list[Unresolved] = []
        self.events: list[tuple[str, int, str]] = []

    def imported(self, site: Global) -> None:
        self.imports.append(site)

    def unresolved(self, site: Unresolved) -> None:
        self.unresolved_sites.append(site)

    def called(self, call: Call) -> None:
        self.calls.append(call)

    def mutated(self, offset: int, target: object, how: str) -> None:
        self.events.append(("mutated", offset, how))

    def extension(self, offset: int, code: int) -> None:
        self.events.append(("ext", offset, str(code)))

    def limit(self, rule: str, offset: int, message: str) -> None:
        self.events.append((rule, offset, message))

    def note(self, rule: str, offset: int, message: str) -> None:
        self.events.append((rule, offset, message))

    @property
    def names(self) -> list[str]:
        return [site.full for site in self.imports]


def machine(data: bytes, limits: Limits | None = None) -> tuple[PickleVM, Recorder]:
    recorder = Recorder()
    vm = PickleVM(OpReader(io.BytesIO(data)), recorder, limits or Limits())
    return vm, recorder


def run(data: bytes, limits: Limits | None = None) -> Recorder:
    vm, recorder = machine(data, limits)
    vm.run()
    return recorder


def test_stack_global_operands_from_the_memo() -> None:
    rec = run(gen.malicious()["subprocess-from-memo"].data)
    assert rec.names == ["subprocess.Popen"]
    assert rec.calls[0].args == ("id",)


def test_memo_holds_references_not_copies() -> None:
    # a list stored in the memo, appended to later, read back: one object, as in CPython
    data = gen.p2(
        gen.EMPTY_LIST + gen.binput(0) + gen.su("a") + gen.APPEND + gen.POP
        + gen.binget(0) + gen.su("b") + gen.APPEND
    )  # fmt: skip
    vm, _ = machine(data)
    vm.run()
    assert vm.stack == [["a", "b"]]


def test_protocol_0_text_opcodes() -> None:
    rec = run(b"(lp0\nS'os'\np1\naI1\naF2.5\naV\\u00e9\nacposix\nsystem\np2\n(g1\ntR.")
    assert rec.names == ["posix.system"]
    assert rec.calls[0].args == ("os",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (gen.p2(gen.POP), "stack underflow"),
        (gen.p2(gen.MARK + gen.TUPLE2 + gen.NONE), "TUPLE2"),
        (gen.p2(gen.binget(3)), "never stored"),
        (gen.p2(gen.MARK + gen.NONE + b"d"), "odd number"),
        (gen.p2(gen.su("os") + gen.binint(1) + gen.STACK_GLOBAL), "two str operands"),
        (gen.p2(b"\x82\x00"), "code <= 0"),
        (gen.PROTO2 + gen.STOP, "stack underflow"),
        (gen.p2(gen.NONE + b"t"), "no MARK"),
    ],
)
def test_streams_cpython_rejects(data: bytes, message: str) -> None:
    vm, _ = machine(data)
    with pytest.raises(VMError, match=message):
        vm.run()


def test_marks_fence_the_stack_like_pickle_c() -> None:
    # after MARK, the items below it cannot be popped by TUPLE1
    vm, _ = machine(gen.p2(gen.NONE + gen.MARK + gen.TUPLE1))
    with pytest.raises(VMError):
        vm.run()
    # POP on an empty frame discards the mark itself (as both CPython unpicklers do)
    vm, _ = machine(gen.p2(gen.NONE + gen.MARK + gen.POP))
    vm.run()
    assert vm.stack == [None]


def test_every_call_kind_is_recorded() -> None:
    cls = gen.sglob("mylib", "Thing")
    data = gen.p4(
        cls + gen.EMPTY_TUPLE + gen.NEWOBJ + gen.EMPTY_DICT + gen.BUILD + gen.POP
        + cls + gen.EMPTY_TUPLE + gen.EMPTY_DICT + gen.NEWOBJ_EX + gen.POP
        + gen.MARK + cls + gen.OBJ + gen.POP
        + gen.call(cls)
    )  # fmt: skip
    rec = run(data)
    assert [c.kind for c in rec.calls] == ["NEWOBJ", "BUILD", "NEWOBJ_EX", "OBJ", "REDUCE"]


def test_build_and_setitem_on_an_imported_object_are_mutations() -> None:
    rec = run(gen.malicious()["build-patches-a-global"].data)
    assert [how for kind, _, how in rec.events if kind == "mutated"] == ["BUILD"]
    rec = run(gen.p4(gen.sglob("mylib", "REGISTRY") + gen.su("k") + gen.NONE + gen.SETITEM))
    assert [how for kind, _, how in rec.events if kind == "mutated"] == ["SETITEMS"]


def test_load_time_names_are_resolved_by_evaluation() -> None:
    assert "os.system" in run(gen.malicious()["getattr-import-chain"].data).names
    assert "os.system" in run(gen.malicious()["rot13-module-name"].data).names
    assert "os.system" in run(gen.malicious()["private-methodcaller"].data).names
    data = gen.p4(
        gen.call(gen.sglob("base64", "b64decode"), gen.su("b3M="))
        + gen.call(gen.sglob("builtins", "bytes.decode"))
    )
    assert "base64.b64decode" in run(data).names


def test_partial_forwards_the_call() -> None:
    rec = run(gen.malicious()["functools-partial"].data)
    system = [c for c in rec.calls if isinstance(c.func, Global) and c.func.name == "system"]
    assert system[0].args == ("id",)
    assert "forwarded" in system[0].kind


def test_unresolved_stack_global() -> None:
    rec = run(gen.malicious()["unresolved-stack-global"].data)
    assert len(rec.unresolved_sites) == 1
    assert "computed at load time" in rec.unresolved_sites[0].why


def test_memo_limit_untracked_read_is_reported() -> None:
    body = b"".join(gen.su(f"s{i}") + gen.MEMOIZE for i in range(8))
    rec = run(gen.p4(body + b"h\x06"), Limits(max_memo=4))
    assert [e[0] for e in rec.events] == ["limits/memo"]


def test_opcode_limit_raises() -> None:
    vm, rec = machine(gen.p2((gen.NONE + gen.POP) * 3000 + gen.NONE), Limits(max_opcodes=100))
    with pytest.raises(OpcodeLimit):
        vm.run()
    assert rec.events[0][0] == "limits/opcodes"


def test_stack_limit_degrades_and_keeps_reporting_globals() -> None:
    data = gen.p4(gen.EMPTY_TUPLE * 3000 + gen.sglob("os", "system") + gen.glob("nt", "system"))
    vm, rec = machine(data, Limits(max_stack=50))
    vm.run()
    assert rec.events[0][0] == "limits/stack"
    assert {"os.system", "nt.system"} <= set(rec.names)


def test_concatenated_pickles_get_fresh_state() -> None:
    data = pickle.dumps(["x"], protocol=2) + gen.p2(gen.binget(1))
    vm, _ = machine(data)
    vm.run()
    with pytest.raises(VMError, match="never stored"):
        vm.run()  # the second pickle cannot see the first one's memo
