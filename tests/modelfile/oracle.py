"""An independent oracle for the model scanner: which globals a real load would resolve, and
whether it would reach a dangerous call, found by running the real unpicklers with every import
replaced by a recorder. Nothing from the inspected bytes is ever imported or executed.

`reached(data)` runs the C `pickle.Unpickler` (on a peekable and on a plain file, which read
FRAMEs differently) and the pure-Python `pickle._Unpickler` (what joblib and dill build on) over
every pickle in `data`, one after another as torch's legacy format and joblib read them, and
merges what they reach. `find_class` records `(module, name)` as the real one would see them
(Python 2 names mapped below protocol 3, dotted names only from protocol 4; a module no finder
finds, or an attribute an already-imported module lacks, stops the load as the real import
would) and returns a recorder: a class whose calls, `__new__`, attribute reads, `__setstate__`,
item and `append` writes are recorded, so loading goes on as far as it would with the real
objects. `getattr`/`__import__`/`importlib.import_module` on recorders are followed, so
`getattr(__import__('os'), 'system')('id')` is a call of `os.system`; pure text codecs are
computed, and bytes handed to a pickle loader are read by the oracle too.

A load is `dangerous` when it calls a dangerous name, or hands one to a call (functools.partial,
defaultdict, `__setstate__`): a dangerous global that is only resolved, then never used, runs
nothing (the scanner still reports it; the property only needs the other direction).

`torch_reached(data)` reads a zip the way torch.load does (`<first member's folder>/data.pkl`,
through the central directory, CRC not required) and `joblib_reached(data)` the way joblib.load does
(raw array bytes after each NumpyArrayWrapper's BUILD are skipped, not read as opcodes).

"Dangerous" is decided twice, independently of the scanner's code paths: a short list of
obvious execution primitives here, or a critical verdict of the scanner's own knowledge base
(data/policy.yaml via `Policy.classify`).
"""

from __future__ import annotations

import _compat_pickle
import codecs
import importlib.util
import inspect
import io
import pickle
import struct
import sys
import types
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar, TypeGuard, cast

from custos.checks.model import Severity
from custos.modelfile.policy import Policy

# Obvious execution, import and loader primitives, by module prefix or exact dotted name.
DANGEROUS_MODULES = ("os", "posix", "nt", "subprocess", "runpy", "pty", "commands", "popen2")
DANGEROUS_NAMES = frozenset(
    {
        "builtins.eval", "builtins.exec", "builtins.compile", "builtins.__import__",
        "builtins.open", "builtins.breakpoint", "importlib.import_module", "pickle.loads",
        "pickle.load", "pickle._loads", "pickle._load", "_pickle.loads", "_pickle.load",
        "code.interact", "code.InteractiveInterpreter", "webbrowser.open", "shutil.rmtree",
        "torch.load", "numpy.load", "dill.loads", "joblib.load", "marshal.loads", "ctypes.CDLL",
        "sys.modules", "timeit.timeit",
    }
)  # fmt: skip
LOADERS = frozenset({"pickle.loads", "_pickle.loads", "pickle._loads", "dill.loads"})
TORCH_LOADERS = frozenset({"torch.storage._load_from_bytes", "torch.load"})
CODECS = frozenset({"_codecs.encode", "codecs.encode", "_codecs.decode", "codecs.decode"})
TEXT_CODECS = frozenset(
    {"latin1", "latin-1", "iso-8859-1", "utf-8", "utf8", "ascii", "rot13", "rot-13"}
)
MAX_PICKLES = 16  # pickles read back to back from one stream
MAX_DEPTH = 3  # nested pickle loaders followed
MAX_EVENTS = 10_000


@dataclass
class Reached:
    """What a real load would reach: resolved globals (in order, deduplicated), calls of
    recorded objects by dotted path, the dangerous calls among them, persistent ids, and the
    first error that stopped a load."""

    globals: list[tuple[str, str]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    dangerous_calls: list[str] = field(default_factory=list)
    persistent: int = 0
    error: str | None = None

    @property
    def dangerous(self) -> bool:
        """A dangerous name is called, or handed to a call (partial, defaultdict, ...)."""
        return bool(self.dangerous_calls)

    def dangerous_names(self) -> list[str]:
        return list(self.dangerous_calls)

    def merge(self, other: Reached) -> None:
        self.globals += [g for g in other.globals if g not in self.globals]
        self.calls += [c for c in other.calls if c not in self.calls]
        self.dangerous_calls += [c for c in other.dangerous_calls if c not in self.dangerous_calls]
        self.persistent = max(self.persistent, other.persistent)
        self.error = self.error or other.error


def _split(path: str) -> tuple[str, str]:
    module, _, name = path.partition(".")
    return module, name


def is_dangerous(module: str, name: str) -> bool:
    """On the short list above, or critical for the scanner's knowledge base."""
    full = f"{module}.{name}" if name else module
    if module in ("__builtin__", "__builtins__"):
        full = f"builtins.{name}"
    if full in DANGEROUS_NAMES or full.split(".")[0] in DANGEROUS_MODULES:
        return True
    return _policy().classify(module, name).severity >= Severity.critical


def exists(path: str) -> bool:
    """Whether `path` names something: a top-level module no finder finds does not (finders
    only look at files), attributes are judged when their module is already imported (its
    `__dict__` read statically, nothing run), and assumed to exist otherwise."""
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        target = sys.modules.get(".".join(parts[:end]))
        if target is not None:
            break
    else:
        return _findable(parts[0])
    for part in parts[end:]:
        try:
            target = inspect.getattr_static(target, part)
        except AttributeError:
            return False
        if not isinstance(target, types.ModuleType):
            return True  # attributes of classes and functions: assumed
    return True


@lru_cache(maxsize=4096)
def _findable(top: str) -> bool:
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


_POLICY: list[Policy] = []


def _policy() -> Policy:
    if not _POLICY:
        _POLICY.append(Policy.default())
    return _POLICY[0]


class _Log:
    """Shared by every recorder of one `reached` run."""

    def __init__(self, result: Reached, depth: int) -> None:
        self.result = result
        self.depth = depth
        self.events = 0

    def tick(self) -> None:
        self.events += 1
        if self.events > MAX_EVENTS:
            raise pickle.UnpicklingError("oracle: too many recorded events")

    def make(self, path: str, args: tuple[Any, ...] = (), named: bool = False) -> type:
        """A recorder; `named` when `path` is a real dotted name (a global, or what getattr
        or an import returned), not the result of a call or an attribute pickle looked up."""
        self.tick()
        body = {"_path": path, "_log": self, "_args": args, "_named": named}
        return _RecorderMeta(path, (_Recorder,), body)

    def call(self, callee: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        path = getattr(callee, "_path", "?").replace("__builtin__.", "builtins.", 1)
        if path not in self.result.calls:
            self.result.calls.append(path)
        handed = [a._path for a in _flat(args, kwargs) if _dangerous_recorder(a)]
        if _dangerous_recorder(callee) or handed:
            what = f"{path}({', '.join(handed)})" if handed else path
            if what not in self.result.dangerous_calls:
                self.result.dangerous_calls.append(what)
        text = _codec(path, args)
        if text is not None:
            return text
        followed = self._follow(path, args)
        if followed is None:
            return self.make(f"{path}()", args)
        if not exists(followed):
            raise pickle.UnpicklingError(f"oracle: {followed} does not exist")
        return self.make(followed, args, named=True)

    def _follow(self, path: str, args: tuple[Any, ...]) -> str | None:
        """The dotted path a call of getattr/__import__/import_module yields; bytes handed to
        a loader are read as the loader would."""
        if path == "builtins.getattr" and len(args) >= 2 and isinstance(args[1], str):
            target = args[0]
            if isinstance(target, _RecorderMeta) and target._named:
                return f"{target._path}.{args[1]}"
        importer = path in ("builtins.__import__", "importlib.import_module")
        if importer and args and isinstance(args[0], str) and not _import_would_fail(args[0]):
            return args[0]
        nested = args[0] if args and isinstance(args[0], bytes | bytearray) else None
        if nested is not None and self.depth < MAX_DEPTH and path in LOADERS | TORCH_LOADERS:
            if path in TORCH_LOADERS and nested[:4] == b"PK\x03\x04":
                self.result.merge(torch_reached(bytes(nested), self.depth + 1))
            else:
                self.result.merge(_reached(bytes(nested), self.depth + 1))
        return None


def _dangerous_recorder(value: object) -> TypeGuard[_RecorderMeta]:
    return isinstance(value, _RecorderMeta) and value._named and is_dangerous(*_split(value._path))


def _flat(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[object]:
    """Arguments, and the items of tuples, lists and dicts among them (one level)."""
    out: list[object] = []
    for value in (*args, *kwargs.values()):
        out.append(value)
        if isinstance(value, tuple | list):
            out.extend(value)
        elif isinstance(value, dict):
            out.extend(value.values())
    return out


def _codec(path: str, args: tuple[Any, ...]) -> str | bytes | None:
    """codecs.encode/decode of a str with a plain text codec, computed (they are pure)."""
    if path not in CODECS or len(args) < 2 or not isinstance(args[1], str):
        return None
    if args[1].lower().replace("_", "-") not in TEXT_CODECS:
        return None
    try:
        if path.endswith("encode") and isinstance(args[0], str):
            return args[0].encode(args[1])
        if path.endswith("decode") and isinstance(args[0], str):
            decoded: str | bytes = codecs.decode(cast(Any, args[0]), args[1])
            return decoded
    except (UnicodeError, LookupError, TypeError):
        return None
    return None


class _RecorderMeta(type):
    """Recorders are classes, so NEWOBJ's type check passes as it would for a real class."""

    _path: str
    _log: _Log
    _named: bool

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._log.call(cls, args, kwargs)

    def __getattr__(cls, attr: str) -> type:
        if attr.startswith("__") and attr not in ("__setstate__", "__call__"):
            raise AttributeError(attr)
        return cls._log.make(f"{cls._path}.{attr}")

    def __setitem__(cls, key: object, value: object) -> None:
        cls._log.tick()

    def __getitem__(cls, key: object) -> type:
        return cls._log.make(f"{cls._path}[]")

    def __repr__(cls) -> str:
        return f"<recorded {cls._path}>"


class _Recorder(metaclass=_RecorderMeta):
    _path = "?"
    _named = False

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:  # NEWOBJ: cls.__new__(cls, *args)
        return cls._log.call(cls, args, kwargs)


def _import_would_fail(module: str) -> bool:
    return not module or not all(part.isidentifier() for part in module.split("."))


def _recording(base: type) -> Any:
    class Recording(base):  # type: ignore[misc]
        log: _Log
        first_proto = 0

        def find_class(self, module: str, name: str) -> type:
            # _pickle keeps its protocol private: the stream's PROTO opcode tells it.
            proto = getattr(self, "proto", self.first_proto)
            if proto < 3:
                if (module, name) in _compat_pickle.NAME_MAPPING:
                    module, name = _compat_pickle.NAME_MAPPING[(module, name)]
                elif module in _compat_pickle.IMPORT_MAPPING:
                    module = _compat_pickle.IMPORT_MAPPING[module]
            if _import_would_fail(module):
                raise pickle.UnpicklingError(f"oracle: no module {module!r}")
            parts = name.split(".") if proto >= 4 else [name]
            if not all(parts) or "<locals>" in parts:
                raise pickle.UnpicklingError(f"oracle: no attribute {name!r}")
            if not exists(f"{module}.{name}"):
                raise pickle.UnpicklingError(f"oracle: no attribute {name!r} in {module}")
            if (module, name) not in self.log.result.globals:
                self.log.result.globals.append((module, name))
            return self.log.make(f"{module}.{name}", named=True)

        def persistent_load(self, pid: object) -> type:
            self.log.result.persistent += 1
            return self.log.make("<persistent>")

    return Recording


CUnpickler = _recording(pickle.Unpickler)
PyUnpickler = _recording(pickle._Unpickler)


def _load_all(unpickler: type, stream: Any, data: bytes, log: _Log) -> None:
    for _ in range(MAX_PICKLES):
        start = stream.tell()
        try:
            loader = unpickler(stream)
            loader.log = log
            loader.first_proto = data[start + 1] if data[start : start + 1] == b"\x80" else 0
            loader.load()
        except Exception as err:  # what the real load would raise, or our own limit
            log.result.error = log.result.error or f"{type(err).__name__}: {err}"
            return
        if not start < stream.tell() < len(data):
            return


def _reached(data: bytes, depth: int = 0) -> Reached:
    result = Reached()
    for unpickler, make_stream in (
        (CUnpickler, lambda: io.BufferedReader(io.BytesIO(data))),  # open(): has peek
        (CUnpickler, lambda: _NoPeek(data)),  # a plain file object: FRAMEs read whole
        (PyUnpickler, lambda: io.BufferedReader(io.BytesIO(data))),
    ):
        _load_all(unpickler, make_stream(), data, _Log(result, depth))
    return result


def reached(data: bytes) -> Reached:
    """What loading every pickle in `data` with pickle.load would reach."""
    return _reached(data)


class _NoPeek:
    """A readable file without `peek`, which makes _pickle read each FRAME in one go."""

    def __init__(self, data: bytes) -> None:
        self._raw = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self._raw.read(n)

    def readinto(self, buf: Any) -> int:
        return self._raw.readinto(buf)

    def readline(self, n: int = -1) -> bytes:
        return self._raw.readline(n)

    def tell(self) -> int:
        return self._raw.tell()


# -- torch.load of a zip ------------------------------------------------------------------


def _central(data: bytes) -> list[tuple[str, int, int, int, int]]:
    """(name, method, compressed size, crc, local offset) of every central-directory entry,
    in order, duplicates kept (miniz reads the directory the EOCD points at)."""
    end = data.rfind(b"PK\x05\x06")
    if end < 0 or end + 22 > len(data):
        return []
    count, _size, offset = struct.unpack_from("<HII", data, end + 10)
    entries = []
    at = offset
    for _ in range(count):
        if data[at : at + 4] != b"PK\x01\x02" or at + 46 > len(data):
            break
        method, _t, _d, crc, csize, _usize, nlen, elen, clen = struct.unpack_from(
            "<HHHIIIHHH", data, at + 10
        )
        local = struct.unpack_from("<I", data, at + 42)[0]
        name = data[at + 46 : at + 46 + nlen].decode("utf-8", "surrogateescape")
        entries.append((name, method, csize, crc, local))
        at += 46 + nlen + elen + clen
    return entries


def _member(data: bytes, method: int, csize: int, crc: int, local: int) -> bytes | None:
    if data[local : local + 4] != b"PK\x03\x04" or local + 30 > len(data):
        return None
    nlen, elen = struct.unpack_from("<HH", data, local + 26)
    start = local + 30 + nlen + elen
    raw = data[start : start + csize]
    try:
        body = raw if method == 0 else zlib.decompress(raw, -15) if method == 8 else None
    except zlib.error:
        return None
    return body  # CRC not checked: whether torch's miniz build checks it is not assumed


def torch_records(data: bytes) -> list[bytes]:
    """Every `data.pkl` torch.load could read: `<folder of the first entry>/data.pkl`, each
    central-directory entry of that name (which duplicate miniz finds is not specified)."""
    if data[:4] != b"PK\x03\x04":
        return []
    entries = _central(data)
    if not entries:
        return []
    prefix = entries[0][0].split("/")[0]
    wanted = f"{prefix}/data.pkl"
    found = [_member(data, *entry[1:]) for entry in entries if entry[0] == wanted]
    return [body for body in found if body is not None]


def torch_reached(data: bytes, depth: int = 0) -> Reached:
    """What torch.load(weights_only=False) of a zip checkpoint would reach."""
    result = Reached()
    for body in torch_records(data):
        one = Reached()
        log = _Log(one, depth)
        loader = CUnpickler(io.BytesIO(body))
        loader.log = log
        loader.first_proto = body[1] if body[:1] == b"\x80" and len(body) > 1 else 0
        try:
            loader.load()
        except Exception as err:
            one.error = f"{type(err).__name__}: {err}"
        result.merge(one)
    return result


# -- joblib.load --------------------------------------------------------------------------

_WRAPPER = "joblib.numpy_pickle.NumpyArrayWrapper"
_ITEMSIZE = {"?": 1, "b": 1, "B": 1, "h": 2, "H": 2, "e": 2, "i": 4, "I": 4, "f": 4, "l": 8,
             "L": 8, "q": 8, "Q": 8, "d": 8, "g": 16, "F": 8, "D": 16}  # fmt: skip


class _JoblibUnpickler(PyUnpickler):  # type: ignore[misc, valid-type]
    """joblib's NumpyUnpickler: after the BUILD of an array wrapper the array follows in the
    file, read by joblib itself: raw bytes (after a padding-length byte and its padding when
    the wrapper says so), or for object arrays one nested pickle. Never as outer opcodes."""

    dispatch: ClassVar[dict[int, Any]] = dict(PyUnpickler.dispatch)

    def __init__(self, file: Any) -> None:
        super().__init__(file)
        self.handle = file

    def load_build(self) -> None:
        state = self.stack[-1]
        PyUnpickler.load_build(self)
        inst = self.stack[-1]
        if not (isinstance(inst, _RecorderMeta) and inst._path.startswith(_WRAPPER)):
            return
        size = _array_bytes(state)
        if size == -1:  # object array: a nested pickle read from the same file
            inner = PyUnpickler(self.handle)
            inner.log, inner.first_proto = self.log, 0
            self.stack[-1] = inner.load()
            return
        if size is None:
            raise pickle.UnpicklingError("oracle: array layout not modelled")
        if isinstance(state, dict) and state.get("numpy_array_alignment_bytes") is not None:
            pad = self.handle.read(1)
            self.handle.read(pad[0] if pad else 0)
        if len(self.handle.read(size)) < size:
            raise pickle.UnpicklingError("oracle: array data cut short")
        self.stack[-1] = self.log.make("numpy.ndarray()")

    dispatch[pickle.BUILD[0]] = load_build


def _array_bytes(state: object) -> int | None:
    """Raw bytes of a wrapped array: shape product times itemsize; -1 for object arrays, None
    when the recorded dtype is not a plain `numpy.dtype('<code>')`."""
    if not isinstance(state, dict):
        return None
    dtype, shape = state.get("dtype"), state.get("shape")
    args = getattr(dtype, "_args", ()) if isinstance(dtype, _RecorderMeta) else ()
    if not args or not isinstance(args[0], str) or not isinstance(shape, tuple):
        return None
    code = args[0].lstrip("<>|=")
    if code[:1] == "O":
        return -1
    letter, digits = code[:1], code[1:]
    if digits.isdigit() and letter in "biufcSV":
        itemsize = int(digits)
    elif not digits and letter in _ITEMSIZE:
        itemsize = _ITEMSIZE[letter]
    else:
        return None
    count = 1
    for dim in shape:
        if not isinstance(dim, int) or dim < 0:
            return None
        count *= dim
    return count * itemsize


def joblib_reached(data: bytes) -> Reached:
    """What joblib.load of an uncompressed joblib file would reach."""
    result = Reached()
    _load_all(_JoblibUnpickler, io.BufferedReader(io.BytesIO(data)), data, _Log(result, 0))
    return result
