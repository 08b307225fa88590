"""Text files beside model weights that a loader acts on: chat templates.

transformers renders the Jinja chat template it finds in `tokenizer_config.json` (key
`chat_template`: a string, or a list of `{"name", "template"}`), in `chat_template.json` and in
`chat_template.jinja`. A template that walks to Python internals runs code when a prompt is
formatted, so these get the same analysis as GGUF metadata templates. Recognised by content:
a JSON object with a `chat_template` key, or text that parses as a Jinja template with tags.
"""

from __future__ import annotations

import json
from typing import BinaryIO

from custos.modelfile.context import ScanContext
from custos.modelfile.streamview import read_at, stream_size
from custos.modelfile.template_rules import looks_like_template

MAX_TEXT = 64 << 20  # tokenizer.json files with large vocabularies run to tens of MB


def scan(stream: BinaryIO, location: str, ctx: ScanContext) -> None:
    size = stream_size(stream)
    if size > MAX_TEXT:
        return  # no chat template file is this large; a huge text file is not a loader input
    text = read_at(stream, 0, size).decode("utf-8", errors="replace")
    if not looks_like_template(text):
        return
    stripped = text.lstrip()
    if stripped.startswith("{") and '"chat_template"' in text:
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            document = None
        if isinstance(document, dict):
            for where, template in templates(document):
                _check(template, f"{location}!{where}", ctx, strict=True)
            return
    if "{%" in text:
        _check(text, location, ctx, strict=False)


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


def _check(source: str, location: str, ctx: ScanContext, *, strict: bool) -> None:
    from custos.modelfile.chat_template import check_template, parses  # Jinja2 only when needed

    # A free-standing text file is only a template if Jinja can parse it: a README that happens
    # to contain "{%" is not one, and a template Jinja cannot parse cannot be rendered either.
    if strict or parses(source):
        check_template(source, location, ctx)
