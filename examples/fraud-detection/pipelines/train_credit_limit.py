"""Train the credit-limit advisor.

Reads the credit applications export (data/applicants.csv), standardises the applicant features,
fits a small two-layer perceptron that predicts the credit limit an underwriter would approve,
and writes its weights (and the scaler) with safetensors to models/credit_limit.safetensors.
The advisor's service loads the weights with safetensors, never with pickle.

    python pipelines/train_credit_limit.py --data data/applicants.csv \
        --out models/credit_limit.safetensors
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import save_file
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

SEED = 11
MODEL_VERSION = "1.4.0"
REFERENCE_DATE = dt.date(2026, 10, 1)  # applicant age is taken on the extract date
EMPLOYMENT = ("employed", "self-employed", "retired", "student", "unemployed")
FEATURES = (
    "requested_limit_keur",
    "annual_income_keur",
    "existing_debt_keur",
    "debt_to_income",
    "missed_payments_12m",
    "years_at_address",
    "age_years",
    *(f"employment_{status}" for status in EMPLOYMENT),
)


def features(row: dict[str, str]) -> list[float]:
    income = float(row["annual_income_eur"]) / 1000
    debt = float(row["existing_debt_eur"]) / 1000
    born = dt.date.fromisoformat(row["date_of_birth"])
    age = (REFERENCE_DATE - born).days / 365.25
    return [
        float(row["requested_limit_eur"]) / 1000,
        income,
        debt,
        debt / max(income, 1.0),
        float(row["missed_payments_12m"]),
        float(row["years_at_address"]),
        age,
        *(1.0 if row["employment_status"] == status else 0.0 for status in EMPLOYMENT),
    ]


def load(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    x = np.array([features(row) for row in rows], dtype=np.float64)
    y = np.array([float(row["approved_limit_eur"]) / 1000 for row in rows], dtype=np.float64)
    return x, y


def train(data: Path, out: Path, seed: int = SEED) -> dict[str, Any]:
    x, y = load(data)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=seed)
    scaler = StandardScaler().fit(x_train)
    model = MLPRegressor(
        hidden_layer_sizes=(16,), solver="lbfgs", alpha=1.0, max_iter=2000, random_state=seed
    )
    model.fit(scaler.transform(x_train), y_train)
    predicted = model.predict(scaler.transform(x_test))
    tensors = {
        "input.mean": scaler.mean_.astype(np.float32),
        "input.scale": scaler.scale_.astype(np.float32),
        "hidden.weight": model.coefs_[0].T.astype(np.float32),  # (16, n_features)
        "hidden.bias": model.intercepts_[0].astype(np.float32),
        "output.weight": model.coefs_[1].T.astype(np.float32),  # (1, 16)
        "output.bias": model.intercepts_[1].astype(np.float32),
    }
    # One metadata entry: safetensors writes a multi-key metadata map in no fixed order, and
    # byte-identical retraining output lets the deployment pipeline compare digests.
    metadata = {
        "model_info": json.dumps(
            {
                "model": "credit-limit-advisor",
                "version": MODEL_VERSION,
                "architecture": "standardise -> dense(16, relu) -> dense(1); output in kEUR",
                "features": list(FEATURES),
            },
            sort_keys=True,
        )
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out), metadata=metadata)
    return {
        "model_version": MODEL_VERSION,
        "rows": len(y),
        "train_rows": len(y_train),
        "test_rows": len(y_test),
        "mae_eur": float(mean_absolute_error(y_test, predicted) * 1000),
        "r2": float(r2_score(y_test, predicted)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("data/applicants.csv"))
    parser.add_argument("--out", type=Path, default=Path("models/credit_limit.safetensors"))
    args = parser.parse_args()
    for name, value in train(args.data, args.out).items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
