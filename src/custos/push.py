"""`custos scan|assess --push URL`: send what the CLI found to a Custos server, authenticated
with an API token from `CUSTOS_TOKEN` (a scoped machine credential; see docs/server.md).

The payload is the manifest as JSON and, for a scan, its evidence in the `custos scan
--format json` shape with each record's entry in the local ledger, an inclusion proof and a
signed checkpoint (docs/server.md, "What a push proves"); the server keeps them and assesses
again itself.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from custos.checks.model import Evidence
from custos.errors import CustosError, UserError
from custos.reports.json_schema import evidence_to_dict
from custos.vulns.model import Record
from custos.workspace import Workspace, attestation_files

TOKEN_ENV = "CUSTOS_TOKEN"  # noqa: S105  (the variable's name, not a secret)
TIMEOUT_ENV = "CUSTOS_PUSH_TIMEOUT"
TIMEOUT = 120.0  # seconds; a large estate's evidence is megabytes, and the server re-assesses


def _timeout() -> float:
    """Seconds a push may take (`CUSTOS_PUSH_TIMEOUT`, default 120): one push of a whole
    estate of a thousand systems is stored, verified and re-assessed in about two minutes."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise UserError(f"${TIMEOUT_ENV}: {raw!r} is not a number of seconds") from None
    if value <= 0:
        raise UserError(f"${TIMEOUT_ENV}: must be more than 0 seconds")
    return value


def _base(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UserError(f"--push {url!r}: give the server's URL, e.g. https://custos.example.org")
    return url.rstrip("/")


def manifest_payload(ws: Workspace) -> dict[str, Any]:
    return {
        "manifest": ws.loaded.manifest.model_dump(mode="json", exclude_none=True),
        "manifest_sha256": ws.manifest_sha256,
        "attestation_files": attestation_files(ws),
    }


def scan_payload(
    ws: Workspace,
    evidence: Sequence[Evidence],
    started: dt.datetime,
    finished: dt.datetime,
    entries: Sequence[int] = (),
) -> dict[str, Any]:
    """The scan for the server. With `entries` (the ledger index of each record's entry), each
    record carries its entry bytes and inclusion proof, and the payload one signed checkpoint
    of the local ledger covering them: the server can then verify the results against the
    ledger key registered for their systems instead of taking them as claimed."""
    records = [evidence_to_dict(e) for e in evidence]
    payload: dict[str, Any] = {
        **manifest_payload(ws),
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "evidence": records,
    }
    if entries and records:
        if len(entries) != len(records):
            raise CustosError("each pushed evidence record needs its ledger entry")
        proofs = ws.store.ledger_proofs(entries)
        for record, (index, data, path) in zip(records, proofs.entries, strict=True):
            record["ledger"] = {
                "entry": base64.b64encode(data).decode("ascii"),
                "index": index,
                "proof": [h.hex() for h in path],
            }
        payload["checkpoint"] = proofs.checkpoint
    return payload


def send(url: str, route: str, payload: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    """POST the payload; the server's answer. UserError (exit 2) when the server refuses it,
    CustosError (exit 3) when it cannot be reached or fails."""
    import httpx  # only pushes pay for the import

    secret = token or os.environ.get(TOKEN_ENV, "").strip()
    if not secret:
        raise UserError(f"--push needs an API token in ${TOKEN_ENV} (create one in the web UI)")
    target = f"{_base(url)}/api/v1/push/{route}"
    try:
        response = httpx.post(
            target, json=payload, headers={"Authorization": f"Bearer {secret}"}, timeout=_timeout()
        )
    except httpx.HTTPError as exc:
        raise CustosError(f"cannot push to {_base(url)}: {type(exc).__name__}: {exc}") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    message = body.get("error") if isinstance(body, dict) else None
    if 400 <= response.status_code < 500:
        lines = [f"{_base(url)} refused the push ({response.status_code}): {message}"]
        lines += refused_lines(body.get("refused") if isinstance(body, dict) else None)
        raise UserError("\n".join(lines))
    if response.status_code >= 300 or not isinstance(body, dict):
        raise CustosError(f"{_base(url)} failed the push ({response.status_code}): {message}")
    return body


def refused_lines(refused: object) -> list[str]:
    """One line per item the server would not let this push change (its `refused` list)."""
    if not isinstance(refused, list):
        return []
    return [
        f"refused: {r.get('action', 'change')} {r.get('kind')} {r.get('id')!r}: "
        f"needs {r.get('needs')}"
        for r in refused
        if isinstance(r, dict)
    ]


def server_acceptances(url: str, systems: Sequence[str], token: str | None = None) -> list[Record]:
    """The vulnerabilities the server holds as accepted for these systems (each system's
    `GET /api/v1/systems/{id}/vulnerabilities?state=accepted`), so a CI job that starts from an
    empty database gates on the decisions taken on the server. CustosError when the server
    cannot be asked; systems the token may not read are skipped."""
    import httpx

    secret = token or os.environ.get(TOKEN_ENV, "").strip()
    found: list[Record] = []
    with httpx.Client(headers={"Authorization": f"Bearer {secret}"}, timeout=_timeout()) as http:
        for system in systems:
            target = f"{_base(url)}/api/v1/systems/{quote(system, safe='')}/vulnerabilities"
            try:
                response = http.get(target, params={"state": "accepted"})
            except httpx.HTTPError as exc:
                raise CustosError(f"cannot ask {_base(url)}: {type(exc).__name__}: {exc}") from None
            if response.status_code in (403, 404):
                continue
            if response.status_code != 200:
                raise CustosError(f"{_base(url)} answered {response.status_code} for {target}")
            found.extend(_accepted(v) for v in response.json().get("vulnerabilities", []))
    return found


def _accepted(row: dict[str, Any]) -> Record:
    """A record carrying only what gating needs: the key and the acceptance."""
    from custos.findings import Severity
    from custos.vulns.model import Acceptance, VulnKey

    a = row["accepted"]
    at = dt.datetime.fromisoformat(row["opened_at"])
    return Record(
        key=VulnKey(row["system"], row["asset"], row["package"], row["advisory"]),
        status="accepted", severity=Severity[row["severity"]], versions=tuple(row["versions"]),
        fixed_in=row["fixed_in"], aliases=tuple(row["aliases"]), summary=row["summary"],
        locations=tuple(row["locations"]), first_seen=at, opened_at=at, last_seen=at,
        acceptance=Acceptance(a["by"], dt.datetime.fromisoformat(a["at"]),
                              dt.date.fromisoformat(a["until"]), a["reason"]),
    )  # fmt: skip
