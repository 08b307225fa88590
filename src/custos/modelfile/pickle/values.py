"""The symbolic values of the pickle machine: what the stack and memo hold.

Plain data stays plain Python (None, bool, int, float, str, bytes, tuple, list); payloads too
long to keep are `Blob`s (buffered_input). Everything that stands for code or for an object built
by code gets its own class, so the machine can tell an imported name from a call's result.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from custos.modelfile.policy import canonical, join

CONTAINER_ITEMS = 256  # items kept per list/dict/set; the rest are counted, not stored


@dataclass(slots=True, eq=False)
class Global:
    """A name the stream imports (GLOBAL, INST, STACK_GLOBAL) or that a known importer
    (getattr, __import__, pydoc.locate, ...) resolves; `name` is empty for a module object."""

    module: str
    name: str
    offset: int
    via: str

    @property
    def full(self) -> str:
        return join(self.module, self.name)

    @property
    def canonical(self) -> str:
        return join(*canonical(self.module, self.name))

    def attribute(self, attr: str, offset: int, via: str) -> Global:
        """This object's attribute `attr` (an attribute walk)."""
        return Global(self.module, f"{self.name}.{attr}" if self.name else attr, offset, via)


@dataclass(slots=True, eq=False)
class Call:
    """The result of calling `func` (REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST), and, once BUILD
    has run on it, the state given to its `__setstate__`."""

    func: object
    args: object
    offset: int
    kind: str
    kwargs: object = None
    state: object = None


@dataclass(slots=True, eq=False)
class Unresolved:
    """A STACK_GLOBAL whose module or name is not a string known before loading."""

    offset: int
    why: str


@dataclass(slots=True, eq=False)
class Ext:
    """An object fetched from copyreg's extension registry by code (EXT1/2/4)."""

    code: int
    offset: int


@dataclass(slots=True, eq=False)
class Persistent:
    """What the loader's persistent_load returns for a persistent id (torch storages)."""

    pid: object
    offset: int


@dataclass(slots=True, eq=False)
class Opaque:
    """A value the machine does not model (an untracked memo entry, an out-of-band buffer)."""

    what: str
    offset: int


@dataclass(slots=True, eq=False)
class PDict:
    """A dict being built: key/value pairs (the first CONTAINER_ITEMS) and how many in all."""

    pairs: list[tuple[object, object]] = field(default_factory=list)
    total: int = 0

    def add(self, pairs: list[tuple[object, object]]) -> None:
        room = CONTAINER_ITEMS - len(self.pairs)
        if room > 0:
            self.pairs.extend(pairs[:room])
        self.total += len(pairs)

    def get(self, key: str) -> object:
        for k, v in self.pairs:
            if k == key:
                return v
        return None

    def has(self, key: str) -> bool:
        return any(k == key for k, _ in self.pairs)


@dataclass(slots=True, eq=False)
class PSet:
    """A set or frozenset being built."""

    items: list[object] = field(default_factory=list)
    total: int = 0
    frozen: bool = False

    def add(self, items: list[object]) -> None:
        room = CONTAINER_ITEMS - len(self.items)
        if room > 0:
            self.items.extend(items[:room])
        self.total += len(items)


@dataclass(slots=True, eq=False)
class Partial:
    """functools.partial(func, *args): calling it calls func."""

    func: object
    args: tuple[object, ...]


@dataclass(slots=True, eq=False)
class AttrGetter:
    """operator.attrgetter(path): calling it on an object walks the attributes."""

    paths: tuple[str, ...]


@dataclass(slots=True, eq=False)
class MethodCaller:
    """operator.methodcaller(name, *args): calling it on an object calls obj.name(*args)."""

    name: str
    args: tuple[object, ...]


@dataclass(slots=True, eq=False)
class BoundMethod:
    """getattr(constant, name): a method of a str or bytes constant."""

    target: str | bytes
    name: str


def describe(value: object, limit: int = 60) -> str:
    """A short human description of a value for finding messages.

    Bounded in depth and width (nested values past DESCRIBE_DEPTH are "..."), so a value built
    from thousands of nested tuples or calls is described in constant time; and it never
    raises: a finding must not be lost because its description failed."""
    try:
        return _describe(value, limit, 0)
    except Exception:  # whatever fails here, the finding is still emitted
        return f"<{type(value).__name__.lower()}>"


DESCRIBE_DEPTH = 6
_PLAIN = (bool, float, complex, type(None))


def _describe(value: object, limit: int, depth: int) -> str:
    if depth > DESCRIBE_DEPTH:
        return "..."
    if isinstance(value, Global):
        return _cut(value.full, limit)
    if isinstance(value, Call):
        return f"{_describe(value.func, limit, depth + 1)}(...)"
    if isinstance(value, Partial):
        return f"partial({_describe(value.func, limit, depth + 1)}, ...)"
    if isinstance(value, (str, bytes, bytearray)):
        return _cut(repr(value[: limit + 1]), limit)
    if isinstance(value, tuple):
        inner = ", ".join(_describe(v, limit // 2, depth + 1) for v in value[:4])
        return f"({inner}{', ...' if len(value) > 4 else ''}{',' if len(value) == 1 else ''})"
    if isinstance(value, int) and not isinstance(value, bool):
        return _cut(repr(value), limit) if value.bit_length() <= 256 else "<large int>"
    if isinstance(value, _PLAIN):
        return _cut(repr(value), limit)
    return f"<{type(value).__name__.lower()}>"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."
