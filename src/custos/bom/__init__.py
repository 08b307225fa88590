"""AI bill of materials (`custos bom`): the manifest's AI systems as a CycloneDX 1.6 BOM.

Layout:

- `card`: a model card's Markdown (found the way the model-card check finds it) read into the
  facts a CycloneDX `modelCard` holds (use cases, limitations, ethical considerations,
  evaluation metrics, the datasets its training-data section names). Pure: text in, JSON out.
- `build`: manifest + project directory -> a `cyclonedx.model.bom.Bom` and the JSON fields the
  library does not model yet (`modelCard` on models, `data` on datasets), keyed by bom-ref.
  Reads the artifacts (SHA-256, format by content, signatures verified offline, lockfiles) but
  writes nothing.
- `serialize`: the Bom through the library's JSON 1.6 outputter, the extra fields merged in by
  bom-ref, a serial number derived from the content; and validation against the library's
  bundled CycloneDX 1.6 schema.

cyclonedx-python-lib is an optional dependency (`pip install 'custos[bom]'`); only these modules
import it, and only `custos bom` imports them.
"""
