"""Export a framework as an OSCAL catalog, built and re-read with compliance-trestle's models.

OSCAL ids are tokens (no colons), so `iso27002:2022:8.24` becomes `iso27002_2022_8.24`; the
original Custos id is kept in a `custos-id` property so a round trip loses nothing. Group nodes
become OSCAL groups, controls become controls (sub-controls where a control's parent is another
control of the same framework, e.g. ATLAS sub-techniques).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path
from typing import Any

from trestle.oscal import OSCAL_VERSION, common
from trestle.oscal import catalog as oscal

from custos import __version__
from custos.catalog.catalog import Catalog
from custos.catalog.model import Control, Framework
from custos.errors import CustosError, DataError

NS = "https://custos.dev/ns/oscal"
_UUID_NS = uuid.UUID("6f0b1c9e-4a55-4c1b-9a7e-3c6d2f1e8a10")
_TOKEN_BAD = re.compile(r"[^A-Za-z0-9._-]")


def oscal_id(control_id: str) -> str:
    """A Custos control id as an OSCAL token (letters, digits, `.`, `-`, `_`)."""
    token = _TOKEN_BAD.sub("_", control_id.replace(":", "_"))
    return token if token[:1].isalpha() or token[:1] == "_" else f"_{token}"


def _prop(name: str, value: str) -> common.Property:
    return common.Property(name=name, value=" ".join(value.split()), ns=NS)


def _part(owner: str, name: str, prose: str) -> common.Part:
    return common.Part(id=f"{owner}_{name}", name=name, prose=prose.strip())


def _control_props(control: Control) -> list[common.Property]:
    props = [_prop("custos-id", control.id), _prop("label", control.ref)]
    props.append(_prop("kind", control.kind))
    if control.parent:
        props.append(_prop("parent-control", control.parent))
    for key, values in sorted(control.attributes.items()):
        props.extend(_prop(_prop_name(key), value) for value in values)
    for counter in control.counters:
        props.append(_prop("counters", counter))
    if control.verification is not None:
        props.extend(_prop("verified-by-check", check) for check in control.verification.checks)
    for tier, need in sorted(control.applicability.items()):
        props.append(_prop(f"applicability-{tier}", need))
    return props


def _prop_name(key: str) -> str:
    name = _TOKEN_BAD.sub("-", key)
    return name if name[:1].isalpha() else f"x-{name}"


def _control_parts(control: Control) -> list[common.Part]:
    owner = oscal_id(control.id)
    parts = []
    if control.statement:
        parts.append(_part(owner, "statement", control.statement))
    if control.guidance:
        parts.append(_part(owner, "guidance", control.guidance))
    if control.rationale:
        parts.append(_part(owner, "rationale", control.rationale))
    verification = control.verification
    if verification is not None and verification.attestation is not None:
        examples = "; ".join(verification.attestation.evidence_examples)
        prose = f"{verification.attestation.prompt} Acceptable evidence: {examples}."
        parts.append(_part(owner, "attestation", prose))
    return parts


def build_oscal_catalog(catalog: Catalog, framework_id: str) -> oscal.Catalog:
    """The framework as a trestle `Catalog` model (validated on construction)."""
    framework = catalog.framework(framework_id)
    nodes = [catalog.controls[c] for c in framework.control_ids]
    in_framework = {c.id for c in nodes}
    children: dict[str | None, list[Control]] = {}
    for node in nodes:
        parent = node.parent if node.parent in in_framework else None
        children.setdefault(parent, []).append(node)

    def make_control(node: Control) -> oscal.Control:
        subs = [make_control(c) for c in children.get(node.id, []) if not c.group]
        return oscal.Control(
            id=oscal_id(node.id),
            class_=node.kind,
            title=node.title,
            props=_control_props(node),
            parts=_control_parts(node) or None,
            controls=subs or None,
        )

    def make_group(node: Control) -> Any:
        kids = children.get(node.id, [])
        groups = [make_group(c) for c in kids if c.group]
        controls = [make_control(c) for c in kids if not c.group]
        props = [_prop("custos-id", node.id), _prop("label", node.ref)]
        parts = [_part(oscal_id(node.id), "overview", node.guidance)] if node.guidance else None
        common_args: dict[str, Any] = {
            "id": oscal_id(node.id),
            "class_": node.kind,
            "title": node.title,
            "props": props,
            "parts": parts,
        }
        if groups and controls:
            # trestle's Group is either groups-of-groups or groups-of-controls: hold the
            # controls in a subgroup of their own rather than dropping them.
            groups.append(
                oscal.Group2(
                    id=f"{oscal_id(node.id)}_controls",
                    title=f"{node.title}: controls",
                    controls=controls,
                )
            )
            return oscal.Group1(**common_args, groups=groups)
        if groups:
            return oscal.Group1(**common_args, groups=groups)
        return oscal.Group2(**common_args, controls=controls or None)

    top = children.get(None, [])
    groups = [make_group(c) for c in top if c.group]
    controls = [make_control(c) for c in top if not c.group]
    return oscal.Catalog(
        uuid=str(uuid.uuid5(_UUID_NS, f"{framework.id}@{framework.version}")),
        metadata=_metadata(framework),
        groups=groups or None,
        controls=controls or None,
    )


def _metadata(framework: Framework) -> common.Metadata:
    remarks = [f"Licence: {framework.licence}", f"Attribution: {framework.attribution}"]
    if framework.notice:
        remarks.append(f"Notice: {framework.notice}")
    remarks.append(f"Exported by Custos {__version__} from framework {framework.id}.")
    return common.Metadata(
        title=framework.name,
        last_modified=dt.datetime.now(dt.UTC).replace(microsecond=0),
        version=framework.version,
        oscal_version=OSCAL_VERSION,
        props=[
            _prop("custos-framework", framework.id),
            _prop("publisher", framework.publisher),
        ],
        links=[common.Link(href=framework.source_url, rel="reference")],
        remarks="\n\n".join(remarks),
    )


def export_oscal(catalog: Catalog, framework_id: str, out: Path) -> oscal.Catalog:
    """Write the framework as OSCAL JSON to `out`, then re-read it with trestle to prove it."""
    model = build_oscal_catalog(catalog, framework_id)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        model.oscal_write(out)
    except OSError as exc:
        raise CustosError(f"{out}: cannot write: {exc.strerror}") from exc
    return read_oscal_catalog(out)


def read_oscal_catalog(path: Path) -> oscal.Catalog:
    """Read and validate an OSCAL catalog file with trestle."""
    try:
        model = oscal.Catalog.oscal_read(path)
    except Exception as exc:  # trestle raises its own and pydantic errors; name the file
        raise DataError(path, f"not a valid OSCAL catalog: {exc}".splitlines()[0]) from exc
    if model is None:
        raise DataError(path, "not a valid OSCAL catalog: empty or unreadable")
    return model
