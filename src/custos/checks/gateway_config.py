"""gateway-config: the gateway and serving configurations in front of a system's endpoints
(LiteLLM proxy configs, Kong declarative configs, Envoy AI Gateway resources) authenticate
clients, limit them per client, log requests and hold no literal secrets (custos.gateways,
docs/runtime.md). Runs once per AI system, on the files its endpoint assets name under
`gateways:` and on those found in the project by content that no asset names (each system gets
those, with a note to declare them). Not applicable when there are none. Files are read as YAML
data and never run.
"""

from __future__ import annotations

from pathlib import Path

from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Finding, Outcome, Severity
from custos.errors import DataError, UserError
from custos.gateways.discover import discover
from custos.gateways.model import PRODUCT_NAMES, Config, GatewayFinding
from custos.gateways.scan import judge, load
from custos.inventory.schema import AISystem, is_retired

CONTROLS = (
    "custos:ai:endpoint-authentication",
    "custos:ai:endpoint-rate-limiting",
    "custos:ai:access-logging",
    "iso27002:2022:8.5",
    "iso27002:2022:8.16",
    "iso27002:2022:8.20",
)
SENSITIVE = ("confidential", "restricted")


class GatewayConfig(Check):
    name = "gateway-config"
    version = 1
    title = "Gateway configurations authenticate, rate-limit and log, with no literal secrets"
    evidences = CONTROLS

    def run(self, target: Target, context: CheckContext) -> Outcome:
        system = target.system
        findings: list[Finding] = []
        files: list[Path] = []
        for asset in system.assets:
            if asset.kind != "endpoint" or not asset.gateways or is_retired(system, asset):
                continue
            for location in asset.gateways:
                path = context.resolve(location)
                if path.is_file():
                    files.append(path)
                else:
                    findings.append(Finding(
                        "gateway-config/missing", Severity.medium,
                        f"endpoint {asset.id!r} names gateway config {location}, which does "
                        "not exist", location, CONTROLS,
                    ))  # fmt: skip
        claimed = {
            context.resolve(location).resolve()
            for s in context.manifest.systems
            for a in s.assets
            for location in a.gateways or ()
        }
        for path, product in discover(context.base_dir):
            if path.resolve() in claimed or path in files:
                continue
            files.append(path)
            findings.append(Finding(
                "gateway-config/undeclared", Severity.info,
                f"a {PRODUCT_NAMES[product]} found by its content and named by no endpoint: "
                "list it under the gateways: of the endpoint it fronts", context.where(path),
                CONTROLS,
            ))  # fmt: skip
        if not files and not findings:
            return Outcome("not_applicable", "no gateway configuration named in the manifest "
                           "or found in the project")  # fmt: skip
        configs: list[Config] = []
        for path in files:
            try:
                configs.append(load(path))
            except UserError as exc:
                findings.append(_unreadable(path, exc, context))
        raise_guardrails = _sensitive(system)
        for report in judge(configs):
            for found in report.findings:
                findings.append(_finding(found, context, raise_guardrails))
        examined = context.examined(p for p in files if p.is_file())
        blocking = [f for f in findings if f.severity >= Severity.medium]
        products = sorted({PRODUCT_NAMES[c.product] for c in configs})
        summary = (f"{len(files)} gateway config(s) ({', '.join(products) or 'none readable'}); "
                   f"{len(blocking)} finding(s) at medium or above")  # fmt: skip
        return Outcome("fail" if blocking else "pass", summary, tuple(findings), examined)


def _sensitive(system: AISystem) -> bool:
    """Confidential or restricted assets: personal or secret data is likely in the prompts."""
    return any(a.classification in SENSITIVE for a in system.assets)


def _finding(found: GatewayFinding, context: CheckContext, raise_guardrails: bool) -> Finding:
    finding = found.finding(context.where(found.path))
    if found.rule == "gateway/no-guardrail" and raise_guardrails:
        return Finding(finding.rule, Severity.medium,
                       f"{finding.message} (medium: the system holds confidential or restricted "
                       "assets, which prompts may carry)", finding.location,
                       finding.controls)  # fmt: skip
    return finding


def _unreadable(path: Path, exc: UserError, context: CheckContext) -> Finding:
    shown = context.where(path)
    if isinstance(exc, DataError):
        location = f"{shown}:{exc.line}" if exc.line is not None else shown
        message = exc.message
    else:
        location, message = shown, str(exc)
    return Finding("gateway-config/unreadable", Severity.medium,
                   f"cannot be judged: {message}", location, CONTROLS)  # fmt: skip
