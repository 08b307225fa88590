"""The renderer contract: a finished `AssessmentReport` in, the bytes of one document out.

A renderer never reads a store, a request or the disk. Each format's module imports this one;
`reports.base.ReportFormat` picks among them (one direction: base -> format -> contract).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from custos.assess.model import AssessmentReport


class Renderer(ABC):
    """Turns an assessment into one document."""

    media_type: ClassVar[str]  # IANA media type, for HTTP responses
    suffix: ClassVar[str]  # file name suffix including the dot, e.g. ".html"

    @abstractmethod
    def render(self, report: AssessmentReport) -> bytes:
        """The whole document. Text formats are UTF-8 encoded."""
