"""A user policy file (`--policy FILE`): validated with pydantic, errors as `file:line`.

Separate from policy.py so that scanning with the built-in policy does not import pydantic.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator

from custos._validation import validate_model
from custos._yaml import read_yaml

_ENTRY = re.compile(
    r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
    r"(?::[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*|\.\*)?\Z"
)


class PolicyFile(BaseModel):
    """A user policy file: names to allow on top of the built-in list, and names to deny."""

    model_config = ConfigDict(extra="forbid")

    allow: list[str] = []
    deny: list[str] = []

    @field_validator("allow", "deny")
    @classmethod
    def _entries(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            if not _ENTRY.match(entry):
                raise ValueError(
                    f"{entry!r} is not a global name: use module.name, module:name or package.*"
                )
        return entries


def read_policy_file(path: Path) -> PolicyFile:
    """Parse and validate a policy file; raises custos.errors.DataError naming file and line."""
    doc = read_yaml(path)
    if doc.data is None:
        doc = type(doc)(doc.path, {}, doc.root)
    return validate_model(PolicyFile, doc)
