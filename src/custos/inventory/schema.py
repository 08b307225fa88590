"""The `custos.yaml` manifest: organisation, AI systems and their assets, risks, attestations and
exclusions. These frozen pydantic models are both the file schema (`custos schema` prints it as
JSON Schema) and the inventory's domain objects; they do no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

MANIFEST_VERSION = 1

Slug = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=100)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
ControlRef = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*(:[A-Za-z0-9._-]+)+$")]
Score = Annotated[int, Field(ge=1, le=5)]
HttpUrlText = Annotated[str, StringConstraints(pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://\S+$")]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]

AssetKind = Literal["model", "dataset", "endpoint", "pipeline", "repository", "log_source"]
Classification = Literal["public", "internal", "confidential", "restricted"]
Lifecycle = Literal["design", "development", "validation", "production", "retired"]
AssetLifecycle = Literal["active", "retired"]
Role = Literal[
    "provider", "deployer", "importer", "distributor", "authorised-representative",
    "product-manufacturer",
]  # fmt: skip
Tier = Literal["prohibited", "high", "limited", "minimal", "gpai", "gpai-systemic"]
Treatment = Literal["mitigate", "accept", "transfer", "avoid"]

ASSET_KINDS: tuple[AssetKind, ...] = (
    "model",
    "dataset",
    "endpoint",
    "pipeline",
    "repository",
    "log_source",
)
# Artifacts whose bytes should only change on purpose (logs grow, endpoints are URLs).
BASELINE_KINDS: tuple[AssetKind, ...] = ("model", "dataset", "pipeline", "repository")
# How a log_source is read (custos.accesslog), and the request fields a JSON Lines log may map.
LogFormat = Literal["auto", "jsonl", "nginx", "alb", "otel"]
LogField = Literal["ts", "api_key", "client_ip", "endpoint", "method", "status", "latency_ms",
                   "input", "output", "user_agent"]  # fmt: skip

ProhibitedPractice = Literal[
    "subliminal-manipulation",
    "exploiting-vulnerabilities",
    "social-scoring",
    "predictive-policing-profiling",
    "untargeted-face-scraping",
    "workplace-emotion-recognition",
    "biometric-categorisation-sensitive",
    "realtime-remote-biometric-id",
]
AnnexIIIArea = Literal[
    "biometrics",
    "critical-infrastructure",
    "education",
    "employment",
    "essential-services",
    "law-enforcement",
    "migration",
    "justice-democracy",
]
AnnexIIIPoint = Annotated[str, StringConstraints(pattern=r"^[1-8](\([a-d]\))?$")]
TransparencyCase = Literal[
    "interacts-with-people",
    "synthetic-content",
    "emotion-recognition",
    "biometric-categorisation",
    "deepfake",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RiskLevel(_Model):
    name: Text
    max_score: Annotated[int, Field(ge=1, le=25)]


def _default_levels() -> list[RiskLevel]:
    return [
        RiskLevel(name="low", max_score=4),
        RiskLevel(name="medium", max_score=9),
        RiskLevel(name="high", max_score=16),
        RiskLevel(name="critical", max_score=25),
    ]


class RiskMatrix(_Model):
    """How likelihood x impact (1-5 each) maps to a level, and the organisation's appetite."""

    levels: list[RiskLevel] = Field(default_factory=_default_levels, min_length=1)
    appetite: Annotated[int, Field(ge=1, le=25)] = 9

    @model_validator(mode="after")
    def _ordered(self) -> RiskMatrix:
        bounds = [level.max_score for level in self.levels]
        if bounds != sorted(set(bounds)) or bounds[-1] != 25:
            raise ValueError("levels need strictly increasing max_score ending at 25")
        return self


class VulnerabilitySla(_Model):
    """Days allowed to remediate a known vulnerability, by severity, from when a scan first
    finds it (custos.vulns)."""

    critical: Annotated[int, Field(ge=1, le=365)] = 15
    high: Annotated[int, Field(ge=1, le=365)] = 30
    medium: Annotated[int, Field(ge=1, le=730)] = 90
    low: Annotated[int, Field(ge=1, le=730)] = 180

    @model_validator(mode="after")
    def _ordered(self) -> VulnerabilitySla:
        days = [self.critical, self.high, self.medium, self.low]
        if days != sorted(days):
            raise ValueError("a more severe vulnerability cannot have longer than a less severe")
        return self


class Organisation(_Model):
    name: Text
    scope: Text
    risk_matrix: RiskMatrix = Field(default_factory=RiskMatrix)
    vulnerability_sla: VulnerabilitySla = Field(
        default_factory=VulnerabilitySla,
        description="days to remediate a known vulnerability, by severity",
    )


class Questionnaire(_Model):
    """Answers from which Custos derives the EU AI Act regimes, roles and obligations (and
    explains them): custos.catalog.ai_act."""

    prohibited_practices: list[ProhibitedPractice] = Field(default_factory=list)
    annex_i_product: bool = False
    annex_iii: list[AnnexIIIArea | AnnexIIIPoint] = Field(
        default_factory=list,
        description='Annex III areas (employment) or points ("5(b)": credit scoring)',
    )
    annex_iii_exception: bool = Field(
        default=False,
        description="Art. 6(3): narrow procedural task / no significant risk of harm",
    )
    profiling: bool = Field(
        default=False,
        description="the system profiles natural persons: always high-risk under Annex III",
    )
    transparency: list[TransparencyCase] = Field(default_factory=list)
    gpai: bool = False
    gpai_systemic: bool = Field(
        default=False, description="Art. 51(1): a general-purpose model with systemic risk"
    )
    own_name_or_trademark: bool = Field(
        default=False, description="Art. 25(1)(a): we put our name or trademark on it"
    )
    substantial_modification: bool = Field(
        default=False, description="Art. 25(1)(b): we substantially modified it"
    )
    changed_intended_purpose: bool = Field(
        default=False, description="Art. 25(1)(c): we changed its intended purpose"
    )
    public_service: bool = Field(
        default=False,
        description="we are a public body or a private entity providing public services "
        "(Art. 27 impact assessment)",
    )


class EuAiAct(_Model):
    role: Role
    tier: Tier | None = None
    questionnaire: Questionnaire | None = None

    @model_validator(mode="after")
    def _tier_or_answers(self) -> EuAiAct:
        if self.tier is None and self.questionnaire is None:
            raise ValueError("give either tier or questionnaire")
        return self


class RobustnessPolicy(_Model):
    """What the `robustness` check demands of a model (custos robustness, docs/assurance.md)."""

    data: Slug = Field(description="the dataset asset to attack (its `label` is the target)")
    eps: list[Annotated[float, Field(gt=0, le=100)]] = Field(
        min_length=1, max_length=8, description="perturbation budgets, in the data's units"
    )
    norm: Literal["inf", "2"] = "inf"
    min_robust_accuracy: Annotated[float, Field(ge=0, le=1)] = Field(
        description="the least accuracy under attack at every budget; below it is a finding"
    )


class EvaluationPolicy(_Model):
    """What the `evaluation` check demands of a model (custos evaluate, docs/assurance.md)."""

    data: Slug = Field(description="the held-out dataset asset (its `label` is the target)")
    minimums: dict[Literal["accuracy", "f1", "auc", "r2"], Annotated[float, Field(ge=0, le=1)]] = (
        Field(default_factory=dict, description="least acceptable figures on the held-out set")
    )
    max_rmse: Annotated[float, Field(gt=0)] | None = None
    subgroups: list[Text] = Field(
        default_factory=list, description="columns whose groups are compared (fairness)"
    )
    max_fairness_gap: Annotated[float, Field(ge=0, le=1)] | None = Field(
        default=None, description="largest allowed gap of the main metric between subgroups"
    )


class Asset(_Model):
    id: Slug
    kind: AssetKind
    location: Text = Field(description="path or glob relative to custos.yaml, or a URL")
    classification: Classification | None = None
    owner: str | None = None
    notes: str | None = None
    lifecycle: AssetLifecycle | None = Field(
        default=None,
        description="retired: no longer needed, to be deleted (default: the system's lifecycle)",
    )
    signature: Text | None = Field(
        default=None,
        description="model signature file relative to custos.yaml "
        "(default: <file>.sig beside a file, <dir>/model.sig inside a directory)",
    )
    baseline: Text | None = Field(
        default=None,
        description="baseline file relative to custos.yaml "
        "(default: .custos/baselines/<asset id>.json)",
    )
    label: Text | None = Field(
        default=None,
        description="the label column of a tabular training dataset "
        "(the data-integrity check examines the dataset only when it is set)",
    )
    log_format: LogFormat | None = Field(
        default=None,
        description="the format of a log_source (default auto: recognised from its first lines)",
    )
    fields: dict[LogField, Text] | None = Field(
        default=None,
        description="where a JSON Lines log_source keeps each request field, e.g. "
        "{ts: time, api_key: key}; a dotted name reaches into objects (the access-log check)",
    )
    gateways: list[Text] | None = Field(
        default=None,
        description="gateway configs in front of an endpoint (LiteLLM, Kong, Envoy AI Gateway "
        "files), relative to custos.yaml; the gateway-config check reads them",
    )
    url: HttpUrlText | None = Field(
        default=None,
        description="the URL the endpoint check probes (default: location, when a URL)",
    )
    auth: EnvName | None = Field(
        default=None,
        description="the NAME of the environment variable holding the endpoint's API key "
        "(never the key itself)",
    )
    owned: bool = Field(
        default=False,
        description="the organisation operates this endpoint: the endpoint check may send a "
        "bounded burst (rate limiting) and the key in the query string",
    )
    trusted: bool = Field(
        default=False,
        description="a model file the organisation vouches for: Custos may load it (robustness, "
        "evaluation) once the model-file scanner passes it; never for files from outside",
    )
    architecture: Text | None = Field(
        default=None,
        description="a PyTorch state dict's architecture: module:callable (e.g. "
        "models.arch:build), imported from the manifest's folder and called with no arguments "
        "to return the torch.nn.Module; the organisation's code, run only when trusted",
    )
    robustness: RobustnessPolicy | None = None
    evaluation: EvaluationPolicy | None = None

    @model_validator(mode="after")
    def _endpoint_fields(self) -> Asset:
        # By value, not by presence: the server stores assets with every field written out.
        values = {"url": self.url is not None, "auth": self.auth is not None, "owned": self.owned}
        given = [name for name, present in values.items() if present]
        if given and self.kind != "endpoint":
            raise ValueError(f"{given[0]}: only endpoint assets have url, auth and owned")
        return self

    @model_validator(mode="after")
    def _label_on_datasets(self) -> Asset:
        if self.label is not None and self.kind != "dataset":
            raise ValueError("label: only dataset assets have a label column")
        return self

    @model_validator(mode="after")
    def _log_fields(self) -> Asset:
        if (self.fields is not None or self.log_format is not None) and self.kind != "log_source":
            raise ValueError("fields, log_format: only log_source assets have them")
        return self

    @model_validator(mode="after")
    def _gateways_on_endpoints(self) -> Asset:
        if self.gateways is not None and self.kind != "endpoint":
            raise ValueError("gateways: only endpoint assets have gateway configs")
        if any("://" in path for path in self.gateways or ()):
            raise ValueError("gateways: give files relative to custos.yaml, not URLs")
        return self

    @model_validator(mode="after")
    def _model_assurance(self) -> Asset:
        values = {"trusted": self.trusted, "robustness": self.robustness,
                  "evaluation": self.evaluation}  # fmt: skip
        given = [name for name, value in values.items() if value]
        if given and self.kind != "model":
            raise ValueError(f"{given[0]}: only model assets have it")
        return self

    @model_validator(mode="after")
    def _architecture_on_models(self) -> Asset:
        if self.architecture is None:
            return self
        if self.kind != "model":
            raise ValueError("architecture: only model assets have it")
        if not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", self.architecture):
            raise ValueError("architecture: give module:callable, e.g. models.arch:build")
        return self

    @model_validator(mode="after")
    def _integrity_files(self) -> Asset:
        if self.signature is not None and self.kind != "model":
            raise ValueError("signature: only model assets are signed")
        if self.baseline is not None and self.kind not in BASELINE_KINDS:
            kinds = ", ".join(BASELINE_KINDS)
            raise ValueError(f"baseline: only {kinds} assets have a baseline")
        return self


class AISystem(_Model):
    id: Slug
    name: Text
    purpose: Text
    owner: str | None = None
    lifecycle: Lifecycle
    eu_ai_act: EuAiAct
    assets: list[Asset] = Field(default_factory=list)


def is_retired(system: AISystem, asset: Asset) -> bool:
    """An asset is retired when it says so, or when it says nothing and its system is."""
    if asset.lifecycle is not None:
        return asset.lifecycle == "retired"
    return system.lifecycle == "retired"


class Residual(_Model):
    likelihood: Score
    impact: Score


class Risk(_Model):
    id: Slug
    title: Text
    threats: list[ControlRef] = Field(min_length=1)
    systems: list[Slug] = Field(default_factory=list)
    assets: list[Slug] = Field(default_factory=list)
    likelihood: Score
    impact: Score
    treatment: Treatment
    controls: list[ControlRef] = Field(default_factory=list)
    residual: Residual | None = None
    owner: str | None = None
    review_date: dt.date | None = None

    @model_validator(mode="after")
    def _scope(self) -> Risk:
        if not self.systems and not self.assets:
            raise ValueError("a risk needs the systems or assets it affects")
        if self.treatment == "mitigate" and not self.controls:
            raise ValueError("a mitigated risk needs the controls chosen to treat it")
        return self


class Attestation(_Model):
    id: Slug
    control: ControlRef
    systems: list[Slug] = Field(default_factory=list, description="empty: every system")
    statement: Text
    evidence: str | None = Field(default=None, description="file path relative to custos.yaml")
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None
    author: Text
    date: dt.date
    expires: dt.date | None = None

    @model_validator(mode="after")
    def _dates(self) -> Attestation:
        if self.expires is not None and self.expires <= self.date:
            raise ValueError("expires must be after date")
        return self


class Exclusion(_Model):
    control: ControlRef
    systems: list[Slug] = Field(default_factory=list, description="empty: every system")
    justification: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10)]


class Assignment(_Model):
    """A roadmap decision: who closes the gaps on a control, and by when. Without one, Custos
    proposes the owner (the risk's or the system's) and schedules the due date itself."""

    control: ControlRef
    owner: Text | None = None
    due: dt.date | None = None

    @model_validator(mode="after")
    def _something(self) -> Assignment:
        if self.owner is None and self.due is None:
            raise ValueError("give owner, due or both")
        return self


class SigstoreSigner(_Model):
    identity: Text = Field(description="the signer's OIDC identity (e-mail or workflow URI)")
    issuer: Text = Field(description="the OIDC issuer URL that certified the identity")


def _inside_model(path: str) -> str:
    parts = PurePosixPath(path).parts
    if path.startswith("/") or ".." in parts or path.strip() in ("", "."):
        raise ValueError(f"{path!r} must be a path inside the model, relative to it")
    return path


class Signing(_Model):
    """What a valid model signature is: exactly one trust anchor, never the key a file embeds."""

    public_key: Text | None = Field(
        default=None, description="the signer's EC public key (PEM), relative to custos.yaml"
    )
    certificate_chain: list[Text] | None = Field(
        default=None,
        min_length=1,
        description="trusted CA certificates (PEM), relative to custos.yaml; needs identity",
    )
    identity: Text | None = Field(
        default=None,
        description="with certificate_chain: the SAN e-mail/URI/DNS name or CN the "
        "signing certificate must carry",
    )
    sigstore: SigstoreSigner | None = Field(
        default=None, description="keyless Sigstore signer (verification needs the network)"
    )
    ignore_paths: list[Annotated[Text, AfterValidator(_inside_model)]] = Field(
        default_factory=list,
        description="paths inside a model (relative to it) the signer may leave out",
    )

    @model_validator(mode="after")
    def _one_anchor(self) -> Signing:
        given = [
            name
            for name, value in (
                ("public_key", self.public_key),
                ("certificate_chain", self.certificate_chain),
                ("sigstore", self.sigstore),
            )
            if value is not None
        ]
        if len(given) != 1:
            found = f" (found {' and '.join(given)})" if given else ""
            raise ValueError(
                "give exactly one of public_key, certificate_chain with identity, "
                f"or sigstore{found}"
            )
        if self.certificate_chain is not None and self.identity is None:
            raise ValueError("certificate_chain needs identity: who must have signed the models")
        if self.identity is not None and self.certificate_chain is None:
            raise ValueError(
                "identity goes with certificate_chain (for Sigstore use sigstore.identity)"
            )
        return self


class Manifest(_Model):
    version: Literal[1] = 1
    organisation: Organisation
    systems: list[AISystem] = Field(min_length=1)
    risks: list[Risk] = Field(default_factory=list)
    attestations: list[Attestation] = Field(default_factory=list)
    exclusions: list[Exclusion] = Field(default_factory=list)
    assignments: list[Assignment] = Field(
        default_factory=list, description="roadmap decisions: owner and due date per control"
    )
    signing: Signing | None = Field(
        default=None, description="what a valid model signature is (model-signature check)"
    )
