"""Poisoning and quality signals in tabular training data (docs/data.md, "Data integrity"):
exact and near duplicates, label issues by confident learning, backdoor trigger candidates,
outliers and class balance against a recorded baseline. Each signal is a review queue with
counts, not a verdict. Nothing here writes to the data, unpickles or runs anything from it.

Layout: `normalise` (the near-duplicate rule for one value), `table` (a file's rows as column
arrays, through the data scanner's readers), `model` (the report), `extra` (the optional
scikit-learn and cleanlab), `features` (columns as the models' inputs), one module per signal
(`duplicates`, `labels`, `triggers`, `outliers`, `baseline`), `rules` (thresholds and
findings), and `scan` (the pipeline).
"""
