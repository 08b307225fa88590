"""Pickle analysis: walk every pickle in a stream with the symbolic machine and judge what it
imports and calls.

`scan(stream, location, ctx)` is the format entry point (the dispatcher calls it for anything
that looks like a pickle); `scan_pickle_stream` is the same with control over concatenated
pickles, for containers that know their layout (PyTorch legacy files stack several pickles
and then raw storage bytes).

Every name the stream imports is classified by the policy (allow-list first, then the gadget
knowledge base); findings are aggregated per name, located at the first import and say how it
is called. Bytes handed to loaders (pickle.loads, torch.load, ...) are scanned as nested files
through `ctx.dispatch`. A stream is never "clean" unless it was walked to the end: truncation,
bytes CPython would reject, frame crossings and exceeded limits are all high findings, and
everything found before them is kept. When frames are crossed, the stream is walked a second
time the way `_pickle.c` reads a file it cannot peek, and both readings are reported.
"""

from __future__ import annotations

import codecs
import functools
import io
from dataclasses import dataclass, field
from typing import BinaryIO, cast

from custos.findings import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.pickle.buffered_input import Blob
from custos.modelfile.pickle.core import VMError
from custos.modelfile.pickle.errors import Malformed, PickleError, Truncated
from custos.modelfile.pickle.evaluate import Transcoded
from custos.modelfile.pickle.joblib_names import JOBLIB_WRAPPERS, WRAPPER_NAME
from custos.modelfile.pickle.reader import OpReader
from custos.modelfile.pickle.values import Call, Ext, Global, Unresolved, describe
from custos.modelfile.pickle.vm import OpcodeLimit, PickleVM
from custos.modelfile.policy import (
    RULE_DANGEROUS,
    RULE_SUSPICIOUS,
    RULE_UNKNOWN,
    Policy,
    Verdict,
    canonical,
    join,
)
from custos.modelfile.rules import rule


@functools.cache
def _shipped() -> Policy:
    """The shipped policy alone, for facts about names (not the user's allow-list)."""
    return Policy.default()


RULE_UNRESOLVED = "pickle/unresolved-global"
RULE_COMPUTED_CALL = "pickle/computed-call"
RULE_SUSPICIOUS_CALL = "pickle/suspicious-call"
RULE_MUTATION = "pickle/global-mutation"
RULE_NESTED = "pickle/nested-pickle"
RULE_NESTED_UNRESOLVED = "pickle/nested-unresolved"
RULE_EXT = "pickle/ext-registry"
RULE_STRADDLE = "pickle/frame-straddle"
RULE_TRUNCATED = "pickle/truncated"
RULE_MALFORMED = "pickle/malformed"
RULE_TRAILING = "pickle/trailing-data"
RULE_OUT_OF_BAND = "pickle/out-of-band-buffer"

_RULES = (
    (RULE_DANGEROUS, Severity.critical,
     "A pickle imports a known code-execution, file, network, process or import gadget."),
    (RULE_SUSPICIOUS, Severity.high,
     "A pickle imports a name that is not a plain identifier, walks dunder attributes, looks "
     "like a loader, or is a standard-library name outside the allow-list."),
    (RULE_UNKNOWN, Severity.medium,
     "A pickle imports a name that is not on the allow-list; loading it runs that name's code."),
    (RULE_UNRESOLVED, Severity.high,
     "A pickle imports a name (STACK_GLOBAL) that is built at load time, so it cannot be "
     "known before loading."),
    (RULE_COMPUTED_CALL, Severity.high,
     "A pickle calls a value computed at load time rather than an imported name."),
    (RULE_SUSPICIOUS_CALL, Severity.high,
     "A pickle calls a function that is not on the allow-list with string or bytes arguments."),
    (RULE_MUTATION, Severity.high,
     "A pickle sets attributes or items on an imported module, class or function."),
    (RULE_NESTED, Severity.info, "Bytes passed to a loader were scanned as a nested file."),
    (RULE_NESTED_UNRESOLVED, Severity.high,
     "A loader receives data that is not known before loading, so it could not be scanned."),
    (RULE_EXT, Severity.high,
     "A pickle fetches a callable from copyreg's extension registry by number, hiding its "
     "name."),
    (RULE_STRADDLE, Severity.high,
     "An opcode or argument crosses a frame boundary: CPython's unpicklers read such a "
     "stream differently."),
    (RULE_TRUNCATED, Severity.high,
     "The pickle stream ends early; what was found before the cut is reported."),
    (RULE_MALFORMED, Severity.high,
     "The stream holds bytes CPython's Unpickler would reject; what was found before them "
     "is reported."),
    (RULE_TRAILING, Severity.high, "Bytes after the last complete pickle are not a pickle."),
    (RULE_OUT_OF_BAND, Severity.low,
     "A pickle refers to out-of-band buffers (protocol 5) it does not contain."),
    ("limits/memo", Severity.high,
     "A memo entry past the memo limit was read back; it had not been tracked."),
    ("limits/stack", Severity.high,
     "A pickle's stack grew past the limit; the rest was walked without a stack."),
    ("limits/opcodes", Severity.high,
     "A pickle has more opcodes than the limit; the rest was not inspected."),
    ("limits/frame", Severity.high, "A pickle announces a frame larger than the limit."),
)  # fmt: skip
for _rule_id, _severity, _help in _RULES:
    rule(_rule_id, _severity, _help)

_MAX_NESTED_PER_CALL = 4
_MAX_NAMES = 10_000  # distinct imported names reported one by one
_PICKLE_PROTOS = tuple(bytes([0x80, p]) for p in range(6))
_BYTES_IO = frozenset({"io.BytesIO", "_io.BytesIO"})
# Lower-case classes whose instances are never an exact str (`builtins.str` is not one).
_NON_STR_BUILTINS = frozenset(
    f"builtins.{name}"
    for name in ("list", "dict", "set", "frozenset", "tuple", "bytes", "bytearray", "int",
                 "float", "complex", "bool", "object", "range", "slice")
) | {"numpy.ndarray", "numpy.dtype"}  # fmt: skip


@dataclass(frozen=True)
class PickleResult:
    """What `scan_pickle_stream` walked."""

    pickles: int  # pickles walked through their STOP
    end: int  # offset just past the last byte read
    complete: bool  # every byte up to `end` was parsed and nothing was cut short
    opcodes: int
    joblib: bool = False  # imports joblib's array wrapper: raw array bytes follow its BUILD
    imports: frozenset[str] = frozenset()  # "module.name" of every global; "?" past the cap


def scan(stream: BinaryIO, location: str, ctx: ScanContext) -> PickleResult:
    """Scan a pickle stream (every concatenated pickle in it) into `ctx`."""
    return scan_pickle_stream(stream, location, ctx)


def scan_pickle_stream(
    stream: BinaryIO, location: str, ctx: ScanContext, *, all_pickles: bool = True
) -> PickleResult:
    """Walk the pickles in `stream` from its current position: all of them when
    `all_pickles` (bytes after the last one must form pickles too), else only the first."""
    policy = ctx.policy if isinstance(ctx.policy, Policy) else Policy.default()
    findings = _Findings(ctx, location, policy)
    try:
        origin = stream.tell()
    except (OSError, AttributeError, ValueError):
        origin = None
    try:
        result = _walk(stream, findings, ctx, all_pickles, discard_frames=False)
        if findings.straddled and origin is not None:
            stream.seek(origin)
            findings.reading = " (second reading: frame remainders dropped, as _pickle.c does)"
            _walk(stream, findings, ctx, all_pickles, discard_frames=True)
            stream.seek(origin + result.end)
        names = {join(module, name) for module, name in findings.imports}  # flush clears them
        if len(findings.imports) >= _MAX_NAMES:
            names.add("?")
    finally:  # what was found before an unexpected error is reported, never dropped with it
        findings.flush()
    walked = (result.pickles, result.end, result.complete, result.opcodes)
    return PickleResult(*walked, joblib=findings.joblib, imports=frozenset(names))


def _walk(
    stream: BinaryIO,
    findings: _Findings,
    ctx: ScanContext,
    all_pickles: bool,
    *,
    discard_frames: bool,
) -> PickleResult:
    reader = OpReader(
        stream,
        max_frame=ctx.limits.max_string_bytes,
        discard_frames=discard_frames,
    )
    findings.reader = reader
    vm = PickleVM(reader, findings, ctx.limits, findings.makes_instances)
    count, complete = 0, False
    try:
        while True:
            if not reader.more():
                complete = count > 0
                if count == 0:
                    findings.error(RULE_TRUNCATED, 0, "empty stream: no pickle opcodes")
                break
            if count and not all_pickles:
                complete = True
                break
            start = reader.offset
            try:
                try:
                    vm.run()
                except VMError as exc:
                    findings.error(
                        RULE_MALFORMED,
                        exc.offset,
                        f"CPython's Unpickler stops here ({exc.message}); the rest of this "
                        "pickle was walked without a stack",
                    )
                    vm.degraded()
                    count += 1
                    break
                count += 1
            except PickleError as exc:
                findings.broken(exc, start, trailing=count > 0 and exc.offset == start)
                break
            finally:
                findings.drain_issues()
    except OpcodeLimit:
        pass
    return PickleResult(count, reader.offset, complete and not findings.errors, vm.opcodes)


@dataclass
class _Seen:
    site: Global
    verdict: Verdict
    reading: str = ""
    count: int = 1
    call: Call | None = None


@dataclass
class _Findings:
    """The machine's observer: classifies, aggregates and finally emits findings."""

    ctx: ScanContext
    location: str
    policy: Policy
    reader: OpReader | None = None
    reading: str = ""
    straddled: bool = False
    errors: int = 0
    imports: dict[tuple[str, str], _Seen] = field(default_factory=dict)
    overflow: int = 0
    worst: _Seen | None = None
    once: set[tuple[str, str]] = field(default_factory=set)
    joblib: bool = False

    def at(self, offset: int) -> str:
        return f"{self.location}@{offset}"

    def emit_once(
        self, rule_id: str, key: str, severity: Severity, message: str, offset: int
    ) -> None:
        if (rule_id, key) not in self.once:
            self.once.add((rule_id, key))
            self.ctx.emit(rule_id, severity, message + self.reading, self.at(offset))

    def error(self, rule_id: str, offset: int, message: str) -> None:
        self.errors += 1
        self.emit_once(rule_id, f"{offset}:{message}", Severity.high, message, offset)

    def broken(self, exc: PickleError, start: int, *, trailing: bool) -> None:
        if trailing:
            self.error(
                RULE_TRAILING,
                exc.offset,
                f"bytes after the last complete pickle are not a pickle ({exc.message})",
            )
        elif isinstance(exc, Truncated):
            self.error(RULE_TRUNCATED, exc.offset, f"stream cut short: {exc.message}")
        else:
            assert isinstance(exc, Malformed)
            self.error(RULE_MALFORMED, exc.offset, exc.message)

    def drain_issues(self) -> None:
        assert self.reader is not None
        for issue in self.reader.issues:
            if issue.kind == "frame-straddle":
                self.straddled = True
                self.error(RULE_STRADDLE, issue.offset, issue.message)
            elif issue.kind == "frame-past-end":
                self.error(RULE_TRUNCATED, issue.offset, issue.message)
            else:
                self.error("limits/frame", issue.offset, issue.message)
        self.reader.issues.clear()

    # -- Observer --------------------------------------------------------------------------

    def imported(self, site: Global) -> None:
        if site.name.endswith(WRAPPER_NAME) and join(*canonical(site.module, site.name)) in (
            JOBLIB_WRAPPERS
        ):
            self.joblib = True
        seen = self.imports.get((site.module, site.name))
        if seen is None:
            self._entry(site)
        elif not self.reading:
            seen.count += 1

    def _entry(self, site: Global) -> _Seen:
        """The record of a name, created (and classified) on its first import. Past
        _MAX_NAMES distinct names, new ones are only counted, keeping the worst."""
        key = (site.module, site.name)
        seen = self.imports.get(key)
        if seen is None:
            seen = _Seen(site, self.policy.classify(site.module, site.name), self.reading)
            if len(self.imports) < _MAX_NAMES:
                self.imports[key] = seen
            elif not seen.verdict.allowed:
                self.overflow += 1
                if self.worst is None or seen.verdict.severity > self.worst.verdict.severity:
                    self.worst = seen
        return seen

    def makes_instances(self, site: Global) -> bool:
        """Whether calling `site` (or NEWOBJ on it) gives an instance that is never an exact
        str: an allowed name that is a class by PEP 8 naming or a builtin container or number
        type, never `str` itself. Allowed functions (copyreg.__newobj__ and _reconstructor,
        _codecs.encode, numpy's _reconstruct...) are not: given the right arguments some return
        a str."""
        module, name = canonical(site.module, site.name)
        full = join(module, name)
        last = name.rsplit(".", 1)[-1]
        class_like = full in _NON_STR_BUILTINS or (last[:1].isupper() and last.isascii())
        # Allowed by the shipped list and not denied by the user's: a user policy's allow
        # entries (`pkg.*` wildcards included) say a name is safe to import, not that calling
        # it makes a non-str.
        return (
            class_like
            and _shipped().classify(site.module, site.name).allowed
            and self.policy.classify(site.module, site.name).allowed
        )

    def unresolved(self, site: Unresolved) -> None:
        self.emit_once(
            RULE_UNRESOLVED,
            str(site.offset),
            Severity.high,
            f"STACK_GLOBAL imports a name not known before loading: {site.why}",
            site.offset,
        )

    def called(self, call: Call) -> None:
        func = call.func
        if isinstance(func, Global):
            seen = self._entry(func)
            if seen.call is None and call.kind != "BUILD":
                seen.call = call
            if call.kind != "BUILD":
                self._inspect_call(call, func, seen.verdict)
        elif not isinstance(func, (Unresolved, Ext)):
            what = describe(func)
            self.emit_once(
                RULE_COMPUTED_CALL,
                f"{type(func).__name__}:{what}",
                Severity.high,
                f"{call.kind} calls {what}, a value computed at load time, "
                f"with {describe(call.args)}",
                call.offset,
            )

    def mutated(self, offset: int, target: object, how: str) -> None:
        what = describe(target)
        self.emit_once(
            RULE_MUTATION,
            what,
            Severity.high,
            f"{how} changes the imported object {what} itself (monkey-patching at load time)",
            offset,
        )

    def extension(self, offset: int, code: int) -> None:
        self.emit_once(
            RULE_EXT,
            str(code),
            Severity.high,
            f"EXT code {code} fetches a callable registered with copyreg.add_extension; "
            "its name is hidden from any scanner",
            offset,
        )

    def limit(self, rule_id: str, offset: int, message: str) -> None:
        self.error(rule_id, offset, message)

    def note(self, rule_id: str, offset: int, message: str) -> None:
        self.emit_once(rule_id, "", Severity.low, message, offset)

    # -- calls -----------------------------------------------------------------------------

    def _inspect_call(self, call: Call, func: Global, verdict: Verdict) -> None:
        args = call.args if isinstance(call.args, tuple) else (call.args,)
        if "loader" in verdict.tags:
            scanned = self._nested(call, func, args, any_bytes=True)
            if not scanned and verdict.allowed:
                self.emit_once(
                    RULE_NESTED_UNRESOLVED,
                    str(call.offset),
                    Severity.high,
                    f"{func.full} loads data that is not known before loading "
                    f"({describe(call.args)}); it was not scanned",
                    call.offset,
                )
            return
        if verdict.allowed:
            return
        self._nested(call, func, args, any_bytes=False)
        if verdict.rule != RULE_UNKNOWN:
            return
        last = func.name.rsplit(".", 1)[-1]
        function_like = "." in func.name or not last[:1].isupper()
        if function_like and any(isinstance(a, (str, bytes, bytearray, Blob)) for a in args):
            self.emit_once(
                RULE_SUSPICIOUS_CALL,
                func.full,
                Severity.high,
                f"{func.full} is not on the allow-list and is called ({call.kind}) with "
                f"{describe(call.args)}: gadgets are functions fed strings at load time",
                call.offset,
            )

    def _nested(
        self, call: Call, func: Global, args: tuple[object, ...], *, any_bytes: bool
    ) -> bool:
        """Scan bytes arguments as nested files: every bytes argument of a loader, and bytes
        that start like a pickle for other non-allow-listed calls."""
        scanned = 0
        for value in args:
            if scanned >= _MAX_NESTED_PER_CALL:
                break
            stream, size = self._payload(value, any_bytes)
            if stream is None:
                continue
            scanned += 1
            nested = f"{self.location}@{call.offset}!nested"
            self.ctx.emit(
                RULE_NESTED,
                Severity.info,
                f"{size} bytes passed to {func.full} ({call.kind}) scanned as a nested file "
                f"at {nested}",
                self.at(call.offset),
            )
            _dispatch(self.ctx, stream, nested)
        return scanned > 0

    def _payload(self, value: object, any_bytes: bool) -> tuple[BinaryIO | None, int]:
        if (
            isinstance(value, Call)
            and isinstance(value.func, Global)
            and value.func.canonical in _BYTES_IO
            and isinstance(value.args, tuple)
            and value.args
        ):
            value = value.args[0]
        if isinstance(value, str) and value.startswith("\x80"):
            try:
                value = value.encode("latin-1")
            except UnicodeEncodeError:
                return None, 0
        if isinstance(value, (bytes, bytearray)):
            data = bytes(value)
            if any_bytes or data[:2] in _PICKLE_PROTOS:
                return io.BytesIO(data), len(data)
            return None, 0
        transcode = isinstance(value, Transcoded)
        blob = value.blob if isinstance(value, Transcoded) else value
        if not isinstance(blob, Blob) or self.reader is None:
            return None, 0
        if blob.kind not in ("bytes", "bytearray", "py2str", "str" if transcode else ""):
            return None, 0
        if not (any_bytes or blob.head[:2] in _PICKLE_PROTOS):
            return None, 0
        window = self.reader.open_blob(blob)
        if window is None:
            return None, 0
        if transcode:
            return _transcode(window, "latin-1"), blob.length
        return window, blob.length

    # -- output ----------------------------------------------------------------------------

    def flush(self) -> None:
        for seen in self.imports.values():
            verdict = seen.verdict
            if verdict.allowed:
                continue
            site = seen.site
            text = f"{site.full} ({site.via} at {site.offset}"
            if seen.count > 1:
                text += f", {seen.count} times"
            text += ")"
            if seen.call is not None:
                call = seen.call
                text += f", called by {call.kind} at {call.offset} with {describe(call.args)}"
            self.ctx.emit(
                verdict.rule,
                verdict.severity,
                f"{text}: {verdict.reason}{seen.reading}",
                self.at(site.offset),
            )
        self.imports.clear()
        if self.worst is not None:
            worst = self.worst
            self.ctx.emit(
                worst.verdict.rule,
                worst.verdict.severity,
                f"{self.overflow} more distinct names outside the allow-list, not listed one by "
                f"one; the worst: {worst.site.full}: {worst.verdict.reason}",
                self.at(worst.site.offset),
            )


def _transcode(window: BinaryIO, codec: str) -> BinaryIO:
    """The UTF-8 text in `window` re-encoded with `codec`, in a spooled file (memory up to
    8 MiB, disk beyond)."""
    import tempfile  # only for this rare case: a scan of plain pickles does not import it

    out = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115 - returned open
    decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")
    while chunk := window.read(1 << 20):
        out.write(decoder.decode(chunk).encode(codec, "replace"))
    out.write(decoder.decode(b"", final=True).encode(codec, "replace"))
    out.seek(0)
    return cast(BinaryIO, out)


def _dispatch(ctx: ScanContext, stream: BinaryIO, location: str) -> None:
    """Scan a nested payload one level deeper, through the format dispatcher when there is
    one (it recognises zips, pickles, ...), else as a pickle."""
    if ctx.dispatcher is not None:
        ctx.dispatch(stream, location)
        return

    def nested(inner: BinaryIO, where: str, inner_ctx: ScanContext) -> None:
        scan(inner, where, inner_ctx)

    ctx.dispatcher = nested
    try:
        ctx.dispatch(stream, location)
    finally:
        ctx.dispatcher = None
