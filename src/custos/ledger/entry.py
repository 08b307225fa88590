"""A ledger entry: one recorded fact (evidence, attestation, SoA decision, event) as bytes.

The entry is data only. Its bytes are RFC 8785 JSON of a fixed envelope with a format version,
so the leaf hash an auditor recomputes depends on nothing but the entry: `DIGEST_NAME` names
every parameter that shapes it. The payload is stored as its canonical JSON round trip, so an
entry equals the entry parsed back from its bytes and later mutation of the caller's dict
cannot change what was recorded.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Final

from custos.errors import UserError
from custos.ledger.canonical import encode, parse_canonical
from custos.ledger.merkle import leaf_hash

FORMAT_VERSION: Final = 1
DIGEST_NAME: Final = "sha256/rfc6962-leaf/custos-entry-jcs-v1"
# evidence: a check's result; attestation: a person's statement; soa-decision: applicability
# and its reason; event: training, deployment or user actions around an AI system.
KINDS: Final = ("evidence", "attestation", "soa-decision", "event")
_ENVELOPE_KEYS: Final = {"v", "kind", "payload", "recorded_at", "actor"}

# RFC 3339 date-time restricted to UTC with "Z", so one instant has one spelling.
_RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z")


@dataclass(frozen=True)
class LedgerEntry:
    """One appended fact. `payload` is plain JSON data; treat it as read-only."""

    kind: str
    payload: dict[str, Any]
    recorded_at: str
    actor: str | None = None
    _bytes: bytes = field(default=b"", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UserError(f"ledger entry kind {self.kind!r} is not one of {', '.join(KINDS)}")
        _check_timestamp(self.recorded_at)
        if self.actor is not None and (not isinstance(self.actor, str) or not self.actor.strip()):
            raise UserError("ledger entry actor must be a non-empty string or absent")
        if not isinstance(self.payload, dict):
            raise UserError(
                f"ledger entry payload: must be a JSON object, got {type(self.payload).__name__}"
            )
        envelope = {
            "v": FORMAT_VERSION,
            "kind": self.kind,
            "payload": self.payload,
            "recorded_at": self.recorded_at,
            "actor": self.actor,
        }
        # Encoded once: the bytes are what is hashed, and the payload kept is their round trip.
        data, parsed = encode(envelope, what="ledger entry")
        object.__setattr__(self, "_bytes", data)
        object.__setattr__(self, "payload", parsed["payload"])

    def canonical_bytes(self) -> bytes:
        """The bytes that are hashed into the ledger (RFC 8785 JSON of the envelope)."""
        return self._bytes

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.canonical_bytes())

    @classmethod
    def from_canonical(cls, data: bytes) -> LedgerEntry:
        """Parse entry bytes (e.g. from an audit bundle); anything not written by us is refused."""
        value = parse_canonical(data, what="ledger entry")
        if not isinstance(value, dict) or set(value) != _ENVELOPE_KEYS:
            raise UserError(f"ledger entry must hold exactly the keys {sorted(_ENVELOPE_KEYS)}")
        if value["v"] != FORMAT_VERSION:
            raise UserError(f"ledger entry format version {value['v']!r} is not supported")
        if not isinstance(value["payload"], dict) or not isinstance(value["recorded_at"], str):
            raise UserError("ledger entry payload must be an object and recorded_at a string")
        return cls(value["kind"], value["payload"], value["recorded_at"], value["actor"])


def format_recorded_at(moment: dt.datetime) -> str:
    """An aware datetime as the entry timestamp form, e.g. 2026-01-02T03:04:05.000006Z."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise UserError("ledger timestamps need a timezone-aware datetime")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check_timestamp(value: object) -> None:
    if not isinstance(value, str) or not _RFC3339_UTC.fullmatch(value):
        raise UserError(
            f"ledger entry recorded_at {value!r} is not an RFC 3339 UTC time like "
            "2026-01-02T03:04:05Z"
        )
    try:
        dt.datetime.fromisoformat(value[:19])  # the regex fixed the form; is it a real date?
    except ValueError as exc:
        raise UserError(f"ledger entry recorded_at {value!r} is not a real date: {exc}") from exc
