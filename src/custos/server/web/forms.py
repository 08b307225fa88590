"""What the editing pages share: turning form fields into the data a schema model validates,
a pydantic error into the one line a page shows (naming the field, so the form can mark it),
and the fixed notices shown after a form was saved (post/redirect/get)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from custos.server.errors import ApiError, Unprocessable

M = TypeVar("M", bound=BaseModel)

# Form fields are bounded before anything reads them: a form is no place for megabytes.
Short = Annotated[str, Field(max_length=200)]
Long = Annotated[str, Field(max_length=10_000)]

_SEPARATORS = re.compile(r"[\s,;]+")
_ITEM_PREFIX = re.compile(r"^(?:risks|attestations|exclusions)\[\d+\]\.?")
_FIELD = re.compile(r"^([a-z_]+)(?=[\[.:])")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")


def ids(text: str) -> list[str]:
    """Ids typed one per line or separated by commas (what people paste from a spreadsheet)."""
    return [part for part in _SEPARATORS.split(text) if part]


def given(values: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that were filled in: an empty field is a missing one, so the model says
    "field required" or applies its default rather than failing on an empty string."""
    return {k: v for k, v in values.items() if v not in ("", None)}


def _where(loc: Iterable[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _message(error: Mapping[str, Any]) -> str:
    if error.get("type") == "string_pattern_mismatch":
        return f"{error.get('input')!r} is not a valid id"
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


def problem(exc: ValidationError) -> str:
    """The first error in one line, led by the field it is about."""
    errors = exc.errors()
    if not errors:
        return "invalid form"
    first = errors[0]
    where = _where(first.get("loc", ()))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {_message(first)}{more}" if where else f"{_message(first)}{more}"


def validated(model: type[M], data: Mapping[str, Any]) -> M:
    """The model, or Unprocessable with the one-line problem: the same rules as custos.yaml
    and the API, since the form goes through the same schema model."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise Unprocessable(problem(exc)) from None


@dataclass(frozen=True)
class Refusal:
    """Why a form was not saved: the status to answer, the message, and the field named."""

    status: int
    message: str
    field: str

    @classmethod
    def of(cls, exc: ApiError) -> Refusal:
        # The inventory checks the whole manifest, so its messages start with the item's place
        # in it ("risks[3].assets[0]: ..."); on the item's own form only the field matters.
        message = _ITEM_PREFIX.sub("", exc.message)
        found = _FIELD.match(message)
        return cls(exc.status, message, found.group(1) if found else "")


NOTICES = {
    "risk-added": "Risk {item} was added to the register.",
    "risk-saved": "Risk {item} was saved.",
    "risk-deleted": "Risk {item} was deleted.",
    "attestation-added": "Attestation {item} was recorded.",
    "file-attached": "The file was attached to attestation {item}; its SHA-256 is pinned.",
    "excluded": "The control was marked not applicable.",
    "applicable": "The control applies again.",
    "vuln-accepted": "Vulnerability {item} is accepted until the date given (a ledger entry).",
    "vuln-reopened": "The acceptance of vulnerability {item} was withdrawn: it is open again.",
}


def notice(done: str | None, item: str | None) -> str | None:
    """The fixed notice for `?done=`: never text from the URL, beyond an id-shaped item, so a
    crafted link cannot make the page say something else."""
    template = NOTICES.get(done or "")
    if template is None:
        return None
    name = item if item and _SLUG.match(item) else ""
    return template.format(item=name).replace("  ", " ")
