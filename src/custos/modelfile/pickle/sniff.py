"""Whether a stream is a pickle a loader would act on, decided by walking it, never by sampling.

A loader that is handed these bytes reads opcode after opcode until it fails, stops or reaches
an import; whatever comes first (64 KiB of NONE and POP, a run of MARKs or empty FRAMEs, one
huge BINBYTES then POP) changes nothing, so neither may a sample of the head or the variety of
its opcodes. `is_pickle` walks the static machine (opwalk) from the first byte until the
answer is known:

- an import opcode is reached (a plausible name, or one the machine cannot know statically):
  a pickle, broken or not, since the loader imports before anything fails;
- the first pickle reaches STOP: a pickle for a file. `strict` (archive members, second views
  of a file) asks more, since a tiny pickle at the start of raw tensor bytes is data: the
  stream must be pickles to its end, or have PROTO after the STOP, or hold persistent ids or
  extension codes;
- it fails or ends without importing: not a pickle (the loader fails before doing anything),
  except a file starting with PROTO, reported as a broken pickle. Persistent ids and EXT
  codes do not count in a broken stream: about one raw tensor in 85 starts with an EXT
  opcode, and loading it imports nothing the bytes name.

Frames are read the most lenient way a loader reads them (`Source(frames=False)`): `_pickle.c`
lets opcodes cross a frame's end, and `pickle._Unpickler` reads a frame cut short by the end of
the data; so a FRAME opcode is passed over. The walk is linear and stops at the first import,
where real pickles are decided within a few bytes. Past the machine's tracking limit (a long
run of pushes) it goes on without a stack (`Machine.skim`), which only errs towards "a
pickle"; past `MAX_OPCODES` without an answer the stream is taken for a pickle and left to the
analyser's own limits.
"""

from __future__ import annotations

import io
import re
from typing import BinaryIO

from custos.modelfile.pickle.opwalk import (
    NAMES,
    Exhausted,
    Global,
    Machine,
    Overflow,
    Source,
    WalkError,
)

MAX_ITEMS = 100_000  # stack + memo tracked before going on without a stack
MAX_OPCODES = 10_000_000  # opcodes walked without an answer before taking it for a pickle
MAX_LINE = 1 << 20  # text-line arguments longer than this are skipped, not kept
_NAME = re.compile(r"[A-Za-z_][\w.]*\Z")


class _Imports(Exception):
    """Raised from the import hook: the answer is known, the walk stops."""


def is_pickle(data: bytes | BinaryIO, size: int, *, strict: bool) -> bool:
    """Whether the `size` bytes of `data` (from its start) are a pickle worth analysing."""
    if isinstance(data, (bytes, bytearray)):
        size = min(size, len(data))
    stream = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    if not size or _first_byte(stream) not in NAMES:
        return False
    at, budget = 0, MAX_OPCODES
    while True:
        source = Source(stream, at, size, frames=False)  # the most lenient loader's reading
        machine = Machine(source, max_items=MAX_ITEMS, on_import=_stop_at)
        machine.max_string, machine.max_opcodes = MAX_LINE, budget
        try:
            end = _walk(machine)
        except (_Imports, Exhausted):
            return True
        except (WalkError, RecursionError):
            return at == 0 and not strict and _proto(stream, 0)
        if not strict or machine.flags or end >= size or _proto(stream, end):
            return True
        at, budget = end, budget - machine.opcodes  # another pickle must follow


def is_import(name: Global | None) -> bool:
    """A name a loader would try to import: a plausible dotted name, or one not known
    statically (bytes that name a global only by accident hold no plausible name)."""
    return name is None or bool(_NAME.match(name.module) and _NAME.match(name.name))


def _stop_at(machine: Machine, name: Global | None) -> None:
    if is_import(name):
        raise _Imports


def _walk(machine: Machine) -> int:
    try:
        return machine.run()
    except Overflow:
        return machine.skim()


def _first_byte(stream: BinaryIO) -> int:
    stream.seek(0)
    first = stream.read(1)
    return first[0] if first else -1


def _proto(stream: BinaryIO, at: int) -> bool:
    stream.seek(at)
    head = stream.read(2)
    return len(head) > 1 and head[0] == 0x80 and head[1] <= 5
