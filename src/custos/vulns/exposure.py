"""Which assets a vulnerable package puts at risk, and what that suggests for the register.

A vulnerability is found in a repository's dependencies, but what it exposes is what that code
loads and serves: a flaw in the library that reads a model format touches the system's model
files of that format, and a flaw in a model server or web framework touches the system's
endpoints. The catalog links the evidence to MITRE ATLAS: the requirements a vulnerable
dependency counts against (`custos:ai:vulnerability-management`, `custos:ai:ml-dependencies`)
name the techniques they counter, and a risk on an exposed asset whose threats are among those
techniques is more likely while the vulnerability stays open. No I/O here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from custos.catalog.catalog import Catalog
from custos.findings import Severity
from custos.inventory.schema import AISystem, Asset, Manifest, Risk
from custos.vulns.lifecycle import Sla, state
from custos.vulns.model import Record

# The packages that read each model file format (by suffix), PEP 503 names.
FORMAT_READERS: dict[str, frozenset[str]] = {
    ".pt": frozenset({"torch", "transformers", "pytorch-lightning", "lightning"}),
    ".pth": frozenset({"torch", "pytorch-lightning", "lightning"}),
    ".ckpt": frozenset({"torch", "pytorch-lightning", "lightning"}),
    ".bin": frozenset({"torch", "transformers"}),
    ".safetensors": frozenset({"safetensors", "transformers"}),
    ".keras": frozenset({"keras", "tensorflow", "tf-keras"}),
    ".h5": frozenset({"keras", "tensorflow", "tf-keras", "h5py"}),
    ".hdf5": frozenset({"keras", "tensorflow", "tf-keras", "h5py"}),
    ".onnx": frozenset({"onnx", "onnxruntime", "onnxruntime-gpu"}),
    ".gguf": frozenset({"llama-cpp-python", "gguf"}),
    ".tflite": frozenset({"tensorflow", "tflite-runtime"}),
    ".pb": frozenset({"tensorflow"}),
    ".pkl": frozenset({"joblib", "scikit-learn", "pandas", "cloudpickle", "dill"}),
    ".pickle": frozenset({"joblib", "scikit-learn", "pandas", "cloudpickle", "dill"}),
    ".joblib": frozenset({"joblib", "scikit-learn"}),
    ".npy": frozenset({"numpy"}),
    ".npz": frozenset({"numpy"}),
    ".ubj": frozenset({"xgboost"}),
    ".xgb": frozenset({"xgboost"}),
    ".mlmodel": frozenset({"coremltools"}),
}
# Model directories (a Hugging Face snapshot, a SavedModel) are read by these.
DIRECTORY_READERS = frozenset({"transformers", "tensorflow", "keras", "torch", "safetensors"})
# Model servers, inference frameworks and the web stacks endpoints are built on.
SERVING_STACKS = frozenset({
    "vllm", "sglang", "text-generation-inference", "ray", "bentoml", "mlflow", "torchserve",
    "tritonclient", "kserve", "seldon-core", "tensorflow-serving-api", "openllm", "litellm",
    "llama-cpp-python", "ollama", "fastapi", "starlette", "uvicorn", "gunicorn", "flask",
    "werkzeug", "django", "aiohttp", "tornado", "gradio", "streamlit", "langserve",
})  # fmt: skip
# How likely exploitation is while a vulnerability of this severity stays open (1-5).
SEVERITY_LIKELIHOOD = {Severity.critical: 5, Severity.high: 4, Severity.medium: 3, Severity.low: 2}
LINKED_REQUIREMENTS = ("custos:ai:vulnerability-management", "custos:ai:ml-dependencies")


def exposed_assets(system: AISystem, repository: str, package: str) -> list[str]:
    """The repository itself, and the system's models and endpoints the package reads or
    serves."""
    found = [repository]
    for asset in system.assets:
        if asset.id != repository and _exposes(asset, package):
            found.append(asset.id)
    return found


def _exposes(asset: Asset, package: str) -> bool:
    if asset.kind == "endpoint":
        return package in SERVING_STACKS
    if asset.kind != "model":
        return False
    suffix = PurePosixPath(asset.location.rstrip("/")).suffix.lower()
    readers = FORMAT_READERS.get(suffix)
    if readers is None:
        return "*" not in asset.location and not suffix and package in DIRECTORY_READERS
    return package in readers


def linked_techniques(catalog: Catalog) -> frozenset[str]:
    """The ATLAS techniques the vulnerability requirements counter, per the catalog."""
    out: set[str] = set()
    for requirement in LINKED_REQUIREMENTS:
        out.update(t for t in catalog.control(requirement).counters if t.startswith("atlas:"))
    return frozenset(out)


def _related(threat: str, techniques: frozenset[str]) -> bool:
    """A threat is the technique, one of its sub-techniques, or its parent technique."""
    return any(
        threat == t or threat.startswith(f"{t}.") or t.startswith(f"{threat}.") for t in techniques
    )


@dataclass(frozen=True)
class Suggestion:
    """Raise a risk's likelihood while these vulnerabilities stay open."""

    risk: str
    likelihood: int
    suggested: int
    because: tuple[str, ...]  # "system/asset: package advisory (severity)"
    techniques: tuple[str, ...]


def suggestions(
    manifest: Manifest,
    catalog: Catalog,
    records: Iterable[Record],
    now: dt.datetime,
    sla: Sla | None = None,
) -> list[Suggestion]:
    """For each risk on an exposed system or asset whose threats the vulnerability
    requirements counter: the likelihood the open vulnerabilities suggest, when higher than the
    register's."""
    techniques = linked_techniques(catalog)
    systems = {s.id: s for s in manifest.systems}
    live = [r for r in records if state(r, now, sla) in ("open", "overdue", "expired")]
    out = []
    for risk in manifest.risks:
        threats = tuple(t for t in risk.threats if _related(t, techniques))
        if not threats:
            continue
        hits = [r for r in live if _touches(risk, r, systems)]
        if not hits:
            continue
        suggested = max(SEVERITY_LIKELIHOOD.get(r.severity, 1) for r in hits)
        if suggested <= risk.likelihood:
            continue
        because = tuple(
            f"{r.key.system}/{r.key.asset}: {r.key.package} {r.key.advisory} ({r.severity.name})"
            for r in sorted(hits, key=lambda r: (-int(r.severity), r.key))
        )
        out.append(Suggestion(risk.id, risk.likelihood, suggested, because, threats))
    return out


def _touches(risk: Risk, record: Record, systems: dict[str, AISystem]) -> bool:
    key = record.key
    if key.system in risk.systems:
        return True
    system = systems.get(key.system)
    if system is None or not risk.assets:
        return False
    return bool(set(risk.assets) & set(exposed_assets(system, key.asset, key.package)))


def exposure_of(manifest: Manifest, records: Sequence[Record]) -> dict[int | None, list[str]]:
    """Record id -> the assets it exposes (for listings)."""
    systems = {s.id: s for s in manifest.systems}
    out: dict[int | None, list[str]] = {}
    for r in records:
        system = systems.get(r.key.system)
        out[r.id] = exposed_assets(system, r.key.asset, r.key.package) if system else [r.key.asset]
    return out
