"""Text files beside model weights that a loader acts on: chat templates.

transformers renders the Jinja chat template it finds in `tokenizer_config.json` (key
`chat_template`: a string, or a list of `{"name", "template"}`), in `chat_template.json` and in
`chat_template.jinja`. A template that walks to Python internals runs code when a prompt is
formatted, so these get the same analysis as GGUF metadata templates. Recognised by name first:
a `*.jinja` / `*.jinja2` file is a template whatever it holds, and so is a `chat_template.json`
that holds no template field. Then by content: a JSON object with a `chat_template` key; text
with Jinja tags that parses; text with only `{{ }}` expressions (as prose, Markdown and other
template languages have too) that parses and in which the rules see Python reached.

Configurations that make a loader run code are text too: a JSON object with `auto_map` or
`custom_pipelines` (hf_config), YAML with a top-level `flavors` key (an MLflow MLmodel,
mlmodel_scan) and a Keras config, a JSON object with `class_name` and `config` (keras_config).
A JSON object is parsed when it names one of these keys, or spells any ASCII character as a
`\\u00XX` escape (which `json.dumps` never writes, and which could spell a key).
Text larger than the parse limit is never passed silently: `text/too-large`, high when the
bytes hold one of these keys (or such an escape, Jinja tags, a `{{` expression naming a
dunder) or the file is named as a template, info otherwise.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, BinaryIO

from custos.findings import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.formats import hf_config, mlmodel_scan
from custos.modelfile.formats.template_rules import template_name
from custos.modelfile.readers.streamview import read_at, stream_size
from custos.modelfile.rules import rule

if TYPE_CHECKING:
    from custos.modelfile.formats.chat_template import Recognised

TOO_LARGE = rule(
    "text/too-large",
    Severity.high,
    "A text file larger than the parse limit holds keys a loader acts on (chat_template, "
    "auto_map, custom_pipelines, MLflow flavors) or Jinja tags, or is named as a template; it "
    "was not checked (info when none of these).",
)
MAX_TEXT = 64 << 20  # tokenizer.json files with large vocabularies run to tens of MB
CHUNK = 8 << 20
JSON_KEYS = ('"chat_template"', '"auto_map"', '"custom_pipelines"', '"flavors"', '"class_name"')
ASCII_ESCAPE = re.compile(r"\\u00[2-7][0-9a-fA-F]")
LOADER_BYTES = re.compile(
    rb'"chat_template"|"auto_map"|"custom_pipelines"|flavors["\']?\s*:|\{%|\\u00[2-7][0-9a-fA-F]'
    rb'|"class_name"|\{\{[^{}]{0,200}?__'
)
OVERLAP = 256  # chunks overlap so that a match (at most ~210 bytes) across a border is seen


def scan(stream: BinaryIO, location: str, ctx: ScanContext) -> str | None:
    """Check the text; returns the refined format (`mlmodel`, `hf-config`) when it is one."""
    size = stream_size(stream)
    named = template_name(location)
    if size > MAX_TEXT:
        _too_large(stream, size, location, ctx, named=named is not None)
        return None
    text = read_at(stream, 0, size).decode("utf-8", errors="replace")
    if named == "jinja":  # rendered because of its name: judged as a template, strictly
        _check(text, location, ctx)
        return None
    if text.lstrip()[:1] in ("{", "[") and (
        named or any(key in text for key in JSON_KEYS) or ASCII_ESCAPE.search(text)
    ):
        try:
            document = json.loads(text)
        except (ValueError, RecursionError) as err:
            if '"auto_map"' in text or '"custom_pipelines"' in text:
                message = f"not valid JSON: {str(err)[:200]}"
                ctx.emit(hf_config.MALFORMED.id, hf_config.MALFORMED.severity, message, location)
        else:  # valid JSON is read as JSON only: a vocabulary may well have a "flavors" token
            is_dict = isinstance(document, dict)
            refined = _json_document(document, location, ctx) if is_dict else None
            if not named or (is_dict and templates(document)):
                return refined
            _check(text, location, ctx)  # a chat_template.json with no template
            return refined
    if named:  # a chat_template.json that is not JSON: its text is judged as a template
        _check(text, location, ctx)
        return None
    if mlmodel_scan.looks_like_mlmodel(text):
        return mlmodel_scan.scan(stream, location, ctx)  # strict UTF-8, its own size limit
    if "{%" in text:
        _check(text, location, ctx, recognised="tags")
    elif "{{" in text:  # expressions only: a template when the rules see Python reached
        _check(text, location, ctx, recognised="expressions")
    return None


def _json_document(document: dict[str, object], location: str, ctx: ScanContext) -> str | None:
    # A Keras config outside a .keras zip (Keras 3 loads an unzipped model directory, the
    # layout Keras models have on the Hugging Face Hub; model.to_json() files), judged whatever
    # other keys it has: Keras ignores them.
    keras = isinstance(document.get("class_name"), str) and "config" in document
    if keras:
        from custos.modelfile.formats.keras_config import check_config

        check_config(document, location, ctx)
    for where, template in templates(document):
        _check(template, f"{location}!{where}", ctx)
    if isinstance(document.get("flavors"), dict):  # YAML is a superset of JSON: an MLmodel
        mlmodel_scan.check_document(document, location, ctx)
        return "mlmodel"
    if hf_config.has_code_keys(document):
        hf_config.check(document, location, ctx)
        return "hf-config"
    return "keras-config" if keras else None


def _too_large(
    stream: BinaryIO, size: int, location: str, ctx: ScanContext, *, named: bool
) -> None:
    """Search the bytes (in chunks, never all in memory) for what a loader would act on."""
    found: set[str] = set()
    at = 0
    while at < size:
        chunk = read_at(stream, at, CHUNK + OVERLAP)
        for match in LOADER_BYTES.finditer(chunk):
            text = match.group()
            found.add("{{ ...__" if text.startswith(b"{{") else text.decode("latin-1"))
        at += CHUNK
    limit = f"{size} bytes, more than the {MAX_TEXT} parsed"
    if found or named:
        what = f"it holds {', '.join(sorted(found)[:8])}" if found else "no loader key"
        name = "a template by its name; " if named else ""
        message = f"{limit}; {name}{what}: not checked"
        ctx.emit(TOO_LARGE.id, TOO_LARGE.severity, message, location)
    elif ctx.depth == 0:
        message = f"{limit}; no loader key or template tag found in it; not parsed"
        ctx.emit(TOO_LARGE.id, Severity.info, message, location)


def templates(document: dict[str, object]) -> list[tuple[str, str]]:
    """(where, template source) for every chat template a tokenizer or processor config holds."""
    found: list[tuple[str, str]] = []
    value = document.get("chat_template")
    if isinstance(value, str):
        found.append(("chat_template", value))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict) and isinstance(item.get("template"), str):
                name = item.get("name", index)
                found.append((f"chat_template[{name}]", item["template"]))
    return found


def _check(
    source: str, location: str, ctx: ScanContext, *, recognised: Recognised = "strict"
) -> None:
    from custos.modelfile.formats.chat_template import check_template  # Jinja2 only when needed

    # A free-standing text file is only a template if Jinja can parse it: a README that happens
    # to contain "{%" is not one, and a template Jinja cannot parse cannot be rendered either.
    check_template(source, location, ctx, recognised=recognised)
