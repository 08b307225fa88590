"""Train the card-fraud scoring model.

Reads the labelled transactions export (data/transactions.csv), builds the same features the
scoring API computes at request time (serving/app.py), fits a gradient-boosted classifier and
writes it with joblib to models/fraud_model.joblib. Prints the hold-out metrics that go into the
model card.

    python pipelines/train.py --data data/transactions.csv --out models/fraud_model.joblib

Runs nightly in the ML platform's training job (image ml-train:2026.11); the output is promoted
to the scoring API by the deployment pipeline after review.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import precision_score, recall_score, roc_auc_score
from sklearn.model_selection import train_test_split

SEED = 7
MODEL_VERSION = "2.3.0"
HIGH_RISK_MCC = frozenset({"4829", "5732", "5967", "6051", "7995"})
FEATURES = (
    "log_amount_eur",
    "hour_utc",
    "is_night",
    "is_cross_border",
    "is_ecommerce",
    "high_risk_mcc",
)


def features(row: dict[str, str]) -> list[float]:
    """One transaction's model input; serving/app.py computes exactly these."""
    when = dt.datetime.fromisoformat(row["timestamp"].replace("Z", "+00:00"))
    return [
        math.log1p(float(row["amount_eur"])),
        float(when.hour),
        1.0 if when.hour < 6 else 0.0,
        1.0 if row["merchant_country"] != row["card_country"] else 0.0,
        1.0 if row["channel"] == "ecom" else 0.0,
        1.0 if row["merchant_category"] in HIGH_RISK_MCC else 0.0,
    ]


def load(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    x = np.array([features(row) for row in rows], dtype=np.float64)
    y = np.array([int(row["is_fraud"]) for row in rows], dtype=np.int64)
    return x, y


def train(data: Path, out: Path, seed: int = SEED) -> dict[str, Any]:
    """Fit, evaluate on a stratified 25% hold-out, save; return the metrics."""
    x, y = load(data)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, stratify=y, random_state=seed
    )
    model = GradientBoostingClassifier(
        n_estimators=60, max_depth=3, learning_rate=0.1, subsample=0.9, random_state=seed
    )
    model.fit(x_train, y_train)
    scores = model.predict_proba(x_test)[:, 1]
    flagged = (scores >= 0.5).astype(int)
    out.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, out)
    return {
        "model_version": MODEL_VERSION,
        "rows": len(y),
        "fraud_rate": float(y.mean()),
        "train_rows": len(y_train),
        "test_rows": len(y_test),
        "roc_auc": float(roc_auc_score(y_test, scores)),
        "precision_at_0_5": float(precision_score(y_test, flagged, zero_division=0)),
        "recall_at_0_5": float(recall_score(y_test, flagged, zero_division=0)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/transactions.csv"))
    parser.add_argument("--out", type=Path, default=Path("models/fraud_model.joblib"))
    args = parser.parse_args()
    for name, value in train(args.data, args.out).items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
