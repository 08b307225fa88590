"""endpoint: probes each endpoint asset's URL (custos.endpoint, as `custos probe` does): TLS,
authentication, rate limiting (only when the asset says `owned: true`, or on loopback),
leakage, headers and CORS. The key comes from the environment variable the asset's `auth:`
names and is never stored. An endpoint that cannot be probed is `error`, never a pass."""

from __future__ import annotations

import datetime as dt
import os

from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Examined, Outcome, Severity
from custos.endpoint.rules import CONTROLS
from custos.inventory.locations import is_url
from custos.inventory.schema import is_retired

TIMEOUT = 5.0


class Endpoint(Check):
    name = "endpoint"
    version = 1
    title = "Inference endpoints: TLS, authentication, rate limits, leakage"
    kinds = frozenset({"endpoint"})
    evidences = CONTROLS
    validity = dt.timedelta(days=30)

    def run(self, target: Target, context: CheckContext) -> Outcome:
        asset = target.asset
        assert asset is not None
        if is_retired(target.system, asset):
            return Outcome("not_applicable", "retired endpoint: not probed")
        url = asset.url or (asset.location if is_url(asset.location) else None)
        if url is None:
            return Outcome("error", "no URL to probe: give the asset a url (or a URL location)")
        from custos.endpoint.probe import Settings, Unreachable  # httpx: only when probing
        from custos.endpoint.scan import probe_endpoint

        key = None
        if asset.auth is not None:
            key = os.environ.get(asset.auth) or None
        try:
            report = probe_endpoint(Settings(url, key, owned=asset.owned, timeout=TIMEOUT),
                                    context.now)  # fmt: skip
        except Unreachable as exc:
            return Outcome("error", str(exc), examined=(Examined(url),))
        findings = tuple(f.finding for f in report.findings)
        examined = (Examined(report.url),)
        blocking = [f for f in findings if f.severity >= Severity.medium]
        counts = f"{len(findings)} finding(s), {len(blocking)} at medium or above"
        ran = ", ".join(report.recording.checks_run)
        if asset.auth is not None and key is None:
            return Outcome("error", f"${asset.auth} is not set: the probes that need the key did "
                                    f"not run ({ran} ran; {counts})", findings,
                           examined)  # fmt: skip
        if any(f.rule == "endpoint/key-refused" for f in findings):
            return Outcome("error", f"the key in ${asset.auth} was refused: the probes that need "
                                    f"it did not run ({counts})", findings,
                           examined)  # fmt: skip
        return Outcome("fail" if blocking else "pass", f"{ran}: {counts}", findings, examined)
