"""Credentials in data (API keys, tokens, private keys, passwords in URLs) through the
pattern plug-ins of Yelp's `detect-secrets`. Its entropy plug-ins are left out on purpose:
they flag every SHA-256 digest and UUID, which datasets are full of.

The plug-ins cost about 18 us a value; a value goes to them only if it holds a run of 16 or
more key-like characters, a private-key header, or credentials in a URL, and one search with
all their patterns together finds something."""

from __future__ import annotations

import functools
import re
from typing import Any

_CANDIDATE = re.compile(r"[A-Za-z0-9_\-+/=.]{16,}|-----BEGIN|://[^/\s:@]+:[^/\s@]+@")
_SKIPPED = frozenset({"IPPublicDetector"})  # addresses are the data scanner's own type
# Digests, UUIDs and hex ids: no pattern plug-in matches bare hex, and datasets are full of them.
_HEX = re.compile(r"[0-9A-Fa-f-]+")


@functools.cache
def _plugins() -> tuple[Any, ...]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    classes: list[Any] = list(get_mapping_from_secret_type_to_class().values())
    chosen = [c for c in classes if issubclass(c, RegexBasedDetector)]
    return tuple(
        c() for c in sorted(chosen, key=lambda c: c.__name__) if c.__name__ not in _SKIPPED
    )


@functools.cache
def _screen() -> re.Pattern[str] | None:
    """Every plug-in's patterns in one case-insensitive alternation: a value none of them can
    match is passed over with one search instead of some forty (the plug-ins still decide)."""
    patterns = [p.pattern for plugin in _plugins() for p in plugin.denylist]
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    except re.error:  # a plug-in pattern that does not combine: screen with the plug-ins
        return None


def secret_in(text: str) -> list[tuple[str, str]]:
    """(kind of secret, the secret) for each credential in `text`."""
    if (len(text) < 16 and "://" not in text) or _HEX.fullmatch(text) is not None:
        return []
    if _CANDIDATE.search(text) is None:
        return []
    screen = _screen()
    if screen is not None and screen.search(text) is None:
        return []
    found = []
    for plugin in _plugins():
        for match in plugin.analyze_string(text):
            if match:
                found.append((plugin.secret_type, match))
    return found
