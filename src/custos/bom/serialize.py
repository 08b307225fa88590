"""A built BOM as CycloneDX 1.6 JSON text, and its validation against the library's schema.

The library's JSON 1.6 outputter writes everything it models; the fields it does not model yet
(`modelCard` on machine-learning-model components, `data` on data components) are then merged
into the component with the matching bom-ref. The text is deterministic: keys sorted, two-space
indents, the library's sorted component order, and a serial number derived from the content.

Serial number: `urn:uuid:` + UUIDv5 (a fixed Custos namespace) of the described component's
bom-ref and the SHA-256 of the canonical document without its serial number and timestamp. The
same project content therefore always gets the same serial number and a change of any byte
gets another; the CycloneDX spec asks for a fresh serial per generated BOM ("SHOULD"), and
Custos chooses reproducibility instead: two runs on the same artifacts give the same document
except for `metadata.timestamp` (which comes from the caller's `now`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from custos.bom.build import BuiltBom

# Custos' namespace for BOM serial numbers (uuid4 drawn once; never change it).
SERIAL_NAMESPACE = uuid.UUID("8c1f2b8e-64a4-4f0b-9a57-0d6f3c5e2a91")


def to_json(built: BuiltBom) -> str:
    """The BOM as CycloneDX 1.6 JSON text (ends with a newline)."""
    from cyclonedx.output.json import JsonV1Dot6

    doc: dict[str, Any] = json.loads(JsonV1Dot6(built.bom).output_as_string())
    _merge(doc, built.extras)
    doc["serialNumber"] = serial_number(doc)
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def serial_number(doc: Mapping[str, Any]) -> str:
    """`urn:uuid:<UUIDv5>` of the subject's bom-ref and the content (see the module doc)."""
    content = {key: value for key, value in doc.items() if key != "serialNumber"}
    metadata = {k: v for k, v in dict(content.get("metadata") or {}).items() if k != "timestamp"}
    content["metadata"] = metadata
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    subject = dict(metadata.get("component") or {}).get("bom-ref", "")
    return f"urn:uuid:{uuid.uuid5(SERIAL_NAMESPACE, f'{subject}:{digest}')}"


def schema_error(text: str) -> str | None:
    """The first way `text` breaks the CycloneDX 1.6 JSON schema bundled with
    cyclonedx-python-lib (strict: no unknown properties), or None when it is valid. Raises the
    library's MissingOptionalDependencyException without its `json-validation` extra."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    return None if error is None else str(error)


def _merge(doc: dict[str, Any], extras: Mapping[str, Mapping[str, Any]]) -> None:
    pending = dict(extras)
    for component in _components(doc):
        ref = component.get("bom-ref")
        if isinstance(ref, str) and ref in pending:
            component.update(pending.pop(ref))
    if pending:  # a builder bug: the fields would silently vanish
        raise ValueError(f"no component with bom-ref {sorted(pending)[0]!r} for its extra fields")


def _components(doc: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every component: the described one, the listed ones and those nested in them."""
    stack: list[Any] = [dict(doc.get("metadata") or {}).get("component")]
    stack += list(doc.get("components") or ())
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.get("components") or ())
