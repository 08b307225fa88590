"""The evidence ledger over HTTP: the latest signed checkpoint, an inclusion proof per entry
(the same JSON as `custos ledger prove`), and the audit bundle for `custos ledger verify
--bundle` on an auditor's machine."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response, StreamingResponse

from custos.errors import UserError
from custos.server.api import schemas
from custos.server.context import context
from custos.server.errors import NotFound
from custos.server.guards import requires
from custos.server.rbac import Permission
from custos.store.ledger import proof_document

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])


@router.get(
    "/checkpoint",
    response_model=schemas.Checkpoint,
    dependencies=[requires(Permission.ledger_read)],
)
def checkpoint(request: Request) -> schemas.Checkpoint:
    info = context(request).store.ledger_info()
    if info is None:
        raise NotFound("the ledger is empty")
    return schemas.Checkpoint(**asdict(info))


@router.get(
    "/proofs/{index}",
    response_model=dict[str, Any],
    dependencies=[requires(Permission.ledger_read)],
)
def proof(request: Request, index: int = Path(ge=0, le=2**62)) -> dict[str, Any]:
    """Inclusion proof of entry `index` in the latest signed checkpoint."""
    store = context(request).store
    try:
        found = store.ledger_prove(index)
    except UserError as exc:
        raise NotFound(str(exc).splitlines()[0]) from None
    data = store.ledger_entry(index)
    if data is None:
        raise NotFound(f"no ledger entry {index}")
    return proof_document(found, data)


@router.get(
    "/bundle",
    response_class=Response,
    dependencies=[requires(Permission.ledger_export)],
    responses={200: {"content": {"application/jsonl": {}}}},
)
def bundle(request: Request) -> Response:
    """Entries, checkpoints and the public key, as JSON Lines."""
    lines = context(request).store.ledger_export()
    try:
        first = next(lines)
    except UserError as exc:
        raise NotFound(str(exc).splitlines()[0]) from None

    def rest() -> Any:
        yield first
        yield from lines

    headers = {"Content-Disposition": 'attachment; filename="custos-ledger.bundle"'}
    return StreamingResponse(rest(), media_type="application/jsonl", headers=headers)
