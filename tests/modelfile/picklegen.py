"""Pickles built at test time, opcode by opcode: benign streams real model files contain and
malicious ones for each bypass class. Nothing here is ever loaded.

`MALICIOUS` maps a case name to (bytes, rule, minimum severity) of the finding the scanner must
report; `BENIGN` maps a name to bytes that must produce nothing above low.
"""

from __future__ import annotations

import collections
import pickle
import struct
from dataclasses import dataclass

from custos.checks.model import Severity

PROTO2 = b"\x80\x02"
PROTO4 = b"\x80\x04"
MARK, STOP, TUPLE, TUPLE1, TUPLE2, TUPLE3 = b"(", b".", b"t", b"\x85", b"\x86", b"\x87"
REDUCE, BUILD, EMPTY_TUPLE, EMPTY_DICT, EMPTY_LIST = b"R", b"b", b")", b"}", b"]"
STACK_GLOBAL, MEMOIZE, NEWOBJ, NEWOBJ_EX, OBJ = b"\x93", b"\x94", b"\x81", b"\x92", b"o"
SETITEM, SETITEMS, APPEND, APPENDS, POP, DUP = b"s", b"u", b"a", b"e", b"0", b"2"
NONE, NEWTRUE, NEWFALSE, BINPERSID = b"N", b"\x88", b"\x89", b"Q"


def su(text: str) -> bytes:
    """SHORT_BINUNICODE."""
    raw = text.encode("utf-8", "surrogatepass")
    return b"\x8c" + bytes([len(raw)]) + raw


def bu(text: str) -> bytes:
    """BINUNICODE."""
    raw = text.encode("utf-8", "surrogatepass")
    return b"X" + struct.pack("<I", len(raw)) + raw


def binbytes(data: bytes) -> bytes:
    return b"B" + struct.pack("<I", len(data)) + data


def binint(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)


def glob(module: str, name: str) -> bytes:
    """GLOBAL (protocol 0 text lines)."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def sglob(module: str, name: str) -> bytes:
    """STACK_GLOBAL with both strings on the stack."""
    return su(module) + su(name) + STACK_GLOBAL


def binput(index: int) -> bytes:
    return b"q" + bytes([index])


def binget(index: int) -> bytes:
    return b"h" + bytes([index])


def frame(payload: bytes, length: int | None = None) -> bytes:
    """FRAME announcing `length` bytes (default: the payload's length), then the payload."""
    return b"\x95" + struct.pack("<Q", len(payload) if length is None else length) + payload


def call(func: bytes, *args: bytes) -> bytes:
    """func(*args) with MARK ... TUPLE REDUCE."""
    return func + MARK + b"".join(args) + TUPLE + REDUCE


def p4(body: bytes) -> bytes:
    return PROTO4 + body + STOP


def p2(body: bytes) -> bytes:
    return PROTO2 + body + STOP


# -- benign -------------------------------------------------------------------------------


def numpy_array_p2() -> bytes:
    """What numpy writes for a 3-element float64 array at protocol 2 (hand-written)."""
    dtype = call(glob("numpy", "dtype"), su("f8"), NEWFALSE, NEWTRUE) + (
        MARK
        + binint(3)
        + su("<")
        + NONE
        + NONE
        + NONE
        + binint(-1)
        + binint(-1)
        + binint(0)
        + TUPLE
        + BUILD
    )
    array = call(
        glob("numpy.core.multiarray", "_reconstruct"),
        glob("numpy", "ndarray"),
        binint(0) + TUPLE1,
        b"C\x01b",
    )
    state = MARK + binint(1) + binint(3) + TUPLE1 + dtype + NEWFALSE + binbytes(b"\0" * 24) + TUPLE
    return p2(array + state + BUILD)


def torch_state_dict_p2() -> bytes:
    """What torch.save writes as data.pkl for {'w': tensor(4 floats)} (hand-written)."""
    storage = MARK + su("storage") + glob("torch", "FloatStorage") + su("0") + su("cpu")
    storage += binint(4) + TUPLE + BINPERSID
    tensor = call(
        glob("torch._utils", "_rebuild_tensor_v2"),
        storage,
        binint(0),
        binint(4) + TUPLE1,
        binint(1) + TUPLE1,
        NEWFALSE,
        call(glob("collections", "OrderedDict")),
    )
    body = call(glob("collections", "OrderedDict")) + su("w") + tensor + SETITEM
    return p2(body)


def sklearn_like_p2() -> bytes:
    """An estimator pickled with copyreg._reconstructor, restored by BUILD (protocol 0/1 style)."""
    obj = call(
        glob("copy_reg", "_reconstructor"),
        glob("sklearn.linear_model._logistic", "LogisticRegression"),
        glob("__builtin__", "object"),
        NONE,
    )
    state = EMPTY_DICT + MARK + su("C") + b"G" + struct.pack(">d", 1.0) + su("n_iter_") + binint(3)
    return p2(obj + state + SETITEMS + BUILD)


def benign() -> dict[str, bytes]:
    data = {"a": [1, 2.5, "x", b"y", None, True], "b": (1, 2), "c": {3, 4}, "d": 10**30}
    cases = {f"plain-p{p}": pickle.dumps(data, protocol=p) for p in range(6)}
    cases["ordered-dict-p4"] = pickle.dumps(collections.OrderedDict(x=[1, 2]), protocol=4)
    cases["numpy-array-p2"] = numpy_array_p2()
    cases["torch-state-dict-p2"] = torch_state_dict_p2()
    cases["sklearn-like-p2"] = sklearn_like_p2()
    cases["stacked-two-pickles"] = pickle.dumps([1]) + pickle.dumps({"k": "v"})
    return cases


# -- malicious ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    data: bytes
    rule: str
    severity: Severity
    mentions: str = ""  # text the finding's message must contain


DANGEROUS, CRITICAL, HIGH = "pickle/dangerous-global", Severity.critical, Severity.high


def malicious() -> dict[str, Case]:
    evil = p2(call(glob("os", "system"), su("id")))
    cases = {
        "os-system-global-reduce": Case(
            b"cos\nsystem\n(S'id'\ntR.", DANGEROUS, CRITICAL, "os.system"
        ),
        "posix-system": Case(p2(call(glob("posix", "system"), su("id"))), DANGEROUS, CRITICAL),
        "nt-system": Case(p2(call(glob("nt", "system"), su("id"))), DANGEROUS, CRITICAL),
        "subprocess-from-memo": Case(
            p4(
                su("subprocess")
                + binput(0)
                + su("Popen")
                + binput(1)
                + POP
                + POP
                + binget(0)
                + binget(1)
                + STACK_GLOBAL
                + su("id")
                + TUPLE1
                + REDUCE
            ),
            DANGEROUS,
            CRITICAL,
            "subprocess.Popen",
        ),
        "eval-via-inst": Case(b"(S'1+1'\nibuiltins\neval\n.", DANGEROUS, CRITICAL, "INST"),
        "exec-via-obj": Case(
            p2(MARK + glob("builtins", "exec") + su("print(1)") + OBJ), DANGEROUS, CRITICAL, "OBJ"
        ),
        "popen-via-newobj-ex": Case(
            p4(sglob("subprocess", "Popen") + su("id") + TUPLE1 + EMPTY_DICT + NEWOBJ_EX),
            DANGEROUS,
            CRITICAL,
            "NEWOBJ_EX",
        ),
        "getattr-import-chain": Case(
            p4(
                sglob("builtins", "getattr")
                + call(sglob("builtins", "__import__"), su("os"))
                + su("system")
                + TUPLE2
                + REDUCE
                + su("id")
                + TUPLE1
                + REDUCE
            ),
            DANGEROUS,
            CRITICAL,
            "os.system",
        ),
        "attrgetter": Case(
            p4(
                call(sglob("operator", "attrgetter"), su("system"))
                + call(sglob("builtins", "__import__"), su("os"))
                + TUPLE1
                + REDUCE
            ),
            DANGEROUS,
            CRITICAL,
            "operator.attrgetter",
        ),
        "private-methodcaller": Case(
            p4(
                call(sglob("_operator", "methodcaller"), su("system"), su("id"))
                + call(sglob("builtins", "__import__"), su("os"))
                + TUPLE1
                + REDUCE
            ),
            DANGEROUS,
            CRITICAL,
            "os.system",
        ),
        "functools-partial": Case(
            p2(call(call(glob("functools", "partial"), glob("os", "system"), su("id")))),
            DANGEROUS,
            CRITICAL,
            "functools.partial",
        ),
        "nested-pickle-loads": Case(
            p4(sglob("pickle", "loads") + binbytes(evil) + TUPLE1 + REDUCE),
            DANGEROUS,
            CRITICAL,
            "os.system",
        ),
        "nested-via-codecs-latin1": Case(
            p2(
                glob("_pickle", "loads")
                + call(glob("_codecs", "encode"), bu(evil.decode("latin-1")), su("latin1"))
                + TUPLE1
                + REDUCE
            ),
            DANGEROUS,
            CRITICAL,
            "os.system",
        ),
        "second-pickle-after-stop": Case(
            pickle.dumps({"ok": 1}, protocol=2) + p2(call(glob("os", "system"), su("id"))),
            DANGEROUS,
            CRITICAL,
            "os.system",
        ),
        "frame-straddle": Case(
            PROTO4 + frame(su("builtins"), length=4) + su("eval") + STACK_GLOBAL + STOP,
            "pickle/frame-straddle",
            HIGH,
        ),
        "truncated-after-global": Case(
            p2(call(glob("os", "system"), su("id")))[:-6], "pickle/truncated", HIGH
        ),
        "protocol0-crlf-global": Case(
            b"cos\r\nsystem\r\n(S'id'\ntR.", "pickle/suspicious-global", HIGH, "os.system"
        ),
        "unicode-lookalike-module": Case(
            p4(sglob("\u043es", "getcwd") + EMPTY_TUPLE + REDUCE),
            "pickle/suspicious-global",
            HIGH,
        ),
        "ext-registry": Case(
            p2(b"\x82\x07" + su("id") + TUPLE1 + REDUCE), "pickle/ext-registry", HIGH
        ),
        "torch-load-gadget": Case(
            p2(call(glob("torch", "load"), su("/tmp/x.pt"))), DANGEROUS, CRITICAL, "torch.load"
        ),
        "numpy-load-gadget": Case(
            p2(call(glob("numpy", "load"), su("x.npy"), NEWTRUE)), DANGEROUS, CRITICAL
        ),
        "defaultdict-system-factory": Case(
            pickle.dumps(collections.defaultdict(__import__("os").system), protocol=2),
            DANGEROUS,
            CRITICAL,
            "system",
        ),
        "attribute-walk-through-module": Case(
            p4(sglob("site", "os.system") + su("id") + TUPLE1 + REDUCE),
            DANGEROUS,
            CRITICAL,
            "os.system",
        ),
        "dict-walk-to-builtins": Case(
            p4(sglob("builtins", "__dict__.get") + su("eval") + TUPLE1 + REDUCE),
            DANGEROUS,
            CRITICAL,
        ),
        "rot13-module-name": Case(
            p4(
                call(sglob("codecs", "decode"), su("bf"), su("rot13"))
                + su("system")
                + STACK_GLOBAL
                + su("id")
                + TUPLE1
                + REDUCE
            ),
            DANGEROUS,
            CRITICAL,
            "os.system",
        ),
        "unresolved-stack-global": Case(
            p4(call(sglob("mylib", "make_name")) + su("x") + STACK_GLOBAL),
            "pickle/unresolved-global",
            HIGH,
        ),
        "computed-call": Case(
            p4(call(sglob("mylib", "Factory")) + EMPTY_TUPLE + REDUCE), "pickle/computed-call", HIGH
        ),
        "build-patches-a-global": Case(
            p4(
                sglob("torch._utils", "_rebuild_tensor_v2")
                + NONE
                + EMPTY_DICT
                + su("__code__")
                + NONE
                + SETITEM
                + TUPLE2
                + BUILD
                + POP
                + NONE
            ),
            "pickle/global-mutation",
            HIGH,
        ),
        "torch-load-from-bytes-nested": Case(
            p2(call(glob("torch.storage", "_load_from_bytes"), binbytes(evil))),
            DANGEROUS,
            CRITICAL,
            "os.system",
        ),
        "unknown-function-with-string": Case(
            p4(call(sglob("torch.utils.collect_env_x", "run"), su("id"))),
            "pickle/suspicious-global",
            HIGH,
        ),
        "unknown-helper-called-with-string": Case(
            p4(call(sglob("mylib.tools", "do_thing"), su("id"))), "pickle/suspicious-call", HIGH
        ),
        "unknown-class": Case(
            p4(call(sglob("mylib", "Net"))), "pickle/unknown-global", Severity.medium
        ),
    }
    return cases


def frame_disagreement() -> bytes:
    """A stream whose frame is crossed by a string argument: read straight on (pickle.loads)
    it only holds a bytes constant; read the way _pickle.c reads a file it cannot peek (the
    rest of the frame dropped), those same bytes are opcodes calling os.system."""
    evil = sglob("os", "system") + su("id") + TUPLE1 + REDUCE + STOP
    tail = b"ab" + POP + b"C" + bytes([len(evil)]) + evil + POP + NONE + STOP
    return PROTO4 + frame(b"\x8c\x05AAA") + tail
