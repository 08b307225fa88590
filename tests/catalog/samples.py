"""Small hand-written catalog files for tests (a user's own framework and mappings)."""

from __future__ import annotations

from pathlib import Path

MY_FRAMEWORK = """\
format: custos-framework/1
framework:
  id: acme-policies
  name: ACME AI policies
  version: "2026"
  prefix: "acme:pol"
  publisher: ACME
  source_url: https://intranet.example/policies
  licence: Internal
  attribution: ACME security team
controls:
  - id: "acme:pol:ai"
    ref: AI
    kind: chapter
    group: true
    title: AI policies
  - id: "acme:pol:ai-1"
    ref: AI-1
    kind: control
    parent: "acme:pol:ai"
    title: Model registry only
    guidance: Deploy models only from the approved registry, never from a laptop.
  - id: "acme:pol:ai-2"
    ref: AI-2
    kind: control
    parent: "acme:pol:ai"
    title: Signed models
    guidance: Every model promoted to production carries a verified signature.
"""

MY_MAPPINGS = """\
format: custos-mappings/1
id: acme-to-custos
description: ACME policies against Custos requirements
mappings:
  - source: "acme:pol:ai-2"
    target: "custos:ai:model-signing"
    relationship: equal
    rationale: Both demand a verified signature on every production model.
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path
