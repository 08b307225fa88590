"""The server's side of the ledger witness: which key the server verifies with, and the witness
file it appends every checkpoint it signs to (settings `ledger_witness`)."""

from __future__ import annotations

import functools

from custos.errors import UserError
from custos.ledger.checkpoint import verifier_of
from custos.server.settings import Settings
from custos.store.ledger import LedgerInfo
from custos.store.ledger_key import load_signer
from custos.store.ledger_witness import Witness
from custos.store.store import Store


def start_witness(settings: Settings, store: Store) -> Witness | None:
    """The witness, caught up with what the database holds now and then after every commit
    that signs a checkpoint; None when no witness directory is set."""
    if settings.ledger_witness is None:
        return None
    signer = load_signer(settings.project_dir, create=True)
    witness = Witness(settings.ledger_witness, verifier_of(signer))
    witness.catch_up(store)
    store.after_ledger_commit = functools.partial(witness.catch_up, store)
    return witness


def server_verifier(settings: Settings, witness: Witness | None, info: LedgerInfo) -> str:
    """The key this server signs with, from its key file or environment: never the copy in the
    database, which whoever can write there can swap along with re-signed checkpoints."""
    if witness is not None:
        return witness.verifier
    try:
        return verifier_of(load_signer(settings.project_dir, create=False))
    except UserError:
        return info.verifier_key  # this server holds no key: it has signed nothing
