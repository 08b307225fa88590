"""Content that is not a model, recognised by its signature (magic.py): said so, never parsed.

An image, document or database under a model's file name cannot make a loader run code: a low
note for the inventory (top-level files only; a picture inside an archive is unremarkable).
An executable is code, and an archive type Custos does not open could hold anything: both are
medium "not analysed" findings wherever they are, because content that could carry code and
was not looked at must not pass the default gate. HTML and XML are text: the text scanner still
reads them (a chat template file starting with `<html>` is still a template).
"""

from __future__ import annotations

import importlib
from typing import BinaryIO

from custos.findings import Severity
from custos.modelfile import magic
from custos.modelfile.context import ScanContext
from custos.modelfile.rules import rule

NOT_A_MODEL = rule(
    "format/not-a-model",
    Severity.low,
    "The content is a known non-model type (image, PDF, HTML/XML, SQLite, media), whatever the "
    "file is called; nothing in it is executed by a model loader.",
)
EXECUTABLE = rule(
    "format/executable",
    Severity.medium,
    "A native executable or library (ELF, PE, Mach-O, WebAssembly) where a model was expected: "
    "it is code, and Custos does not analyse it.",
)
NOT_ANALYSED = rule(
    "format/not-analysed",
    Severity.medium,
    "Content that could carry code was not analysed (an archive type Custos does not open, an "
    "undecodable stream, a missing optional decoder); the message says why.",
)


def scan(stream: BinaryIO, location: str, ctx: ScanContext, kind: str) -> str | None:
    """Report the file type `kind` (a magic.FORMATS name) at its severity; markup is also
    scanned as text (returns the text scanner's refined format)."""
    entry = magic.BY_FORMAT[kind]
    if entry.kind == magic.EXECUTABLE:
        ctx.emit(EXECUTABLE.id, EXECUTABLE.severity, f"{entry.what}; not analysed", location)
    elif entry.kind == magic.ARCHIVE:
        message = f"{entry.what}, a type Custos does not open; its content was not analysed"
        ctx.emit(NOT_ANALYSED.id, NOT_ANALYSED.severity, message, location)
    elif ctx.depth == 0:
        message = f"content is {entry.what}, not a model; not analysed further"
        ctx.emit(NOT_A_MODEL.id, NOT_A_MODEL.severity, message, location)
    if kind in magic.MARKUP:
        refined: str | None = importlib.import_module("custos.modelfile.formats.text_scan").scan(
            stream, location, ctx
        )
        return refined
    return None
