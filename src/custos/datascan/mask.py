"""Masked examples: enough to tell a reviewer what was found, never the value. At most a few
characters stay (an email's first letter and top-level domain, a card's last four digits, an
IPv4 address's first octet, a key's first four characters); every other letter and digit is a
`*`, separators kept so the shape shows."""

from __future__ import annotations

import re

_HIDE = re.compile(r"[^\W_]", re.UNICODE)  # letters and digits


def _stars(text: str) -> str:
    return _HIDE.sub("*", text)


def _keep_last(text: str, keep: int) -> str:
    """Every letter and digit hidden but the last `keep` of them."""
    shown = 0
    out = []
    for ch in reversed(text):
        if _HIDE.match(ch) and shown < keep:
            shown += 1
            out.append(ch)
        else:
            out.append("*" if _HIDE.match(ch) else ch)
    return "".join(reversed(out))


def mask(value: str, kind: str) -> str:
    """`value` (of detected type `kind`) masked for reports and logs."""
    text = value.strip()
    if kind == "email" and "@" in text:
        local, _, domain = text.rpartition("@")
        tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
        return f"{local[:1]}***@***.{tld}" if tld else f"{local[:1]}***@***"
    if kind == "card":
        return _keep_last(text, 4)
    if kind in ("iban", "ssn", "nino", "phone"):
        head = text[:2] if kind == "iban" else ""
        return head + _keep_last(text[len(head) :], 2)
    if kind == "ip":
        if "." in text and ":" not in text:
            first, _, rest = text.partition(".")
            return first + "." + _stars(rest)
        return _stars(text)
    if kind == "name":
        return " ".join(w[:1] + "***" for w in text.split())
    if kind == "secret":
        return f"{text[:4]}… ({len(text)} characters)"
    return _stars(text)
