"""`--format oscal-ssp | oscal-ar | oscal-poam`: OSCAL JSON built with compliance-trestle.

The builders (`_oscal_ssp`, `_oscal_ar`, `_oscal_poam`) construct trestle models, which
validate on construction; the renderers serialise them as trestle itself writes files.
`read_oscal` re-reads a written file with the same trestle model, so callers can prove a file
before reporting success (as `custos catalog export` does). How Custos concepts map onto OSCAL
objects is documented in docs/reports.md.
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from trestle.oscal import assessment_results, poam, ssp

from custos.assess.model import AssessmentReport
from custos.errors import DataError
from custos.reports._oscal_ar import build_assessment_results
from custos.reports._oscal_poam import build_poam
from custos.reports._oscal_ssp import build_ssp
from custos.reports.renderer import Renderer

# The trestle model class of each document kind, for reading files back.
MODELS: dict[str, Any] = {
    "oscal-ssp": ssp.SystemSecurityPlan,
    "oscal-ar": assessment_results.AssessmentResults,
    "oscal-poam": poam.PlanOfActionAndMilestones,
}


class _OscalRenderer(Renderer):
    suffix = ".json"
    kind: ClassVar[str]

    @abstractmethod
    def build(self, report: AssessmentReport) -> Any:
        """The trestle model (validated on construction)."""

    def render(self, report: AssessmentReport) -> bytes:
        model = self.build(report)
        data: bytes = model.oscal_serialize_json_bytes(pretty=True, wrapped=True)
        return data + b"\n"


class OscalSspRenderer(_OscalRenderer):
    media_type = "application/oscal.ssp+json"
    kind = "oscal-ssp"

    def build(self, report: AssessmentReport) -> Any:
        return build_ssp(report)


class OscalArRenderer(_OscalRenderer):
    media_type = "application/oscal.ar+json"
    kind = "oscal-ar"

    def build(self, report: AssessmentReport) -> Any:
        return build_assessment_results(report)


class OscalPoamRenderer(_OscalRenderer):
    media_type = "application/oscal.poam+json"
    kind = "oscal-poam"

    def build(self, report: AssessmentReport) -> Any:
        return build_poam(report)


def read_oscal(path: Path, kind: str) -> Any:
    """Read and validate an OSCAL file of `kind` ("oscal-ssp", "oscal-ar", "oscal-poam")."""
    model_class = MODELS[kind]
    try:
        model = model_class.oscal_read(path)
    except Exception as exc:  # trestle raises its own and pydantic errors; name the file
        raise DataError(path, f"not a valid OSCAL {kind[6:]}: {exc}".splitlines()[0]) from exc
    if model is None:
        raise DataError(path, f"not a valid OSCAL {kind[6:]}: missing or empty")
    return model
