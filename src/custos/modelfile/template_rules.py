"""Rules for Jinja chat templates in model files, and the cheap test for "is this a template".

Kept apart from chat_template (which needs Jinja2) so that every rule is registered for SARIF
while Jinja2 is imported only when a template is actually found.
"""

from __future__ import annotations

from custos.checks.model import Severity
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
    "A chat template Jinja2 cannot parse; it could not be checked.",
)


def looks_like_template(text: str) -> bool:
    return "{{" in text or "{%" in text
