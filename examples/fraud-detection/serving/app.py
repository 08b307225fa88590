"""Fraud scoring API: POST /v1/score returns the probability that a card transaction is fraud.

Runs behind the internal load balancer as https://fraud-api.internal.example (TLS ends at the
load balancer). Callers authenticate with a per-client API key in the X-API-Key header; the keys
come from the secrets manager through the FRAUD_API_KEYS environment variable
("client-id:key,client-id:key").

    uvicorn app:app --host 0.0.0.0 --port 8080
"""

from __future__ import annotations

import datetime as dt
import hmac
import math
import os
from typing import Annotated, Literal

import joblib
from fastapi import Depends, FastAPI, Header, HTTPException, status
from pydantic import BaseModel, Field

MODEL_VERSION = "2.3.0"
MODEL_PATH = os.environ.get("FRAUD_MODEL_PATH", "/srv/models/fraud_model.joblib")
HIGH_RISK_MCC = frozenset({"4829", "5732", "5967", "6051", "7995"})

# joblib files are pickles: this runs whatever code the file contains. The deployment pipeline
# copies the file from the model registry; nothing here checks its digest or signature.
model = joblib.load(MODEL_PATH)


def _api_keys() -> dict[str, str]:
    pairs = (item.split(":", 1) for item in os.environ.get("FRAUD_API_KEYS", "").split(",") if item)
    return {key: client for client, key in pairs}


API_KEYS = _api_keys()

app = FastAPI(title="Kestrel fraud scoring", version=MODEL_VERSION)


class Transaction(BaseModel):
    transaction_id: Annotated[str, Field(max_length=64)]
    timestamp: dt.datetime
    amount_eur: Annotated[float, Field(gt=0, le=1_000_000)]
    merchant_category: Annotated[str, Field(pattern=r"^\d{4}$")]
    merchant_country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    card_country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    channel: Literal["pos", "ecom"]


class Score(BaseModel):
    transaction_id: str
    fraud_probability: float
    model_version: str


def client_id(x_api_key: Annotated[str | None, Header()] = None) -> str:
    """The calling client, from its API key (compared in constant time)."""
    if x_api_key:
        for key, client in API_KEYS.items():
            if hmac.compare_digest(x_api_key.encode(), key.encode()):
                return client
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or invalid API key")


def features(txn: Transaction) -> list[float]:
    """The model input; pipelines/train.py computes exactly these at training time."""
    hour = txn.timestamp.astimezone(dt.UTC).hour
    return [
        math.log1p(txn.amount_eur),
        float(hour),
        1.0 if hour < 6 else 0.0,
        1.0 if txn.merchant_country != txn.card_country else 0.0,
        1.0 if txn.channel == "ecom" else 0.0,
        1.0 if txn.merchant_category in HIGH_RISK_MCC else 0.0,
    ]


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/v1/score")
def score(txn: Transaction, client: Annotated[str, Depends(client_id)]) -> Score:
    # The full-precision probability goes back to the caller (no rounding, no rate limit).
    probability = float(model.predict_proba([features(txn)])[0][1])
    return Score(
        transaction_id=txn.transaction_id,
        fraud_probability=probability,
        model_version=MODEL_VERSION,
    )
