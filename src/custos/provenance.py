"""Where an evidence record comes from, and how far it can be trusted. Data only, no I/O.

- "local": produced by this installation's own `custos scan` (the CLI's database);
- "verified": pushed by CI with its entry in the pusher's ledger, an inclusion proof and a
  checkpoint signed by a ledger key registered on the server for the evidence's system;
- "claimed": pushed without such proof (or with one that does not check out). A claimed result
  is kept and shown, but a claimed pass never makes a control implemented.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

ProvenanceKind = Literal["local", "verified", "claimed"]
PROVENANCE_KINDS: tuple[ProvenanceKind, ...] = ("local", "verified", "claimed")
# Why a push is only claimed: it carried no ledger proof, no key is registered for the system,
# no unretired registered key signed the checkpoint, only a retired one did, the inclusion proof
# does not lead to the checkpoint's root, or the ledger entry says something else.
ClaimReason = Literal[
    "no-proof", "no-key", "bad-signature", "retired-key", "bad-proof", "payload-mismatch"
]


@dataclass(frozen=True)
class Provenance:
    kind: ProvenanceKind = "local"
    reason: ClaimReason | None = None  # claimed only
    message: str | None = None  # in words: what was verified, or why not
    key_id: int | None = None  # the server's id of the registered key that verified it
    key_name: str | None = None  # that key's note name and key id, "<name>+<hex id>"
    origin: str | None = None  # the pusher's ledger (checkpoint origin)
    size: int | None = None  # the checkpoint's tree size
    root: str | None = None  # the checkpoint's root hash, hex
    index: int | None = None  # the evidence's leaf index in the pusher's ledger
    pushed_by: str | None = None  # the server user whose token pushed it

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: `kind` always, the other fields when set."""
        return {k: v for k, v in asdict(self).items() if v is not None or k == "kind"}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Provenance:
        if not data:
            return LOCAL
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


LOCAL = Provenance()


def kind_of(value: str) -> ProvenanceKind:
    for kind in PROVENANCE_KINDS:
        if value == kind:
            return kind
    raise ValueError(f"provenance {value!r} is not one of {', '.join(PROVENANCE_KINDS)}")
