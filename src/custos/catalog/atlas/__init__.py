"""Convert MITRE ATLAS's distributed data file into a Custos framework file.

`custos catalog import-atlas FILE` reads the YAML (the caller does the I/O) and hands the parsed
document to `atlas_framework`, which recognises two layouts:

**Layout v5** (legacy data formats 4.0.0 to 5.6.0; the deprecated `dist/ATLAS.yaml`, frozen at
5.6.0, and `dist/legacy/ATLAS-<semver>.yaml`)::

    id: ATLAS
    version: 5.6.0                       # the content release
    matrices:
    - id: ATLAS
      tactics: [{id: AML.TA0002, name, description, ATT&CK-reference: {id, url}}]
      techniques:
      - {id: AML.T0000, name, description, tactics: [AML.TA0002]}
      - {id: AML.T0000.000, name, description, subtechnique-of: AML.T0000}
      mitigations:                       # in the matrix (4.4+); a top-level list is read too
      - {id: AML.M0000, name, description, category: [...], ML-lifecycle: [...],
         techniques: [{id: AML.T0000, use: ...}]}
    case-studies: [...]

**Layout v6** (data format 6.0.0, `dist/v6/ATLAS-<YYYY.MM>.yaml`, from content release 2026.05
on; every older release is re-published in it too)::

    format-version: 6.0.0
    collection: {id: ATLAS-collection, version: "2026.06", ...}   # the content release
    matrix: {id: ATLAS-matrix, ...}
    tactics: {AML.TA0002: {id: AML.TA0002, name, description, attack-reference: {id, url}}}
    techniques: {AML.T0051: {id, name, description, maturity, platforms}, AML.T0051.001: ...}
    mitigations: {AML.M0000: {id, name, description, categories, lifecycle-phases}}
    case-studies: {...}
    relationships:                       # source id -> relationship type -> list
      ATLAS-matrix: {sequences: [{source, target: AML.TA0002, position: 1}]}
      AML.T0051.001:
        achieves: [{source: AML.T0051.001, target: AML.TA0005, relationship-type: achieves}]
        specializes: [{source: AML.T0051.001, target: AML.T0051, ...}]
      AML.M0000: {mitigates: [{source: AML.M0000, target: AML.T0000, description}]}

Both become one Custos framework (`mitre-atlas`, prefix `atlas`) with three group nodes
(`atlas:tactics`, `atlas:techniques`, `atlas:mitigations`) and one node per tactic, technique
and mitigation, id `atlas:<ATLAS id>`. A sub-technique's parent is its technique; a technique
records its tactics, and a mitigation the techniques it mitigates, as attributes. A
sub-technique without tactics of its own (v5 never gives it any) inherits its parent's. The
guidance of each node is the first paragraph of the ATLAS description. Case studies are not
imported. Anything the function cannot read with certainty is a `DataError` naming the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from custos.catalog.atlas._build import build, resolve
from custos.catalog.atlas._reader import Reader, kind
from custos.catalog.atlas._v5 import read_v5
from custos.catalog.atlas._v6 import read_v6
from custos.catalog.schema import FrameworkFile

__all__ = ["atlas_framework"]

_POINTER_RE = re.compile(r"^[\w./-]+\.ya?ml$")


def atlas_framework(data: object, source: Path) -> FrameworkFile:
    """Turn a parsed MITRE ATLAS data file (layout v5 or v6, see the module doc) into a framework.

    `data` is the YAML document as parsed by the caller; `source` is the file it came from, used
    in the description and in every error. Raises `DataError(source, ...)` when the document is
    not an ATLAS data file this importer understands.
    """
    reader = Reader(source)
    if isinstance(data, str) and _POINTER_RE.match(data.strip()):
        raise reader.fail(
            f"this is an ATLAS pointer file naming {data.strip()!r} (a symbolic link saved as "
            "text), not the data; import the dated file it names"
        )
    if not isinstance(data, Mapping):
        raise reader.fail(f"not an ATLAS data file: the top level is {kind(data)}, not a mapping")

    if "collection" in data:
        atlas = read_v6(data, reader)
    elif "matrices" in data:
        atlas = read_v5(data, reader)
    else:
        keys = ", ".join(sorted(str(k) for k in data)) or "none"
        raise reader.fail(
            "unrecognised ATLAS layout: expected a top-level 'matrices' list (data format 5 and "
            f"earlier) or a 'collection' (data format 6); top-level keys found: {keys}"
        )
    if not atlas.techniques:
        raise reader.fail(f"the ATLAS {atlas.layout} file holds no techniques")
    resolve(atlas, reader)
    return build(atlas, source, reader)
