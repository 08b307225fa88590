"""Rules for Jinja chat templates in model files, and the cheap test for "is this a template".

Kept apart from chat_template (which needs Jinja2) so that every rule is registered for SARIF
while Jinja2 is imported only when a template is actually found.
"""

from __future__ import annotations

import re

from custos.findings import Severity
from custos.modelfile.rules import rule

PYTHON_ACCESS = rule(
    "template/python-access",
    Severity.critical,
    "A chat template reaches Python internals (dunder attributes, os/popen/eval/exec): "
    "template injection that runs code when the template is rendered.",
)
GADGET_GLOBAL = rule(
    "template/suspicious-global",
    Severity.high,
    "A chat template uses a Jinja global that is a known injection gadget root.",
)
DYNAMIC = rule(
    "template/dynamic-access",
    Severity.high,
    "A chat template computes an attribute or item name from string operations.",
)
INCLUDE = rule(
    "template/include",
    Severity.medium,
    "A chat template includes, imports or extends other templates.",
)
UNPARSED = rule(
    "template/unparsed",
    Severity.high,
    "A chat template Jinja2 cannot parse, or longer than the part checked; it could not be "
    "checked (entirely).",
)


# Files a loader renders as a Jinja template because of their name, whatever they hold:
# transformers' chat_template.jinja and additional_chat_templates/<name>.jinja, and the template
# files given to vLLM (--chat-template) or llama.cpp (--chat-template-file) by path.
TEMPLATE_SUFFIXES = (".jinja", ".jinja2")
# transformers' processor file {"chat_template": ...}: its templates are checked; when it holds
# none (not JSON, no such key), its whole text is judged as a template.
TEMPLATE_JSON_NAMES = frozenset({"chat_template.json"})


def looks_like_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def template_name(location: str) -> str | None:
    """`jinja` or `json` when the file name at `location` (an archive member's `a.zip!dir/name`,
    `#n` / `@hiddenN` suffixes ignored) is one a loader renders as a template, else None."""
    name = location.rsplit("!", 1)[-1].replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"(?:#\d+|@[a-z]+\d+)$", "", name).lower()
    if name.endswith(TEMPLATE_SUFFIXES):
        return "jinja"
    return "json" if name in TEMPLATE_JSON_NAMES else None
