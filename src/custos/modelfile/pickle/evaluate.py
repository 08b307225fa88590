"""What known functions return when a pickle calls them with constants.

Obfuscated pickles build the strings and bytes they need at load time: module names decoded
with rot13 or base64, a nested pickle unpacked with zlib, `getattr(__import__('os'), 'system')`.
The machine evaluates a small, fixed set of pure functions on constant arguments, with our own
code and bounded output, so that such names are resolved and classified like any GLOBAL, and
nested payloads can be scanned. Nothing found in a file is ever imported or called.
"""

from __future__ import annotations

import base64
import binascii
import bz2
import codecs
import lzma
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from custos.modelfile.pickle.buffered_input import Blob
from custos.modelfile.pickle.values import (
    AttrGetter,
    BoundMethod,
    Global,
    MethodCaller,
    Partial,
)
from custos.modelfile.policy import canonical, join

EVAL_LIMIT = 16 << 20  # bytes any evaluated value may have
FETCH_LIMIT = 1 << 20  # a skipped payload is re-read for evaluation only up to this size
NOTHING = object()  # "cannot evaluate": the machine keeps a symbolic Call instead
_TEXT_CODECS = {
    "latin1": "latin-1",
    "latin-1": "latin-1",
    "iso-8859-1": "latin-1",
    "iso8859-1": "latin-1",
    "l1": "latin-1",
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "ascii": "ascii",
    "us-ascii": "ascii",
}
_ERRORS = (
    ValueError,
    TypeError,
    IndexError,
    LookupError,
    OverflowError,
    EOFError,
    OSError,
    binascii.Error,
    zlib.error,
    lzma.LZMAError,
)


@dataclass(frozen=True, slots=True)
class Transcoded:
    """`text.encode(codec)` of a long text payload, left in the stream until needed."""

    blob: Blob
    codec: str


@dataclass(frozen=True, slots=True)
class Invoke:
    """Evaluation says: this call really calls `func(*args)` (partial, methodcaller)."""

    func: object
    args: tuple[object, ...]


@dataclass
class EvalContext:
    """What evaluation may use: re-reading skipped payloads and reporting resolved names."""

    fetch: Callable[[Blob], bytes | None]
    imported: Callable[[Global], None]

    def data(self, value: object) -> str | bytes | None:
        """The str or bytes behind a constant (re-reading a skipped payload if needed)."""
        if isinstance(value, (str, bytes)):
            return value
        if isinstance(value, bytearray):
            return bytes(value)
        if isinstance(value, Blob) and value.kind != "line" and value.length <= FETCH_LIMIT:
            raw = self.fetch(value)
            if raw is None:
                return None
            if value.kind == "str":
                return raw.decode("utf-8", "surrogatepass")
            if value.kind == "py2str":
                return raw.decode("latin-1")
            return raw
        return None

    def text(self, value: object) -> str | None:
        data = self.data(value)
        return data if isinstance(data, str) else None

    def blob(self, value: object) -> bytes | None:
        data = self.data(value)
        return data if isinstance(data, bytes) else None

    def derive(self, module: str, name: str, offset: int, via: str) -> Global:
        site = Global(module, name, offset, via)
        self.imported(site)
        return site


def evaluate(func: object, args: object, offset: int, ctx: EvalContext) -> object:
    """The value of `func(*args)` when it can be known without running anything; NOTHING
    otherwise. May return an `Invoke` for calls that forward to another callable."""
    if not isinstance(args, tuple):
        return NOTHING
    try:
        if isinstance(func, Global):
            handler = _HANDLERS.get(join(*canonical(func.module, func.name)))
            return NOTHING if handler is None else handler(args, offset, ctx)
        if isinstance(func, Partial):
            return Invoke(func.func, func.args + args)
        if isinstance(func, AttrGetter) and len(args) == 1 and isinstance(args[0], Global):
            walked = [_walk(args[0], path, offset, ctx) for path in func.paths]
            return walked[0] if len(walked) == 1 else tuple(walked)
        if isinstance(func, MethodCaller) and len(args) == 1 and isinstance(args[0], Global):
            method = _walk(args[0], func.name, offset, ctx)
            return Invoke(method, func.args)
        if isinstance(func, BoundMethod):
            return _bound(func, args, ctx)
    except _ERRORS:
        return NOTHING
    return NOTHING


def _walk(target: Global, path: str, offset: int, ctx: EvalContext) -> Global:
    site = target
    for attr in path.split("."):
        site = site.attribute(attr, offset, "attribute walk")
    ctx.imported(site)
    return site


def _bounded(value: str | bytes) -> object:
    return value if len(value) <= EVAL_LIMIT else NOTHING


def _codec(name: object, ctx: EvalContext) -> str:
    text = ctx.text(name) if name is not None else "utf-8"
    return (text or "").lower().replace("_", "-")


def _encode(args: tuple[object, ...], offset: int, ctx: EvalContext) -> object:
    codec = _codec(args[1] if len(args) > 1 else None, ctx)
    big = args[0]
    if isinstance(big, Blob) and big.kind == "str" and big.length > FETCH_LIMIT:
        # Protocol 2 writes bytes as _codecs.encode(text, "latin1"): keep large ones lazy.
        if _TEXT_CODECS.get(codec) == "utf-8":
            return Blob(big.offset, big.length, "bytes", big.head)
        if _TEXT_CODECS.get(codec) == "latin-1":
            return Transcoded(big, "latin-1")
        return NOTHING
    data = ctx.data(args[0])
    if isinstance(data, str):
        if codec in _TEXT_CODECS:
            return _bounded(data.encode(_TEXT_CODECS[codec]))
        if codec in ("rot13", "rot-13"):
            return codecs.encode(data, "rot13")
    elif isinstance(data, bytes):
        return _transform_bytes(data, codec, encode=True)
    return NOTHING


def _decode(args: tuple[object, ...], offset: int, ctx: EvalContext) -> object:
    data = ctx.data(args[0])
    codec = _codec(args[1] if len(args) > 1 else None, ctx)
    if isinstance(data, bytes):
        if codec in _TEXT_CODECS:
            return data.decode(_TEXT_CODECS[codec])
        return _transform_bytes(data, codec, encode=False)
    if isinstance(data, str) and codec in ("rot13", "rot-13"):
        return codecs.decode(data, "rot13")
    return NOTHING


def _transform_bytes(data: bytes, codec: str, *, encode: bool) -> object:
    if codec in ("base64", "base64-codec", "base-64"):
        return base64.encodebytes(data) if encode else base64.decodebytes(data)
    if codec in ("hex", "hex-codec"):
        return binascii.hexlify(data) if encode else binascii.unhexlify(data)
    if codec in ("zlib", "zlib-codec", "zip") and not encode:
        return _inflate(zlib.decompressobj(), data)
    return NOTHING


def _inflate(decompressor: Any, data: bytes) -> object:
    out = decompressor.decompress(data, EVAL_LIMIT + 1)
    return _bounded(out)


def _decompress(kind: str) -> Callable[[tuple[object, ...], int, EvalContext], object]:
    def handler(args: tuple[object, ...], offset: int, ctx: EvalContext) -> object:
        data = ctx.blob(args[0])
        if data is None:
            return NOTHING
        if kind == "zlib":
            return _inflate(zlib.decompressobj(), data)
        if kind == "gzip":
            return _inflate(zlib.decompressobj(16 + zlib.MAX_WBITS), data)
        engine = bz2.BZ2Decompressor() if kind == "bz2" else lzma.LZMADecompressor()
        return _bounded(engine.decompress(data, EVAL_LIMIT + 1))

    return handler


def _b64(decoder: Callable[[bytes], bytes]) -> Callable[..., object]:
    def handler(args: tuple[object, ...], offset: int, ctx: EvalContext) -> object:
        data = ctx.data(args[0])
        if isinstance(data, str):
            data = data.encode("ascii")
        return NOTHING if data is None else decoder(data)

    return handler


def _bytes(args: tuple[object, ...], offset: int, ctx: EvalContext) -> object:
    if not args:
        return b""
    if len(args) >= 2:
        return _encode(args, offset, ctx)
    data = ctx.data(args[0])
    if isinstance(data, bytes):
        return data
    items = args[0]
    if isinstance(items, (list, tuple)) and all(isinstance(i, int) and 0 <= i < 256 for i in items):
        return bytes(items)
    return NOTHING


def _str(args: tuple[object, ...], offset: int, ctx: EvalContext) -> object:
    if len(args) == 1:
        text = ctx.text(args[0])
        return NOTHING if text is None else text
    return _decode(args, offset, ctx)


def _getattr(args: tuple[object, ...], offset: int, ctx: EvalContext) -> object:
    attr = ctx.text(args[1]) if len(args) >= 2 else None
    if attr is None:
        return NOTHING
    if isinstance(args[0], Global):
        return _walk(args[0], attr, offset, ctx) if "." not in attr else NOTHING
    target = ctx.data(args[0])
    return NOTHING if target is None else BoundMethod(target, attr)


def _import(args: tuple[object, ...], offset: int, ctx: EvalContext) -> object:
    name = ctx.text(args[0]) if args else None
    if not name or name.startswith("."):
        return NOTHING
    return ctx.derive(name, "", offset, "imported by name")


def _locate(args: tuple[object, ...], offset: int, ctx: EvalContext) -> object:
    path = ctx.text(args[0]) if args else None
    if not path:
        return NOTHING
    module, sep, attr = path.partition(":")
    if not sep:
        module, _, attr = path.partition(".")
    return ctx.derive(module, attr, offset, "resolved by name")


def _module_and_name(args: tuple[object, ...], offset: int, ctx: EvalContext) -> object:
    module, name = (ctx.text(a) for a in args[:2])
    if module is None or name is None:
        return NOTHING
    return ctx.derive(module, name, offset, "resolved by name")


def _attrgetter(args: tuple[object, ...], offset: int, ctx: EvalContext) -> object:
    paths = tuple(ctx.text(a) for a in args)
    if not paths or any(p is None for p in paths):
        return NOTHING
    return AttrGetter(paths)  # type: ignore[arg-type]


def _methodcaller(args: tuple[object, ...], offset: int, ctx: EvalContext) -> object:
    name = ctx.text(args[0]) if args else None
    return NOTHING if name is None else MethodCaller(name, args[1:])


def _partial(args: tuple[object, ...], offset: int, ctx: EvalContext) -> object:
    return Partial(args[0], args[1:]) if args else NOTHING


def _concat(args: tuple[object, ...], offset: int, ctx: EvalContext) -> object:
    left, right = (ctx.data(a) for a in args[:2])
    if isinstance(left, str) and isinstance(right, str):
        return _bounded(left + right)
    if isinstance(left, bytes) and isinstance(right, bytes):
        return _bounded(left + right)
    return NOTHING


def _fromhex(args: tuple[object, ...], offset: int, ctx: EvalContext) -> object:
    text = ctx.text(args[-1]) if args else None
    return NOTHING if text is None else bytes.fromhex(text)


_STR_METHODS = frozenset(
    {"lower", "upper", "strip", "lstrip", "rstrip", "swapcase", "title", "capitalize"}
)


def _bound(method: BoundMethod, args: tuple[object, ...], ctx: EvalContext) -> object:
    target, name = method.target, method.name
    if name == "join" and len(args) == 1 and isinstance(args[0], (list, tuple)):
        parts = [ctx.data(p) for p in args[0]]
        if all(type(p) is type(target) for p in parts):
            return _bounded(target.join(parts))  # type: ignore[arg-type]
    elif name in ("replace", "__add__") or name in _STR_METHODS:
        values = [ctx.data(a) for a in args]
        if all(type(v) is type(target) for v in values):
            if name == "__add__":
                return _bounded(target + values[0])  # type: ignore[operator]
            return _bounded(getattr(target, name)(*values))
    elif name in ("decode", "encode"):
        return (_decode if name == "decode" else _encode)((target, *args), 0, ctx)
    return NOTHING


_HANDLERS: dict[str, Callable[[tuple[object, ...], int, EvalContext], object]] = {
    "_codecs.encode": _encode,
    "codecs.encode": _encode,
    "_codecs.decode": _decode,
    "codecs.decode": _decode,
    "builtins.bytes": _bytes,
    "builtins.bytearray": _bytes,
    "builtins.str": _str,
    "builtins.bytes.fromhex": _fromhex,
    "builtins.bytearray.fromhex": _fromhex,
    "builtins.getattr": _getattr,
    "builtins.__import__": _import,
    "importlib.import_module": _import,
    "importlib.__import__": _import,
    "pydoc.locate": _locate,
    "pkgutil.resolve_name": _locate,
    "numpy.core._ufunc_reconstruct": _module_and_name,
    "numpy._core._ufunc_reconstruct": _module_and_name,
    "operator.attrgetter": _attrgetter,
    "_operator.attrgetter": _attrgetter,
    "operator.methodcaller": _methodcaller,
    "_operator.methodcaller": _methodcaller,
    "functools.partial": _partial,
    "_functools.partial": _partial,
    "operator.add": _concat,
    "_operator.add": _concat,
    "operator.concat": _concat,
    "_operator.concat": _concat,
    "base64.b64decode": _b64(base64.b64decode),
    "base64.standard_b64decode": _b64(base64.standard_b64decode),
    "base64.urlsafe_b64decode": _b64(base64.urlsafe_b64decode),
    "base64.decodebytes": _b64(base64.decodebytes),
    "base64.b32decode": _b64(base64.b32decode),
    "base64.b16decode": _b64(base64.b16decode),
    "base64.a85decode": _b64(base64.a85decode),
    "base64.b85decode": _b64(base64.b85decode),
    "binascii.a2b_base64": _b64(binascii.a2b_base64),
    "binascii.a2b_hex": _b64(binascii.a2b_hex),
    "binascii.unhexlify": _b64(binascii.unhexlify),
    "zlib.decompress": _decompress("zlib"),
    "gzip.decompress": _decompress("gzip"),
    "bz2.decompress": _decompress("bz2"),
    "lzma.decompress": _decompress("lzma"),
}
