"""Person names in running text through a spaCy pipeline the user installed: the one adapter of
the data scanner that runs a model. Only when asked (`--ner MODEL` or $CUSTOS_NER_MODEL); the
model is never downloaded (offline runs must not reach out), so a name that is not installed is
a clear error with the command that installs it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from custos.datascan.recognizers import PersonFinder
from custos.errors import UserError

MODEL_ENV = "CUSTOS_NER_MODEL"
PERSON_LABELS = frozenset({"PERSON", "PER"})  # OntoNotes pipelines say PERSON, WikiNER ones PER
BATCH = 256


def spacy_names(model: str) -> tuple[PersonFinder, str]:
    """A finder of person names backed by the spaCy pipeline `model` (an installed package
    name or a directory), and how the output describes it."""
    try:
        import spacy
    except ImportError:
        raise UserError(
            f"--ner {model}: spaCy is not installed (pip install spacy, then install a pipeline, "
            "e.g. python -m spacy download en_core_web_sm)"
        ) from None
    try:
        nlp: Any = spacy.load(model, exclude=["parser", "lemmatizer", "textcat"])
    except OSError:
        raise UserError(
            f"--ner {model}: no such spaCy pipeline installed (python -m spacy download {model}, "
            "or give the directory of a trained pipeline)"
        ) from None
    if "ner" not in nlp.pipe_names:
        raise UserError(f"--ner {model}: the pipeline has no 'ner' component")
    meta = nlp.meta

    def find(texts: Sequence[str]) -> list[list[str]]:
        return [
            [ent.text for ent in doc.ents if ent.label_ in PERSON_LABELS]
            for doc in nlp.pipe(texts, batch_size=BATCH)
        ]

    from importlib.metadata import version

    name = f"{meta.get('lang', '?')}_{meta.get('name', '?')}"
    return find, f"column names and NER (spaCy {version('spacy')}, {name} {meta.get('version')})"


def from_environment() -> tuple[PersonFinder, str] | None:
    """The finder named by $CUSTOS_NER_MODEL (for the `dataset` check), if any."""
    model = os.environ.get(MODEL_ENV, "").strip()
    return spacy_names(model) if model else None
