"""Labelled datasets for the data scanner's recall and precision tests, made by Faker (a
generator we did not write, in several locales and formats) with decoy columns beside the
personal data: ids that fail Luhn, digests, UUIDs, SKUs, amounts, merchant codes, timestamps,
product names. Each column's true type is known, so recall and false positives are measured,
not eyeballed."""

from __future__ import annotations

import csv
import hashlib
import random
import uuid
from dataclasses import dataclass
from pathlib import Path

from faker import Faker

from custos.datascan.validators import luhn

# column -> the type planted in it (None: a decoy, nothing may be reported)
PII_COLUMNS = {
    "email": "email", "contact_phone": "phone", "card": "card", "iban": "iban", "ssn": "ssn",
    "client_ip": "ip", "ipv6": "ip", "date_of_birth": "dob", "customer_name": "name",
}  # fmt: skip
DECOY_COLUMNS = (
    "order_id",
    "sha256",
    "device_id",
    "sku",
    "amount",
    "merchant_code",
    "created_at",
    "product_name",
    "zip",
    "version",
    "quantity",
    "ratio",
)


@dataclass(frozen=True)
class Labelled:
    path: Path
    rows: list[dict[str, str]]


def _failing_luhn(rng: random.Random) -> str:
    while True:
        digits = "".join(rng.choice("0123456789") for _ in range(16))
        if not luhn(digits):
            return digits


def _phone(fake: Faker, rng: random.Random) -> str:
    """US numbers in Faker's formats, and international ones written with their +code."""
    if rng.random() < 0.6:
        return str(fake.phone_number())
    country = rng.choice(("+44 20 7946 ", "+49 30 901820", "+33 1 42 68 ", "+31 6 "))
    return country + "".join(rng.choice("0123456789") for _ in range(8 if "+31" in country else 4))


def _row(fake: Faker, rng: random.Random) -> dict[str, str]:
    return {
        "email": fake.email(),
        "contact_phone": _phone(fake, rng),
        "card": fake.credit_card_number(),
        "iban": fake.iban(),
        "ssn": fake.ssn(),
        "client_ip": fake.ipv4(),
        "ipv6": fake.ipv6(),
        "date_of_birth": fake.date_of_birth(minimum_age=18, maximum_age=90).isoformat(),
        "customer_name": fake.name(),
        "order_id": _failing_luhn(rng),
        "sha256": hashlib.sha256(rng.randbytes(16)).hexdigest(),
        "device_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "sku": f"SKU-{rng.randint(1000, 9999)}-{fake.bothify('??##').upper()}",
        "amount": f"{rng.uniform(1, 5000):.2f}",
        "merchant_code": str(rng.choice((5411, 5541, 5812, 5999, 7011, 4829))),
        "created_at": fake.date_time_this_year().isoformat(),
        "product_name": f"{fake.color_name()} {fake.word().title()}",
        "zip": fake.postcode(),
        "version": f"{rng.randint(0, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}",
        "quantity": str(rng.randint(1, 10_000_000)),
        "ratio": f"{rng.random():.6f}",
    }


def dataset(path: Path, rows: int, seed: int) -> Labelled:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    made = [_row(fake, rng) for _ in range(rows)]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(made[0]))
        writer.writeheader()
        writer.writerows(made)
    return Labelled(path, made)


def notes(rows: int, seed: int) -> tuple[list[str], dict[str, int]]:
    """Free-text notes, some quoting an email, phone or card number (how many of each is
    returned), the others plain sentences that mention amounts, dates and order numbers."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    planted = {"email": 0, "phone": 0, "card": 0}
    texts = []
    for _ in range(rows):
        sentence = fake.sentence(nb_words=12)
        choice = rng.random()
        if choice < 0.2:
            sentence += f" Reach me at {fake.email()} please."
            planted["email"] += 1
        elif choice < 0.4:
            sentence += f" Call back on {fake.phone_number()} tomorrow."
            planted["phone"] += 1
        elif choice < 0.5:
            sentence += f" Card used was {fake.credit_card_number()} apparently."
            planted["card"] += 1
        else:
            sentence += (
                f" Order {_failing_luhn(rng)} of {rng.uniform(1, 900):.2f} EUR on "
                f"{fake.date_this_year().isoformat()} ({rng.randint(2, 40)} items)."
            )
        texts.append(sentence)
    return texts, planted
