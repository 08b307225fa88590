"""Which evidence still counts: unexpired, and taken on the bytes the artifact has today."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from custos.assess.model import Reason
from custos.assess.trust import distrust
from custos.checks.model import Evidence


@dataclass(frozen=True)
class Judged:
    evidence: Evidence
    valid: bool
    why_not: str | None = None
    # How the record reads among a status's reasons. Built once, with the record, and shared:
    # one record speaks for every control its check evidences.
    reason: Reason = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", Reason("evidence", self._reason_text(), self.ref))

    @property
    def ref(self) -> str:
        e = self.evidence
        return f"{e.check}@{e.system}/{e.asset}" if e.asset else f"{e.check}@{e.system}"

    def _reason_text(self) -> str:
        e = self.evidence
        target = f"{e.system}/{e.asset}" if e.asset else e.system
        if not self.valid:
            return (
                f"{e.check} v{e.check_version} on {target}: {e.result}, not counted "
                f"({self.why_not})"
            )
        if e.result == "error":
            return f"{e.check} v{e.check_version} on {target}: error, not counted ({e.summary})"
        text = f"{e.check} v{e.check_version} on {target}: {e.result} ({e.summary})"
        if e.provenance.kind == "claimed":  # counted (a failure) but unverified: say so
            text += f" [claimed: {e.provenance.reason}]"
        return text


def judge_evidence(
    evidence: Evidence, now: dt.datetime, current_hashes: Mapping[str, str | None]
) -> Judged:
    """Valid while unexpired, while every examined artifact still has the hash it had, and
    unless its provenance bars it (a claimed pass: see custos.assess.trust)."""
    distrusted = distrust(evidence)
    if distrusted is not None:
        return Judged(evidence, False, distrusted)
    if not evidence.valid_at(now):
        return Judged(evidence, False, f"expired on {evidence.expires_at:%Y-%m-%d}")
    for item in evidence.examined:
        if item.sha256 is None or item.location not in current_hashes:
            continue
        current = current_hashes[item.location]
        if current is None:
            return Judged(evidence, False, f"{item.location} no longer exists")
        if current != item.sha256:
            return Judged(
                evidence,
                False,
                f"{item.location} changed since it was checked "
                f"({item.sha256[:12]} -> {current[:12]})",
            )
    return Judged(evidence, True)


def latest(evidence: Iterable[Evidence]) -> list[Evidence]:
    """Newest evidence per (check, system, asset). A distrusted claim (custos.assess.trust)
    supersedes nothing: it is kept beside the newest trusted record when it is newer, so a
    claimed pass can neither count nor hide an earlier failure and its findings."""
    newest: dict[tuple[str, str, str | None], Evidence] = {}
    claims: dict[tuple[str, str, str | None], Evidence] = {}
    for item in evidence:
        kept = claims if distrust(item) is not None else newest
        known = kept.get(item.key)
        if known is None or item.collected_at >= known.collected_at:
            kept[item.key] = item
    found = list(newest.values())
    for key, claim in claims.items():
        trusted = newest.get(key)
        if trusted is None or claim.collected_at > trusted.collected_at:
            found.append(claim)
    return sorted(found, key=lambda e: (e.system, e.check, e.asset or "", e.collected_at))


class EvidenceIndex:
    """Judged evidence by system and by the check or control it speaks for."""

    def __init__(
        self,
        evidence: Iterable[Evidence],
        now: dt.datetime,
        current_hashes: Mapping[str, str | None],
    ) -> None:
        self.judged = [judge_evidence(e, now, current_hashes) for e in latest(evidence)]
        self._by_system_check: dict[tuple[str, str], list[Judged]] = defaultdict(list)
        self._by_system_control: dict[tuple[str, str], list[Judged]] = defaultdict(list)
        # system -> checks that ran on it, controls its evidence names (per system, so asking
        # about one system does not walk every system's keys)
        self._checks: dict[str, set[str]] = defaultdict(set)
        self._controls: dict[str, set[str]] = defaultdict(set)
        for item in self.judged:
            e = item.evidence
            self._by_system_check[(e.system, e.check)].append(item)
            self._checks[e.system].add(e.check)
            for control in e.controls:
                self._by_system_control[(e.system, control)].append(item)
                self._controls[e.system].add(control)

    def for_control(self, system: str, control: str, checks: Iterable[str]) -> list[Judged]:
        """Evidence of this system from the named checks or naming the control itself."""
        seen: dict[int, Judged] = {}
        for check in checks:
            for item in self._by_system_check.get((system, check), []):
                seen[id(item)] = item
        for item in self._by_system_control.get((system, control), []):
            seen[id(item)] = item
        return list(seen.values())

    def checks_run(self, system: str) -> set[str]:
        return set(self._checks.get(system, ()))

    def controls_named(self, system: str) -> set[str]:
        """The controls this system's evidence names itself (`Evidence.controls`)."""
        return set(self._controls.get(system, ()))
