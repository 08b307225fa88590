"""The registry of checks, and the runner that turns a check run into evidence.

The built-in checks are the classes `custos.checks._all.BUILTIN` lists explicitly (no directory
scanning, and check modules never import this one), so adding a check is one module plus a
line there plus its tests. `register` adds another (a plug-in, a test's synthetic check); two
checks with one name are a programming error.

The runner isolates checks from each other: an exception in one check becomes `error` evidence
with the exception named, never a pass, and the scan goes on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from custos._text import storable
from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Evidence, Examined, Finding, Outcome, Severity
from custos.inventory.locations import expand, is_url
from custos.inventory.schema import is_retired

_REGISTRY: dict[str, Check] = {}

C = TypeVar("C", bound=type[Check])


def register(cls: C) -> C:
    """Class decorator: add one instance of the check to the registry."""
    name = cls.name
    if name in _REGISTRY:
        raise RuntimeError(f"check {name!r} is registered twice")
    _REGISTRY[name] = cls()
    return cls


def all_checks() -> list[Check]:
    """Every check, built-in and registered, sorted by name."""
    _load_builtin()
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


@functools.cache  # once per process
def _load_builtin() -> None:
    from custos.checks._all import BUILTIN  # here: most commands never run a check

    for cls in BUILTIN:
        register(cls)


def get_check(name: str) -> Check | None:
    return {c.name: c for c in all_checks()}.get(name)


def targets(context: CheckContext) -> Iterator[Target]:
    for system in context.manifest.systems:
        yield Target(system)
        for asset in system.assets:
            yield Target(system, asset)


def _deleted(check: Check, target: Target, context: CheckContext) -> Outcome | None:
    """A retired asset whose files are gone has nothing left for the checks that read its
    bytes: they are not applicable, not in error. Whether it was deleted properly is the
    `retention` check's question (`follows_deletion`)."""
    asset = target.asset
    if asset is None or check.follows_deletion or not is_retired(target.system, asset):
        return None
    if is_url(asset.location) or expand(context.base_dir, asset.location):
        return None
    return Outcome("not_applicable", "retired and deleted: nothing left to examine")


def run_check(check: Check, target: Target, context: CheckContext) -> Evidence:
    """Run one check on one target; any exception becomes `error` evidence."""
    try:
        outcome = _deleted(check, target, context) or check.run(target, context)
    except Exception as exc:  # isolation: one broken check must not stop or pass a scan
        outcome = Outcome(
            result="error",
            summary=f"check failed: {type(exc).__name__}: {exc}",
            findings=(
                Finding(
                    rule=f"{check.name}/error",
                    severity=Severity.high,
                    message=f"{check.name} could not complete: {type(exc).__name__}: {exc}",
                    location=target.asset.location if target.asset else target.system.id,
                    controls=check.evidences,
                ),
            ),
        )
    return Evidence(
        check=check.name,
        check_version=check.version,
        system=target.system.id,
        asset=target.asset.id if target.asset else None,
        result=outcome.result,
        summary=storable(outcome.summary),
        controls=check.evidences,
        collected_at=context.now,
        expires_at=context.now + check.validity,
        findings=tuple(
            Finding(
                f.rule,
                f.severity,
                storable(f.message),
                storable(f.location),
                f.controls or check.evidences,
            )
            for f in outcome.findings
        ),
        # What a check quotes from the artifacts (names, globals) must not stop the scan from
        # being stored or printed: see custos._text.
        examined=tuple(Examined(storable(x.location), x.sha256, x.size) for x in outcome.examined),
    )


def run_all(
    context: CheckContext,
    checks: Iterable[Check] | None = None,
    progress: Callable[[Check, Target], None] | None = None,
) -> list[Evidence]:
    """Run every applicable check on every target of the manifest."""
    chosen = list(checks) if checks is not None else all_checks()
    evidence: list[Evidence] = []
    for target in targets(context):
        for check in chosen:
            if check.applies_to(target):
                if progress is not None:
                    progress(check, target)
                evidence.append(run_check(check, target, context))
    return evidence
