"""Labelled API traffic for the access-log tests: two weekdays of a scoring API's JSON Lines log,
benign clients and attackers, every key and address labelled.

Inputs are real-looking transaction records (10 features: amounts, counts, shares, flags),
drawn from a population with correlated latent factors, so every client's inputs are natural
samples; outputs are two scores of a fixed logistic model. Benign clients: interactive
integrations with business-hour rhythms, short bursts, retries and the odd expired token (each
from one to three pods in one network), and nightly batch jobs scoring a few thousand records
at high rate. Attackers, each with its own key or address:

- extraction: a Jacobian-style synthetic probe (a few seed records, then rounds of every query
  stepped by +-lambda in each feature);
- sweeper: a template record with two features walked through a grid of equal steps;
- hammerer: a handful of inputs, each sent hundreds of times;
- sharer: one leaked key used from 30 addresses in different networks;
- rotator: one address using 8 keys one after another;
- sprayer: one address trying 20 invalid keys within minutes (401s).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

START = dt.datetime(2026, 11, 23, tzinfo=dt.UTC).timestamp()  # a Monday
DAY = 86400.0
FEATURES = 10
ATTACKS = ("extraction", "sweeper", "hammerer", "sharer", "rotator", "sprayer")
WEIGHTS = np.random.default_rng(0).normal(size=(FEATURES, 2))  # the served model, fixed


@dataclass
class Traffic:
    rows: list[dict[str, Any]] = field(default_factory=list)
    benign_keys: set[str] = field(default_factory=set)
    attack_keys: dict[str, set[str]] = field(default_factory=dict)  # attack -> keys
    attack_ips: dict[str, set[str]] = field(default_factory=dict)  # attack -> addresses

    def write(self, path: Path) -> Path:
        self.rows.sort(key=lambda r: r["ts"])
        with path.open("w", encoding="utf-8") as f:
            for r in self.rows:
                f.write(json.dumps(r) + "\n")
        return path


class Population:
    """Transaction records from correlated latent factors (three segments)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.mix = rng.normal(size=(3, 4, FEATURES)) * 0.6

    def records(self, n: int, segment: int | None = None) -> np.ndarray:
        rng = self.rng
        seg = rng.integers(0, 3, n) if segment is None else np.full(n, segment)
        z = rng.normal(size=(n, 4))
        base = np.einsum("nk,nkf->nf", z, self.mix[seg]) + rng.normal(size=(n, FEATURES)) * 0.5
        x = np.empty((n, FEATURES))
        x[:, 0] = np.round(np.exp(3.5 + 0.8 * base[:, 0]), 2)  # amount
        x[:, 1] = np.round(np.log1p(x[:, 0]), 4)  # log amount
        x[:, 2] = rng.poisson(np.exp(1 + 0.4 * base[:, 2]))  # transactions in 24 h
        x[:, 3] = np.round(1 / (1 + np.exp(-base[:, 3])), 4)  # merchant risk share
        x[:, 4] = np.round(np.exp(2 + base[:, 4]), 1)  # distance from home, km
        x[:, 5] = (base[:, 5] > 0.3).astype(float)  # e-commerce
        x[:, 6] = (base[:, 6] > 1.0).astype(float)  # cross-border
        x[:, 7] = np.round(rng.gamma(2 + (base[:, 7] > 0), 30), 0)  # card age, days
        x[:, 8] = np.round(base[:, 8], 3)  # device score
        x[:, 9] = np.round(np.abs(base[:, 9]) * 2, 3)  # velocity ratio
        return x


def _outputs(x: np.ndarray) -> np.ndarray:
    scaled = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-9) if len(x) > 1 else x * 0
    return np.round(1 / (1 + np.exp(-scaled @ WEIGHTS)), 4)


class Builder:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.population = Population(self.rng)
        self.traffic = Traffic()
        self.serial = 0

    def key(self) -> str:
        self.serial += 1
        return f"sk_live_{self.rng.bytes(12).hex()}{self.serial:03d}"

    def network(self) -> tuple[int, int]:
        return int(self.rng.integers(11, 223)), int(self.rng.integers(0, 256))

    def add(self, times: np.ndarray, key: str | None, ips: list[str], x: np.ndarray | None,
            agent: str, status: np.ndarray | None = None) -> None:  # fmt: skip
        n = times.size
        outputs = _outputs(x) if x is not None else None
        which = self.rng.integers(0, len(ips), n)
        for i in range(n):
            code = 200 if status is None else int(status[i])
            row: dict[str, Any] = {
                "ts": dt.datetime.fromtimestamp(float(times[i]), dt.UTC).isoformat(
                    timespec="milliseconds").replace("+00:00", "Z"),
                "api_key": key, "client_ip": ips[int(which[i])], "endpoint": "/v1/score",
                "method": "POST", "status": code,
                "latency_ms": round(float(self.rng.gamma(4, 5)), 1), "user_agent": agent,
            }  # fmt: skip
            if x is not None and outputs is not None and code == 200:
                row["input"] = [float(v) for v in x[i]]
                row["output"] = [float(v) for v in outputs[i]]
            self.traffic.rows.append(row)

    # ---------------------------------------------------------------- benign
    def interactive(self) -> None:
        key = self.key()
        a, b = self.network()
        ips = [f"{a}.{b}.{self.rng.integers(0, 256)}.{self.rng.integers(1, 255)}"
               for _ in range(int(self.rng.integers(1, 4)))]  # fmt: skip
        per_hour = float(self.rng.lognormal(3.0, 0.6))  # busy-hour requests
        times = []
        for day in range(2):
            for hour in range(24):
                shape = np.exp(-((hour - 13.5) ** 2) / 18) if 6 <= hour <= 21 else 0.02
                count = self.rng.poisson(per_hour * shape)
                times += list(START + day * DAY + hour * 3600 + self.rng.uniform(0, 3600, count))
        for _ in range(int(self.rng.integers(0, 3))):  # bursts of a few minutes
            at = START + float(self.rng.uniform(0.4, 0.7)) * DAY + int(self.rng.integers(2)) * DAY
            times += list(at + self.rng.uniform(0, 240, int(per_hour * self.rng.uniform(0.3, 1))))
        t = np.sort(np.array(times))
        segment = int(self.rng.integers(0, 3)) if self.rng.random() < 0.5 else None
        x = self.population.records(t.size, segment)
        retry = self.rng.random(t.size) < 0.01  # a retry repeats the previous request
        for i in np.flatnonzero(retry):
            if i > 0:
                x[i] = x[i - 1]
        status = np.where(self.rng.random(t.size) < 0.003, 401, 200)
        self.add(t, key, ips, x, f"checkout/{self.rng.integers(1, 9)}.0", status)
        self.traffic.benign_keys.add(key)

    def batch(self) -> None:
        key = self.key()
        a, b = self.network()
        ips = [f"{a}.{b}.7.{i}" for i in range(1, int(self.rng.integers(2, 4)))]
        n = int(self.rng.integers(800, 3000))
        at = START + float(self.rng.uniform(0.5, 4)) * 3600  # a nightly run ...
        times = []
        for day in range(2):  # ... on both nights, at about 20 requests a second
            times += list(at + day * DAY + np.cumsum(self.rng.exponential(0.05, n // 2)))
        t = np.array(times)
        self.add(t, key, ips, self.population.records(t.size), "batch-scorer/2.1")
        self.traffic.benign_keys.add(key)

    # ---------------------------------------------------------------- attacks
    def _attack(self, kind: str, key: str | None, ip: str | None) -> None:
        if key is not None:
            self.traffic.attack_keys.setdefault(kind, set()).add(key)
        if ip is not None:
            self.traffic.attack_ips.setdefault(kind, set()).add(ip)

    def _address(self) -> str:
        a, b = self.network()
        return f"{a}.{b}.{self.rng.integers(0, 256)}.{self.rng.integers(1, 255)}"

    def _when(self, n: int, gap: float) -> np.ndarray:
        start = START + float(self.rng.uniform(0.3, 1.5)) * DAY
        return start + np.cumsum(self.rng.exponential(gap, n))

    def extraction(self) -> None:
        key, ip = self.key(), self._address()
        spread = self.population.records(2000).std(axis=0)
        x = self.population.records(int(self.rng.integers(5, 15)))
        lam = float(self.rng.uniform(0.03, 0.1))
        while len(x) < 1200:  # Jacobian-based augmentation: every query stepped in each feature
            signs = self.rng.choice([-1.0, 1.0], size=x.shape)
            x = np.vstack([x, x + lam * spread * signs])
        x = np.round(x[:1200], 4)
        self.add(self._when(len(x), 2.0), key, [ip], x, "python-requests/2.32")
        self._attack("extraction", key, ip)

    def sweeper(self) -> None:
        key, ip = self.key(), self._address()
        spread = self.population.records(2000).std(axis=0)
        rows = []
        for template in self.population.records(2):
            i, j = self.rng.choice(FEATURES, 2, replace=False)
            steps = int(self.rng.integers(12, 20))
            for a in np.linspace(-2, 2, steps):
                for b in np.linspace(-2, 2, steps):
                    r = template.copy()
                    r[i] = round(template[i] + a * spread[i], 3)
                    r[j] = round(template[j] + b * spread[j], 3)
                    rows.append(r)
        x = np.array(rows)
        self.add(self._when(len(x), 1.5), key, [ip], x, "curl/8.5")
        self._attack("sweeper", key, ip)

    def hammerer(self) -> None:
        key, ip = self.key(), self._address()
        few = self.population.records(int(self.rng.integers(1, 5)))
        n = int(self.rng.integers(400, 900))
        x = few[self.rng.integers(0, len(few), n)]
        self.add(self._when(n, 1.0), key, [ip], x, "Go-http-client/1.1")
        self._attack("hammerer", key, ip)

    def sharer(self) -> None:
        key = self.key()
        ips = [self._address() for _ in range(30)]
        n = int(self.rng.integers(600, 1500))
        t = np.sort(START + self.rng.uniform(0.1, 1.9, n) * DAY)
        self.add(t, key, ips, self.population.records(n), "okhttp/4.12")
        self._attack("sharer", key, None)

    def rotator(self) -> None:
        ip = self._address()
        at = START + float(self.rng.uniform(0.2, 1.2)) * DAY
        for _ in range(8):
            key = self.key()
            n = int(self.rng.integers(80, 150))
            t = at + np.cumsum(self.rng.exponential(3.0, n))
            self.add(t, key, [ip], self.population.records(n), "python-requests/2.31")
            at = float(t[-1]) + float(self.rng.uniform(5, 60))
            self._attack("rotator", key, None)
        self._attack("rotator", None, ip)

    def sprayer(self) -> None:
        ip = self._address()
        at = START + float(self.rng.uniform(0.2, 1.8)) * DAY
        for i in range(20):
            key = f"sk_live_{self.rng.bytes(14).hex()}"
            t = at + i * 6 + self.rng.uniform(0, 5, int(self.rng.integers(1, 3)))
            self.add(np.sort(t), key, [ip], None, "curl/8.5", np.full(t.size, 401))
        self._attack("sprayer", None, ip)


def generate(seed: int, interactive: int = 30, batches: int = 5,
             attacks: tuple[str, ...] = ATTACKS) -> Traffic:  # fmt: skip
    b = Builder(seed)
    for _ in range(interactive):
        b.interactive()
    for _ in range(batches):
        b.batch()
    for attack in attacks:
        getattr(b, attack)()
    return b.traffic
