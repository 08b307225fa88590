"""What one scan says about vulnerabilities: the `repo/vulnerable-dependency` findings of the
`repository` check, read back into observations, and which repository assets the scan looked
at (a vulnerability is fixed only where a scan looked and no longer found it). No I/O here.

The finding's message is written by `custos.repo.scan.vulnerable` as
`<package> <version>: <advisory> (<aliases>): <summary>; fixed in <version>` (or `; no fixed
version published`); a test keeps the two in step.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from custos.checks.model import Evidence
from custos.findings import Finding
from custos.vulns.model import Observation, VulnKey

CHECK = "repository"
RULE = "repo/vulnerable-dependency"
NO_INTEL = "intel/none"
_MESSAGE = re.compile(
    r"^(?P<package>\S+) (?P<version>[^\s:]+): (?P<advisory>[^\s:(]+)"
    r"(?: \((?P<aliases>[^)]*)\))?: (?P<rest>.*)$",
    re.DOTALL,
)
_FIX = re.compile(r"; (?:fixed in (?P<fixed>\S+)|no fixed version published)$")


@dataclass(frozen=True)
class Parsed:
    package: str
    version: str
    advisory: str
    aliases: tuple[str, ...]
    summary: str
    fixed_in: str | None


def parse(message: str) -> Parsed | None:
    """The parts of a vulnerable-dependency message, or None when it is not one."""
    found = _MESSAGE.match(message)
    if found is None:
        return None
    rest = found["rest"]
    fix = _FIX.search(rest)
    summary = rest[: fix.start()] if fix else rest
    aliases = tuple(a.strip() for a in (found["aliases"] or "").split(",") if a.strip())
    return Parsed(
        found["package"], found["version"], found["advisory"], aliases, summary,
        fix["fixed"] if fix else None,
    )  # fmt: skip


def is_vulnerability(finding: Finding) -> bool:
    return finding.rule == RULE


def key_of(evidence: Evidence, finding: Finding) -> VulnKey | None:
    parsed = parse(finding.message) if is_vulnerability(finding) else None
    if parsed is None or evidence.asset is None:
        return None
    return VulnKey(evidence.system, evidence.asset, parsed.package, parsed.advisory)


def observations(evidence: Iterable[Evidence]) -> list[Observation]:
    """One observation per vulnerability, merged over the files that name its package."""
    merged: dict[VulnKey, list[tuple[Parsed, Finding]]] = {}
    for item in evidence:
        if item.check != CHECK:
            continue
        for finding in item.findings:
            key = key_of(item, finding)
            parsed = parse(finding.message) if key else None
            if key is not None and parsed is not None:
                merged.setdefault(key, []).append((parsed, finding))
    out = []
    for key, seen in sorted(merged.items()):
        fixes = sorted({p.fixed_in for p, _ in seen if p.fixed_in})
        out.append(
            Observation(
                key=key,
                severity=max(f.severity for _, f in seen),
                versions=tuple(sorted({p.version for p, _ in seen})),
                fixed_in=fixes[-1] if fixes else None,
                aliases=tuple(sorted({a for p, _ in seen for a in p.aliases})),
                summary=seen[0][0].summary,
                locations=tuple(sorted({f.location for _, f in seen})),
            )
        )
    return out


def scanned(evidence: Iterable[Evidence]) -> set[tuple[str, str]]:
    """The (system, asset) pairs whose repository a scan read to the end and whose evidence can
    be trusted to say a vulnerability is gone: a finished scan (pass or fail), produced here or
    pushed with a verified ledger proof, that had advisories to match against. A claimed push
    may report new vulnerabilities but never closes one, and neither does a scan without
    advisories (`intel/none`): it did not look."""
    return {
        (item.system, item.asset)
        for item in evidence
        if item.check == CHECK
        and item.asset is not None
        and item.result in ("pass", "fail")
        and item.provenance.kind != "claimed"
        and not any(f.rule == NO_INTEL for f in item.findings)
    }
