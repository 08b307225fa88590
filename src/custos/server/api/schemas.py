"""Request and response bodies of the API (pydantic, at the edge only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from custos.server.rbac import Role


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BindingBody(Strict):
    role: Role
    system: str | None = Field(default=None, min_length=1, max_length=200)


class Me(BaseModel):
    username: str
    via: str
    bindings: list[BindingBody]
    csrf_token: str | None = Field(
        default=None, description="Send as X-CSRF-Token on state-changing cookie requests."
    )


class Run(BaseModel):
    id: int
    kind: str
    started_at: dt.datetime
    finished_at: dt.datetime
    manifest_path: str
    manifest_sha256: str
    custos_version: str
    status: str
    evidence_count: int
    overall_score: float | None


class Systems(BaseModel):
    generated_at: str | None = Field(description="When the assessment they come from ran.")
    systems: list[dict[str, Any]]


class Checkpoint(BaseModel):
    origin: str
    verifier_key: str
    size: int
    checkpoint: str | None


class NewUser(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    bindings: list[BindingBody] = Field(default_factory=list, max_length=100)


class NewBindings(Strict):
    bindings: list[BindingBody] = Field(max_length=100)


class User(BaseModel):
    id: int
    username: str
    active: bool
    created_at: dt.datetime
    bindings: list[BindingBody]
    two_factor: bool = Field(default=False, description="TOTP sign-in is on.")


class NewToken(Strict):
    name: str = Field(min_length=1, max_length=200)
    role: Role
    systems: list[str] = Field(default_factory=list, max_length=100)
    expires_in_days: int = Field(default=90, ge=1)


class Token(BaseModel):
    id: int
    name: str
    hint: str
    role: str
    systems: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class CreatedToken(Token):
    token: str = Field(description="The secret: shown this once, never again.")
