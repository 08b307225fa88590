"""Regenerate the example's synthetic data, models, model cards and logs.

Everything here is fictional and deterministic (fixed seeds, fixed dates), so running it again
gives the same files. The generated files are committed: `make demo` needs none of the ML
libraries this script uses. To regenerate, in a scratch virtualenv:

    pip install scikit-learn joblib numpy safetensors
    python examples/fraud-detection/generate.py

Personal data is synthetic: names are drawn from short lists of common names, e-mail addresses use
the reserved example.com/.net/.org domains, card numbers are the public test PANs published by
card schemes and payment processors, IBANs use the made-up bank code TEST, and IP addresses come
from the RFC 5737 documentation ranges (or private 10.x addresses for internal clients).
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
import math
import pickle
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20261128
UTC = dt.UTC

FIRST_NAMES = (
    "Anna", "Bram", "Chloe", "Daan", "Emma", "Finn", "Greta", "Hugo", "Iris", "Jonas", "Lena",
    "Lucas", "Maria", "Milan", "Noor", "Oscar", "Paula", "Ruben", "Sara", "Thomas", "Yara",
    "Zoe", "Elena", "Pieter", "Sofia", "Mats", "Julia", "Lars", "Nina", "Victor",
)  # fmt: skip
LAST_NAMES = (
    "de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos", "Peters",
    "Hendriks", "Dekker", "Brouwer", "Schmidt", "Weber", "Martin", "Bernard", "Dubois", "Lambert",
    "Claes", "Maes", "Wouters", "Fischer", "Wagner", "Becker", "Moreau", "Laurent", "Simon",
)  # fmt: skip
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

# Public test card numbers (scheme / processor documentation); never issued to a cardholder.
TEST_PANS = (
    "4111111111111111", "4012888888881881", "4242424242424242", "4000056655665556",
    "5555555555554444", "5105105105105100", "5200828282828210", "2223003122003222",
    "378282246310005", "371449635398431", "6011111111111117", "6011000990139424",
)  # fmt: skip

# name, merchant category code, country ("*" = online merchant, country varies), channel
MERCHANTS = (
    ("Corner Grocer", "5411", "home", "pos"),
    ("FuelPoint", "5541", "home", "pos"),
    ("Cafe Nord", "5814", "home", "pos"),
    ("Pharma Plus", "5912", "home", "pos"),
    ("Mode & Co", "5651", "home", "pos"),
    ("Hotel Lindenhof", "7011", "DE", "pos"),
    ("Bookworm Online", "5942", "*", "ecom"),
    ("Streamly", "4899", "*", "ecom"),
    ("Atlas Airways", "4511", "*", "ecom"),
    ("Bytewise Electronics", "5732", "*", "ecom"),
    ("TeleShop Direct", "5967", "*", "ecom"),
    ("QuickWire Transfers", "4829", "*", "ecom"),
    ("Lucky Star Casino", "7995", "MT", "ecom"),
    ("CoinSwap Exchange", "6051", "*", "ecom"),
)
MERCHANT_WEIGHTS = (18, 12, 14, 6, 7, 3, 8, 7, 4, 6, 4, 4, 3, 4)
TYPICAL_AMOUNT = {
    "5411": 45, "5541": 60, "5814": 12, "5912": 25, "5651": 80, "7011": 160, "5942": 30,
    "4899": 14, "4511": 240, "5732": 350, "5967": 90, "4829": 400, "7995": 120, "6051": 600,
}  # fmt: skip
HIGH_RISK_MCC = frozenset({"4829", "5732", "5967", "6051", "7995"})
CARD_COUNTRIES = ("NL", "NL", "NL", "NL", "DE", "BE", "FR")
ONLINE_COUNTRIES = ("NL", "DE", "IE", "LU", "GB", "US", "CY")


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return total % 10 == 0


def fake_iban(rng: np.random.Generator) -> str:
    """A Dutch-format IBAN with a valid checksum and the made-up bank code TEST."""
    bban = "TEST" + "".join(str(d) for d in rng.integers(0, 10, size=10))
    rearranged = bban + "NL00"
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return f"NL{98 - int(numeric) % 97:02d}{bban}"


def person(rng: np.random.Generator, index: int) -> tuple[str, str]:
    first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
    last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
    local = f"{first}.{last}".lower().replace(" ", "")
    domain = EMAIL_DOMAINS[index % len(EMAIL_DOMAINS)]
    return f"{first} {last}", f"{local}{index % 97}@{domain}"


def iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def transactions(rng: np.random.Generator, count: int = 2000) -> list[dict[str, str]]:
    """October 2026 card transactions, labelled by the chargeback/confirmed-fraud process."""
    assert all(luhn_ok(pan) for pan in TEST_PANS)
    holders = []
    for index in range(240):
        name, email = person(rng, index)
        holders.append(
            {
                "card_number": TEST_PANS[index % len(TEST_PANS)],
                "cardholder_name": name,
                "cardholder_email": email,
                "card_country": CARD_COUNTRIES[int(rng.integers(len(CARD_COUNTRIES)))],
            }
        )
    start = dt.datetime(2026, 10, 1, tzinfo=UTC)
    hour_weights = np.array(
        [1, 1, 1, 1, 1, 2, 4, 6, 8, 9, 10, 11, 12, 11, 10, 10, 11, 12, 12, 11, 9, 7, 4, 2]
    )
    hour_p = hour_weights / hour_weights.sum()
    merchant_p = np.array(MERCHANT_WEIGHTS) / sum(MERCHANT_WEIGHTS)
    stamps = sorted(
        start
        + dt.timedelta(
            days=int(rng.integers(31)),
            hours=int(rng.choice(24, p=hour_p)),
            seconds=int(rng.integers(3600)),
        )
        for _ in range(count)
    )
    rows = []
    for index, when in enumerate(stamps):
        holder = holders[int(rng.integers(len(holders)))]
        name, mcc, where, channel = MERCHANTS[int(rng.choice(len(MERCHANTS), p=merchant_p))]
        if where == "home":
            country = holder["card_country"]
        elif where == "*":
            country = ONLINE_COUNTRIES[int(rng.integers(len(ONLINE_COUNTRIES)))]
        else:
            country = where
        amount = float(TYPICAL_AMOUNT[mcc] * rng.lognormal(0.0, 0.6))
        logit = (
            -5.6
            + 0.9 * np.log1p(amount / 100)
            + 1.4 * (when.hour < 6)
            + 1.1 * (country != holder["card_country"])
            + 0.6 * (channel == "ecom")
            + 1.5 * (mcc in HIGH_RISK_MCC)
        )
        fraud = rng.random() < 1 / (1 + np.exp(-logit))
        if fraud:
            amount *= float(rng.uniform(1.5, 4.0))  # fraudsters cash out: larger tickets
        rows.append(
            {
                "transaction_id": f"TX-2026-10-{index + 1:06d}",
                "timestamp": iso(when),
                "card_number": holder["card_number"],
                "cardholder_name": holder["cardholder_name"],
                "cardholder_email": holder["cardholder_email"],
                "card_country": holder["card_country"],
                "merchant": name,
                "merchant_category": mcc,
                "merchant_country": country,
                "channel": channel,
                "ip_address": (
                    f"{('203.0.113', '198.51.100')[index % 2]}.{int(rng.integers(1, 255))}"
                    if channel == "ecom"
                    else ""
                ),
                "amount_eur": f"{amount:.2f}",
                "currency": "EUR",
                "is_fraud": "1" if fraud else "0",
            }
        )
    return rows


EMPLOYMENT = ("employed", "self-employed", "retired", "student", "unemployed")
EMPLOYMENT_P = (0.62, 0.12, 0.12, 0.08, 0.06)
INCOME_MEDIAN = {
    "employed": 46000, "self-employed": 52000, "retired": 28000, "student": 9000,
    "unemployed": 12000,
}  # fmt: skip


def applicants(rng: np.random.Generator, count: int = 500) -> list[dict[str, str]]:
    """Credit card applications with the limit the underwriter approved (the training target)."""
    rows = []
    for index in range(count):
        name, email = person(rng, 1000 + index)
        status = EMPLOYMENT[int(rng.choice(len(EMPLOYMENT), p=EMPLOYMENT_P))]
        if status == "student":
            age = int(rng.integers(18, 27))
        elif status == "retired":
            age = int(rng.integers(62, 85))
        else:
            age = int(rng.integers(21, 66))
        born = dt.date(2026 - age, 1, 1) + dt.timedelta(days=int(rng.integers(365)))
        income = INCOME_MEDIAN[status] * float(rng.lognormal(0.0, 0.35))
        debt = max(0.0, income * float(rng.normal(0.35, 0.3)))
        missed = int(rng.poisson(0.25 if status in ("employed", "retired") else 0.7))
        years = int(rng.integers(0, min(age - 17, 30)))
        requested = float(rng.choice([1000, 2000, 2500, 5000, 7500, 10000, 15000]))
        limit = 0.14 * income - 0.12 * debt - 900 * missed + 60 * years
        if age < 25:
            limit *= 0.75  # historical underwriting treated young applicants more harshly
        limit = float(np.clip(limit * rng.lognormal(0.0, 0.12), 0, min(requested, 15000)))
        rows.append(
            {
                "applicant_id": f"APP-{202600000 + index + 1}",
                "full_name": name,
                "date_of_birth": born.isoformat(),
                "email": email,
                "iban": fake_iban(rng),
                "employment_status": status,
                "annual_income_eur": f"{income:.0f}",
                "existing_debt_eur": f"{debt:.0f}",
                "missed_payments_12m": str(missed),
                "years_at_address": str(years),
                "requested_limit_eur": f"{requested:.0f}",
                "approved_limit_eur": f"{round(limit / 250) * 250:.0f}",
                "decision_date": (
                    dt.date(2026, 4, 1) + dt.timedelta(days=int(rng.integers(183)))
                ).isoformat(),
            }
        )
    return rows


NOTES_SEED = 20261107  # its own generator: adding the notes left every other file unchanged
NOTE_TEMPLATES = (
    "Cardholder {name} called from {phone} to dispute a charge at {merchant}; asked to reply "
    "to {email}.",
    "Chargeback opened for {merchant}. Customer confirmed by phone ({phone}) that the card was "
    "with them.",
    "Customer wrote from {email}: does not recognise the {merchant} payment. Card blocked.",
    "Merchant {merchant} flagged by the model; no customer contact needed, closed as genuine.",
    "Second dispute this month for {merchant}; escalated to the fraud team lead.",
)


def analyst_notes(count: int = 300) -> list[str]:
    """Fraud analysts' case notes (JSON Lines), kept as weak labels for the next training run:
    free text that quotes customers' e-mail addresses and phone numbers."""
    import json

    rng = np.random.default_rng(NOTES_SEED)
    start = dt.datetime(2026, 10, 2, 9, tzinfo=UTC)
    lines = []
    for index in range(count):
        name, email = person(rng, 1000 + index)
        phone = f"+31 6 {int(rng.integers(10_000_000, 99_999_999)):08d}"
        merchant = MERCHANTS[int(rng.integers(len(MERCHANTS)))][0]
        template = NOTE_TEMPLATES[int(rng.integers(len(NOTE_TEMPLATES)))]
        when = start + dt.timedelta(minutes=int(index * 137 + rng.integers(60)))
        note = template.format(name=name, phone=phone, email=email, merchant=merchant)
        case = {"case": f"CASE-{index + 1:05d}", "opened": iso(when), "note": note,
                "label": "fraud" if "block" in note or "escalated" in note else "genuine"}  # fmt: skip
        lines.append(json.dumps(case))
    return lines


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def log_line(ip: str, user: str, when: dt.datetime, request: str, status: int, size: int,
             agent: str) -> str:  # fmt: skip
    stamp = when.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return f'{ip} - {user} [{stamp}] "{request}" {status} {size} "-" "{agent}"'


def fraud_access_log(rng: np.random.Generator) -> list[str]:
    """Two days of the scoring API's nginx log (combined format; user = API client id).

    Planted: in the night of 27 November a sandbox partner key reads the OpenAPI document and
    then sends ~110 scoring requests in four minutes from one address, stepping the amount
    systematically: the pattern of a model-extraction attempt. No request is throttled.
    """
    day0 = dt.datetime(2026, 11, 26, tzinfo=UTC)
    clients = (
        ("10.20.4.11", "checkout-web", "kestrel-checkout/4.12.0"),
        ("10.20.4.12", "checkout-mobile", "kestrel-checkout/4.12.0 okhttp/4.12.0"),
        ("10.20.7.31", "pos-gateway", "pos-gw/2.8.1"),
        ("10.20.9.5", "issuer-processing", "Java-http-client/21.0.4"),
        ("10.20.12.40", "case-review-ui", "case-review/1.9.3"),
    )
    events: list[tuple[dt.datetime, str]] = []
    hour_weights = np.array(
        [0, 0, 0, 0, 0, 1, 2, 4, 6, 7, 8, 8, 9, 8, 8, 8, 9, 9, 8, 7, 5, 3, 2, 1]
    )
    hour_p = hour_weights / hour_weights.sum()
    for _ in range(168):
        when = day0 + dt.timedelta(
            days=int(rng.integers(2)),
            hours=int(rng.choice(24, p=hour_p)),
            seconds=int(rng.integers(3600)),
        )
        ip, user, agent = clients[int(rng.integers(len(clients)))]
        status, size = 200, int(rng.integers(78, 92))
        if rng.random() < 0.02:
            status, size = 422, 164  # malformed transaction body
        req = "POST /v1/score HTTP/1.1"
        events.append((when, log_line(ip, user, when, req, status, size, agent)))
    for minutes in range(0, 2 * 24 * 60, 150):  # load balancer health checks
        when = day0 + dt.timedelta(minutes=minutes, seconds=7)
        line = log_line("10.20.0.2", "-", when, "GET /healthz HTTP/1.1", 200, 15,
                        "ELB-HealthChecker/2.0")  # fmt: skip
        events.append((when, line))
    deploy = dt.datetime(2026, 11, 26, 14, 2, 11, tzinfo=UTC)  # rolling deploy of v2.3.0
    for offset in (0, 4):
        when = deploy + dt.timedelta(seconds=offset)
        line = log_line("10.20.4.11", "checkout-web", when, "POST /v1/score HTTP/1.1", 503, 53,
                        "kestrel-checkout/4.12.0")  # fmt: skip
        events.append((when, line))
    probe = dt.datetime(2026, 11, 26, 21, 40, 2, tzinfo=UTC)  # someone guessing API keys
    for offset in range(6):
        when = probe + dt.timedelta(seconds=9 * offset + int(rng.integers(3)))
        line = log_line("192.0.2.45", "-", when, "POST /v1/score HTTP/1.1", 401, 30,
                        "curl/8.5.0")  # fmt: skip
        events.append((when, line))
    burst = dt.datetime(2026, 11, 27, 2, 12, 51, tzinfo=UTC)
    agent = "python-requests/2.32.3"
    for offset, path in ((0, "GET /openapi.json HTTP/1.1"), (3, "GET /docs HTTP/1.1")):
        when = burst + dt.timedelta(seconds=offset)
        size = 2841 if "openapi" in path else 947
        events.append((when, log_line("198.51.100.23", "partner-sandbox-07", when, path, 200,
                                      size, agent)))  # fmt: skip
    when = burst + dt.timedelta(seconds=14)
    for _ in range(110):
        when += dt.timedelta(milliseconds=int(rng.integers(1600, 2600)))
        line = log_line("198.51.100.23", "partner-sandbox-07", when, "POST /v1/score HTTP/1.1",
                        200, int(rng.integers(84, 90)), agent)  # fmt: skip
        events.append((when, line))
    events.sort(key=lambda event: event[0])
    return [line for _, line in events]


def credit_access_log(rng: np.random.Generator) -> list[str]:
    """Two working days of the credit-limit advisor's log: underwriters and the nightly review."""
    day0 = dt.datetime(2026, 11, 26, tzinfo=UTC)
    events: list[tuple[dt.datetime, str]] = []
    for _ in range(48):
        when = day0 + dt.timedelta(
            days=int(rng.integers(2)),
            hours=int(rng.integers(8, 17)),
            seconds=int(rng.integers(3600)),
        )
        line = log_line("10.30.2.17", "underwriting-ui", when, "POST /v2/advise HTTP/1.1", 200,
                        int(rng.integers(140, 190)), "underwriting-ui/3.2.0")  # fmt: skip
        events.append((when, line))
    for day in range(2):
        when = day0 + dt.timedelta(days=day, hours=1, minutes=30)
        for _ in range(6):
            when += dt.timedelta(seconds=int(rng.integers(2, 6)))
            line = log_line("10.30.5.3", "limit-review-batch", when, "POST /v2/advise HTTP/1.1",
                            200, int(rng.integers(140, 190)), "limit-review/1.0.7")  # fmt: skip
            events.append((when, line))
    events.sort(key=lambda event: event[0])
    return [line for _, line in events]


def score_api_log() -> list[str]:
    """Two days of the scoring API's JSON Lines request log (custos monitor reads it): per
    request the time, API key, address, status, latency, the model's input (the features of
    pipelines/train.py) and its fraud probability.

    Planted: partner key `kp_live_…5e07` (the sandbox partner of access.log) probes the model
    from one address on the second afternoon: twelve real transactions, each sent again with
    the amount swept through 64 equal steps (log 1 + EUR from 1.0 to 8.56), mapping where
    the score crosses the review threshold: a model-extraction attempt on the amount. The
    nightly issuer batch scores real transactions at 25 a second and is not an attack.
    """
    rng = np.random.default_rng(SEED + 16)  # its own stream: the other files stay as they are
    day0 = dt.datetime(2026, 11, 26, tzinfo=UTC)
    hours = (0, 0, 0, 0, 0, 1, 2, 4, 6, 7, 8, 8, 9, 8, 8, 8, 9, 9, 8, 7, 5, 3, 2, 1)
    hour_p = np.array(hours, dtype=float) / sum(hours)

    def record(when: dt.datetime) -> dict[str, float]:
        mcc_index = int(rng.choice(len(MERCHANTS), p=np.array(MERCHANT_WEIGHTS) / 100))
        _, mcc, country, channel = MERCHANTS[mcc_index]
        amount = float(TYPICAL_AMOUNT[mcc] * rng.lognormal(0.0, 0.6))
        cross = (country not in ("home", "NL") and rng.random() < 0.7) or rng.random() < 0.05
        return {"log_amount_eur": round(math.log1p(amount), 4), "hour_utc": float(when.hour),
                "is_night": 1.0 if when.hour < 6 else 0.0, "is_cross_border": float(cross),
                "is_ecommerce": 1.0 if channel == "ecom" else 0.0,
                "high_risk_mcc": 1.0 if mcc in HIGH_RISK_MCC else 0.0}  # fmt: skip

    def probability(x: dict[str, float]) -> float:
        logit = (-7.2 + 0.9 * x["log_amount_eur"] + 1.1 * x["is_night"]
                 + 0.8 * x["is_cross_border"] + 0.6 * x["is_ecommerce"]
                 + 1.4 * x["high_risk_mcc"])  # fmt: skip
        return round(1 / (1 + math.exp(-logit)), 4)

    rows: list[tuple[dt.datetime, dict[str, Any]]] = []

    def add(when: dt.datetime, key: str, ip: str, agent: str, x: dict[str, float] | None,
            status: int = 200) -> None:  # fmt: skip
        row: dict[str, Any] = {
            "ts": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "api_key": key, "client_ip": ip, "endpoint": "/v1/score", "method": "POST",
            "status": status, "latency_ms": round(float(rng.gamma(4.0, 4.0)), 1),
        }  # fmt: skip
        if x is not None and status == 200:
            row["input"] = x
            row["output"] = {"fraud_probability": probability(x)}
        row["user_agent"] = agent
        rows.append((when, row))

    def key(suffix: str) -> str:
        return f"kp_live_{rng.bytes(12).hex()}{suffix}"

    clients = (
        (key("c0a1"), ("10.20.4.11", "10.20.4.14"), "kestrel-checkout/4.12.0", 700),
        (key("c0b2"), ("10.20.4.12",), "kestrel-checkout/4.12.0 okhttp/4.12.0", 500),
        (key("b7f3"), ("10.20.7.31", "10.20.7.32"), "pos-gw/2.8.1", 900),
        (key("ca5e"), ("10.20.12.40",), "case-review/1.9.3", 120),
    )
    for api_key, ips, agent, count in clients:
        for _ in range(count):
            when = day0 + dt.timedelta(days=int(rng.integers(2)),
                                       hours=int(rng.choice(24, p=hour_p)),
                                       seconds=float(rng.uniform(0, 3600)))  # fmt: skip
            add(when, api_key, ips[int(rng.integers(len(ips)))], agent, record(when),
                422 if rng.random() < 0.01 else 200)  # fmt: skip
    batch = key("9b01")
    for day in range(2):  # the issuer's nightly re-scoring of the day's transactions
        when = day0 + dt.timedelta(days=day, hours=1, minutes=10)
        for _ in range(600):
            when += dt.timedelta(seconds=float(rng.exponential(0.04)))
            add(when, batch, "10.20.9.5", "Java-http-client/21.0.4", record(when))
    partner = key("5e07")
    when = dt.datetime(2026, 11, 27, 14, 5, 12, tzinfo=UTC)
    queries = []
    for seed in (record(when) for _ in range(12)):
        for step in range(64):  # log(1 + EUR) from 1.0 to 8.56 in equal steps
            queries.append({**seed, "log_amount_eur": round(1.0 + 0.12 * step, 4)})
    for x in queries:
        when += dt.timedelta(milliseconds=int(rng.integers(700, 1500)))
        add(when, partner, "198.51.100.23", "python-requests/2.32.3", x)
    rows.sort(key=lambda r: r[0])
    return [json.dumps(row, separators=(",", ":")) for _, row in rows]


def legacy_model() -> bytes:
    """The retired rule-weights 'model' of 2024, left on disk and never declared (planted)."""
    rules = {
        "name": "fraud-rules",
        "version": "0.3.1",
        "trained": "2024-02-12",
        "threshold": 0.62,
        "weights": {"amount_over_500": 0.41, "night": 0.22, "cross_border": 0.27, "ecom": 0.1},
        "blocked_mcc": ["6051", "7995"],
    }
    return pickle.dumps(rules, protocol=4)


def load_module(relative: str) -> ModuleType:
    path = HERE / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def fraud_card(m: dict[str, Any]) -> str:
    return f"""# Fraud scoring model (`fraud_model.joblib`)

Version {m["model_version"]} · gradient-boosted trees (scikit-learn `GradientBoostingClassifier`,
60 trees of depth 3) · owner: Priya Natarajan, Fraud Analytics · serialised with joblib.

## Intended use

Scores card transactions in real time (authorisation path of Kestrel's e-commerce and POS
acquiring) with the probability that the transaction is fraudulent. Scores above 0.5 send the
transaction to step-up authentication (3-D Secure) or to the fraud analysts' review queue. The
score never declines a transaction on its own and is not used for any decision about a person's
access to credit or other financial services.

## Out-of-scope uses

Credit decisions, customer profiling for marketing, and any use outside card transaction
monitoring.

## Training data

`data/transactions.csv`: {m["rows"]} card transactions from October 2026 (synthetic for this
example), labelled with confirmed fraud from the chargeback process; fraud rate
{m["fraud_rate"]:.1%}. Features: log amount, hour of day (UTC), night flag, cross-border flag,
e-commerce flag, high-risk merchant category flag. Card numbers, names and e-mail addresses are
in the export but are not model features.

## Evaluation

Stratified hold-out of {m["test_rows"]} transactions (25%), seed 7:

| metric | value |
|--------|-------|
| ROC AUC | {m["roc_auc"]:.3f} |
| precision at 0.5 | {m["precision_at_0_5"]:.3f} |
| recall at 0.5 | {m["recall_at_0_5"]:.3f} |

Re-evaluated monthly on the latest labelled month; a drop of more than 0.03 AUC blocks promotion.

## Limitations

- Trained on one month of data: seasonal patterns (holidays, sales) are not represented.
- Labels arrive with the chargeback delay (up to 120 days), so recent fraud is under-labelled.
- Fraudsters adapt: the model is expected to degrade between retraining runs.
- joblib files are pickles: loading one runs code, so the model must only be loaded from the
  signed model registry.

## Ethical considerations

The model uses no protected attributes and no proxies we know of beyond card and merchant
country. A false positive causes friction (an extra authentication step) for a legitimate
cardholder; step-up rates are monitored per card country to detect uneven burden. Analysts,
not the model, decide on blocking a card.
"""


def credit_card(m: dict[str, Any]) -> str:
    # Planted gap: no "Ethical considerations" section (the model-card check reports it).
    return f"""# Credit-limit advisor (`credit_limit.safetensors`)

Version {m["model_version"]} · two-layer perceptron (16 hidden units, ReLU) trained with
scikit-learn, weights stored with safetensors · owner: Daniel Okafor, Credit Risk Modelling.

## Model details

Inputs are standardised with the mean and scale stored in the file (`input.mean`,
`input.scale`): requested limit, annual income, existing debt, debt-to-income ratio, missed
payments in the last 12 months, years at address, age, employment status (one-hot). Output:
recommended credit limit in thousands of euro.

## Intended use

Advises underwriters on the credit limit to offer a consumer applying for a Kestrel credit card.
An underwriter reviews every recommendation and makes the decision; the applicant can ask for a
human review of the outcome.

## Training data

`data/applicants.csv`: {m["rows"]} credit card applications decided between April and September
2026 (synthetic for this example), with the limit the underwriter approved as the target.

## Evaluation

Random hold-out of {m["test_rows"]} applications (20%), seed 11:

| metric | value |
|--------|-------|
| mean absolute error | EUR {m["mae_eur"]:,.0f} |
| R² | {m["r2"]:.3f} |

## Limitations

- Learns from past underwriter decisions, including their inconsistencies.
- Few applicants under 25 or over 75: recommendations there are less reliable.
- Not validated for business cards or for applicants without a credit history.

## Maintenance

Retrained quarterly; the model risk committee approves each version before it is deployed.
"""


def main() -> None:
    sys.dont_write_bytecode = True  # the pipelines are imported from source; leave no caches
    rng = np.random.default_rng(SEED)
    write_csv(HERE / "data" / "transactions.csv", transactions(rng))
    write_csv(HERE / "data" / "applicants.csv", applicants(rng))
    write_lines(HERE / "logs" / "access.log", fraud_access_log(rng))
    write_lines(HERE / "logs" / "credit-access.log", credit_access_log(rng))
    write_lines(HERE / "logs" / "score-api.jsonl", score_api_log())
    write_lines(HERE / "data" / "analyst_notes.jsonl", analyst_notes())
    legacy = HERE / "models" / "legacy" / "fraud_model_v0.pkl"
    legacy.parent.mkdir(parents=True, exist_ok=True)
    legacy.write_bytes(legacy_model())

    fraud = load_module("pipelines/train.py").train(
        HERE / "data" / "transactions.csv", HERE / "models" / "fraud_model.joblib"
    )
    credit = load_module("pipelines/train_credit_limit.py").train(
        HERE / "data" / "applicants.csv", HERE / "models" / "credit_limit.safetensors"
    )
    (HERE / "models" / "fraud_model.md").write_text(fraud_card(fraud), encoding="utf-8")
    (HERE / "models" / "credit_limit.md").write_text(credit_card(credit), encoding="utf-8")
    for name, metrics in (("fraud", fraud), ("credit", credit)):
        print(name, {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()})


if __name__ == "__main__":
    main()
