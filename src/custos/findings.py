"""A finding, its severity and the rule a scanner reports it under: what every scanner and
check reports. Kept apart from the evidence records (checks.model) so the lean `scan-model`
path loads neither datetime nor provenance. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Severity(IntEnum):
    """Finding severity; ordered so `--fail-on` can compare."""

    info = 0
    low = 1
    medium = 2
    high = 3
    critical = 4

    @classmethod
    def parse(cls, name: str) -> Severity:
        try:
            return cls[name.lower()]
        except KeyError:
            names = ", ".join(s.name for s in cls)
            raise ValueError(f"unknown severity {name!r}; use one of {names}") from None


@dataclass(frozen=True)
class Finding:
    """One problem a check found, at a place, with the controls it bears on."""

    rule: str
    severity: Severity
    message: str
    location: str
    controls: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The JSON object every output that lists findings writes (a contract)."""
        return {
            "rule": self.rule,
            "severity": self.severity.name,
            "message": self.message,
            "location": self.location,
            "controls": list(self.controls),
        }


@dataclass(frozen=True)
class Rule:
    """A scanner's rule: its default severity, its help text and the controls it bears on."""

    severity: Severity
    help: str
    controls: tuple[str, ...]
