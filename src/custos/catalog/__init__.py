"""The control catalog: frameworks, controls, AI requirements and the mappings between them.

`load_catalog()` reads the frameworks shipped with Custos plus the user's own (imported with
`custos catalog import`); `crosswalk()` follows mappings between frameworks.
"""

from custos.catalog.catalog import Catalog
from custos.catalog.crosswalk import Hit, crosswalk
from custos.catalog.loader import load_catalog
from custos.catalog.model import Control, Framework, Mapping

__all__ = ["Catalog", "Control", "Framework", "Hit", "Mapping", "crosswalk", "load_catalog"]
