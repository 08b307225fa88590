"""Person names in running text with an NER model (`custos scan-data --ner MODEL`).

No spaCy pipeline can be downloaded here (they are not on PyPI), so the test trains a small
one, in a few seconds, on sentences of one set of templates with Faker's names. It then scans
notes written with other templates and names the model never saw. What is measured is the
plumbing: names found in free text are counted per row, shown masked, never printed whole, and
the output says which model found them. The small model's recall is a floor, not a figure to
publish.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
import spacy  # a dev dependency: without it the test fails, it does not skip
from faker import Faker

from tests.cli.run import custos

TRAIN = (
    "Spoke with {n} about the refund.", "{n} called twice, wants a callback.",
    "Escalated to {n} on Monday.", "Customer {n} disputes the charge.",
    "Card blocked after {n} reported theft.", "Left a voicemail for {n}.",
    "{n} asked for the statement.", "Approved by {n}, see ticket.",
)  # fmt: skip
NO_NAME = (
    "Order shipped to the warehouse.", "Chargeback filed with the bank.",
    "No answer, try again Friday.", "Refund issued to the card on file.",
)  # fmt: skip
SCAN = ("Talked to {n} today about the limit.", "{n} wants the card replaced.",
        "Message from {n}: please call back.")  # fmt: skip


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from spacy.training import Example

    fake, rng = Faker("en_US"), random.Random(1)
    fake.seed_instance(1)
    nlp = spacy.blank("en")
    nlp.add_pipe("ner").add_label("PERSON")
    examples = []
    for i in range(400):
        if i % 4 == 3:
            text, spans = rng.choice(NO_NAME), []
        else:
            name = f"{fake.first_name()} {fake.last_name()}"
            template = rng.choice(TRAIN)
            start = template.index("{n}")
            text, spans = template.replace("{n}", name), [(start, start + len(name), "PERSON")]
        examples.append(Example.from_dict(nlp.make_doc(text), {"entities": spans}))
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(8):
        rng.shuffle(examples)
        for batch in spacy.util.minibatch(examples, size=32):
            nlp.update(batch, sgd=optimizer, drop=0.2)
    path = tmp_path_factory.mktemp("ner") / "tiny-person-ner"
    nlp.meta["name"] = "tiny_person_ner"
    nlp.to_disk(path)
    return path


def _notes(path: Path) -> list[str]:
    fake, rng = Faker("en_US"), random.Random(7)
    fake.seed_instance(77)  # names the model did not see
    rows, names = [], []
    for i in range(300):
        if i % 3 == 2:
            note = f"{rng.choice(NO_NAME)} Ref {rng.randrange(10**5, 10**6)}."
        else:
            name = f"{fake.first_name()} {fake.last_name()}"
            names.append(name)
            note = rng.choice(SCAN).replace("{n}", name)
        rows.append({"id": str(i), "note": note})
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "note"])
        writer.writeheader()
        writer.writerows(rows)
    return names


def test_names_in_free_text_with_a_user_model(tmp_path: Path, model: Path) -> None:
    data = tmp_path / "support_notes.csv"
    names = _notes(data)

    without = custos("scan-data", str(data), "--format", "json").json()[0]
    assert without["names"] == "column names"
    assert not [p for c in without["columns"] for p in c["pii"] if p["type"] == "name"]

    result = custos("scan-data", str(data), "--format", "json", "--ner", str(model))
    assert result.code in (0, 1), result.err
    (report,) = result.json()
    assert report["names"].startswith("column names and NER (spaCy ")
    assert "tiny_person_ner" in report["names"]
    note = {c["name"]: c for c in report["columns"]}["note"]
    (hit,) = [p for p in note["pii"] if p["type"] == "name"]
    assert hit["count"] >= 0.7 * len(names)  # the small model's floor on unseen templates
    assert hit["examples_masked"]
    assert all("*" in example for example in hit["examples_masked"])
    assert note["suggested_classification"] == "confidential"
    for output in (result.out, custos("scan-data", str(data), "--ner", str(model)).out):
        assert not [name for name in names if name in output]

    env = {"CUSTOS_NER_MODEL": str(model)}
    from_env = custos("scan-data", str(data), "--format", "json", env=env).json()[0]
    assert from_env["names"] == report["names"]


def test_a_missing_model_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "notes.csv"
    _notes(data)
    result = custos("scan-data", str(data), "--ner", "xx_no_such_pipeline")
    assert result.code == 2
    assert "no such spaCy pipeline" in result.err
    assert result.err.strip().count("\n") == 0
