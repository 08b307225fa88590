"""Benchmark: the data scanner (`custos scan-data`) against Microsoft's presidio-analyzer, with
recall and precision per type for both, on one generated CSV of 16 columns: six of personal data
(email, phone, card, IBAN, SSN, IP) and ten decoys that look like identifiers (order ids failing
Luhn, SHA-256 digests, UUIDs, SKUs, amounts, merchant codes, timestamps, quantities, versions,
zip codes).

Figures:

  * "scan a 1M-row, 16-column CSV, default sample, whole process wall": what a CI job waits for
    `custos scan-data FILE --format json` (it reads every row and examines a uniform 10,000);
  * "PII scan of one 10,000-row sample, rows/s, in-process": the same work for both, timed
    the same way. Custos: `scan_file` on the sample file in a fresh process (imports done,
    its caches cold), best of 3. presidio-analyzer: its engine built, then run row by row,
    value by value, on the rows of the same sample file (its default recognizers; its NLP
    engine is a no-op one, as offline use needs: the default one downloads a spaCy model at
    run time). Presidio is slow, so it gets the first `--presidio-rows` rows of that sample
    (default 1,000). The ratio is Custos' rows/s over presidio's, goal >= 100x;
  * the same sample through `custos scan-data --sample all` as a whole process (start-up and
    JSON output included), for what a CI user waits;
  * recall and precision per type for both: recall = values of a column of that type reported
    as that type; precision = of all values reported as that type, those in its column. A decoy
    column reported as anything is printed by name.

Custos reports per column, so its recall is the column's count of the type over the rows
examined, and a decoy column counts as false positives for every row it flags.

presidio-analyzer runs in its own venv (benchmarks/.venv-presidio, made on the first full run;
`--quick` uses it only if it is there, otherwise the peer is "missing").

Run: .venv/bin/python benchmarks/data.py [--quick] [--json] [--rows N] [--presidio-rows N]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

# `python benchmarks/data.py` puts this folder first on sys.path: the shared contract.
from figures import Figure, at_least, compile_custos, emit, log, peer_venv, report

from custos.datascan.sample import reservoir

BENCHMARK = "data"
HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
PRESIDIO_VENV = HERE / ".venv-presidio"
PRESIDIO_PACKAGES = ("presidio-analyzer",)
GOAL_RATIO = 100.0
SAMPLE = 10_000
PII = {"email": "email", "phone": "phone", "card": "card", "iban": "iban", "ssn": "ssn",
       "ip": "ip"}  # fmt: skip
DECOYS = ("order_id", "sha256", "device_id", "sku", "amount", "merchant_code", "created_at",
          "quantity", "version", "zip")  # fmt: skip
PRESIDIO_TYPES = {"EMAIL_ADDRESS": "email", "PHONE_NUMBER": "phone", "CREDIT_CARD": "card",
                  "IBAN_CODE": "iban", "US_SSN": "ssn", "IP_ADDRESS": "ip"}  # fmt: skip

FIRST = ("james", "mary", "wei", "fatima", "lars", "ana", "noah", "emma", "ivan", "zoe")
LAST = ("smith", "garcia", "chen", "okafor", "jansen", "rossi", "novak", "kim", "dubois", "ali")
DOMAINS = ("example.com", "mail.example.org", "corp.example.net", "example.co.uk")


# -- the data -----------------------------------------------------------------------------------


def _luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def _card(rng: random.Random) -> str:
    prefix, length = rng.choice((("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("37", 15),
                                 ("6011", 16), ("3530", 16)))  # fmt: skip
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    number = body + _luhn_digit(body)
    if rng.random() < 0.3:
        return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    return number


def _not_luhn(rng: random.Random) -> str:
    body = "".join(rng.choice("0123456789") for _ in range(15))
    good = _luhn_digit(body)
    return body + str((int(good) + rng.randint(1, 9)) % 10)


def _iban(rng: random.Random) -> str:
    country, length = rng.choice((("DE", 22), ("GB", 22), ("FR", 27), ("NL", 18)))
    if country == "GB":
        bban = "NWBK" + "".join(rng.choice("0123456789") for _ in range(length - 8))
    elif country == "NL":
        bban = "ABNA" + "".join(rng.choice("0123456789") for _ in range(length - 8))
    else:
        bban = "".join(rng.choice("0123456789") for _ in range(length - 4))
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def _phone(rng: random.Random) -> str:
    area = rng.choice(("415", "212", "617", "303", "512", "206"))
    line = f"{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
    return rng.choice((
        f"({area}) {line[:3]}-{line[3:]}", f"{area}-{line[:3]}-{line[3:]}",
        f"+1 {area} {line[:3]} {line[3:]}", f"+44 20 7946 {rng.randint(0, 9999):04d}",
        f"{area}.{line[:3]}.{line[3:]}",
    ))  # fmt: skip


def _ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def row(rng: random.Random) -> list[str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return [
        f"{first}.{last}{rng.randint(1, 999)}@{rng.choice(DOMAINS)}",
        _phone(rng),
        _card(rng),
        _iban(rng),
        _ssn(rng),
        f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        _not_luhn(rng),
        hashlib.sha256(rng.randbytes(8)).hexdigest(),
        str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        f"SKU-{rng.randint(1000, 9999)}-{rng.choice('ABCDEFGH')}{rng.randint(10, 99)}",
        f"{rng.uniform(1, 5000):.2f}",
        str(rng.choice((5411, 5541, 5812, 5999, 7011, 4829))),
        f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
        f"{rng.randint(0, 59):02d}:00Z",
        str(rng.randint(1, 10_000_000)),
        f"{rng.randint(0, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}",
        f"{rng.randint(10000, 99999)}",
    ]


HEADER = [*PII, *DECOYS]


def write_csv(path: Path, rows: int) -> Path:
    if path.exists():
        return path
    part = path.with_name(path.name + ".part")
    rng = random.Random(15)
    with part.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for _ in range(rows):
            writer.writerow(row(rng))
    part.replace(path)
    return path


def write_sample(source: Path, target: Path, k: int) -> list[list[str]]:
    """The uniform sample `custos scan-data` would examine, as its own CSV: both tools get it."""
    with source.open(newline="") as f:
        reader = csv.reader(f)
        next(reader)
        kept, _total = reservoir(reader, k)
    with target.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(kept)
    return kept


# -- the runs -----------------------------------------------------------------------------------


def custos_scan(path: Path, *args: str) -> tuple[float, list[dict[str, Any]]]:
    command = [sys.executable, "-m", "custos", "scan-data", str(path), "--format", "json", *args]
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if done.returncode not in (0, 1):
        raise RuntimeError(f"custos scan-data failed ({done.returncode}): {done.stderr}")
    return seconds, json.loads(done.stdout)


IN_PROCESS = """
import sys, time
from pathlib import Path
from custos.datascan.scan import Settings, scan_file
path = Path(sys.argv[1])
t0 = time.perf_counter()
report = scan_file(path, Settings(sample=None))
print(time.perf_counter() - t0, report.rows_scanned)
"""


def custos_in_process(path: Path) -> float:
    """Seconds of one `scan_file` of the whole file in a fresh process (imports excluded)."""
    done = subprocess.run([sys.executable, "-c", IN_PROCESS, str(path)], capture_output=True,
                          text=True, check=True)  # fmt: skip
    return float(done.stdout.split()[0])


def custos_quality(report_: dict[str, Any]) -> dict[str, dict[str, float]]:
    rows = report_["rows_scanned"]
    columns = {c["name"]: {t["type"]: t["count"] for t in c["pii"]} for c in report_["columns"]}
    return _quality({c: {k: float(n) for k, n in found.items()} for c, found in columns.items()},
                    rows)  # fmt: skip


def _quality(found: dict[str, dict[str, float]], rows: int) -> dict[str, dict[str, float]]:
    """Recall and precision per type from `found` (column -> type -> values reported)."""
    out = {}
    for column, kind in PII.items():
        true = found.get(column, {}).get(kind, 0.0)
        false = sum(f.get(kind, 0.0) for c, f in found.items() if c != column)
        out[kind] = {
            "recall": true / rows if rows else 0.0,
            "precision": true / (true + false) if true + false else 0.0,
        }
    return out


def decoys_flagged(found: dict[str, dict[str, float]]) -> list[str]:
    return sorted(c for c in DECOYS if any(found.get(c, {}).values()))


PEER_SCRIPT = r'''
import csv, json, sys, time
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngine

class NoOpNlpEngine(NlpEngine):
    """No NER, no tokens: presidio's pattern recognizers alone, offline."""
    def load(self): pass
    def is_loaded(self): return True
    def process_text(self, text, language):
        return NlpArtifacts(entities=[], tokens=[], tokens_indices=[], lemmas=[],
                            nlp_engine=self, language=language)
    def process_batch(self, texts, language, batch_size=1, n_process=1, **kwargs):
        for text in texts:
            yield text, self.process_text(text, language)
    def is_stopword(self, word, language): return False
    def is_punct(self, word, language): return False
    def get_supported_entities(self): return []
    def get_supported_languages(self): return ["en"]

path, limit = sys.argv[1], int(sys.argv[2])
entities = ["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS"]
registry = RecognizerRegistry()
registry.load_predefined_recognizers()
engine = AnalyzerEngine(registry=registry, nlp_engine=NoOpNlpEngine(),
                        supported_languages=["en"])
with open(path, newline="") as f:
    reader = csv.reader(f)
    header = next(reader)
    rows = [r for _, r in zip(range(limit), reader)]
found = {c: {} for c in header}
t0 = time.perf_counter()
for r in rows:
    for column, value in zip(header, r):
        kinds = {x.entity_type for x in engine.analyze(text=value, language="en",
                                                        entities=entities)}
        for kind in kinds:
            found[column][kind] = found[column].get(kind, 0) + 1
seconds = time.perf_counter() - t0
import importlib.metadata as md
print(json.dumps({"seconds": seconds, "rows": len(rows), "found": found,
                  "version": md.version("presidio-analyzer")}))
'''


def ensure_presidio(install: bool) -> Path | None:
    return peer_venv(PRESIDIO_VENV, PRESIDIO_PACKAGES, install)


def presidio(python: Path, sample: Path, rows: int) -> dict[str, Any] | None:
    script = DATA / "presidio_peer.py"
    script.write_text(PEER_SCRIPT)
    done = subprocess.run([str(python), str(script), str(sample), str(rows)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        log(f"presidio failed: {done.stderr[-2000:]}")
        return None
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- the report ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 rows, 200 for presidio")
    parser.add_argument("--json", action="store_true", help="print one JSON object of figures")
    parser.add_argument("--rows", type=int, help="rows of the big CSV (default 1,000,000)")
    parser.add_argument("--presidio-rows", type=int, help="sample rows presidio gets (1,000)")
    args = parser.parse_args()
    rows = args.rows or (20_000 if args.quick else 1_000_000)
    peer_rows = args.presidio_rows or (200 if args.quick else 1_000)
    DATA.mkdir(parents=True, exist_ok=True)
    compile_custos()

    log(f"writing a {rows:,}-row, {len(HEADER)}-column CSV ...")
    big = write_csv(DATA / f"pii-{rows}.csv", rows)
    size_mb = big.stat().st_size / 1e6
    sample_path = DATA / f"pii-{rows}-sample.csv"
    write_sample(big, sample_path, SAMPLE)

    log("custos scan-data on the whole file (default sample) ...")
    custos_scan(big)  # warm the page cache
    whole_s, (whole,) = custos_scan(big)
    if whole["rows_total"] != rows or whole["rows_scanned"] != min(rows, SAMPLE):
        raise RuntimeError(f"custos counted {whole['rows_total']} rows of {rows}")
    log("custos scan-data on the sample file (every row) ...")
    runs = [custos_scan(sample_path, "--sample", "all") for _ in range(3)]
    process_s = min(s for s, _ in runs)
    (on_sample,) = runs[0][1]
    sampled_rows = on_sample["rows_scanned"]
    log("custos scan_file on the sample file, in-process ...")
    custos_rps = sampled_rows / min(custos_in_process(sample_path) for _ in range(3))
    quality = custos_quality(on_sample)
    custos_found = {c["name"]: {t["type"]: t["count"] for t in c["pii"]}
                    for c in on_sample["columns"]}  # fmt: skip

    python = ensure_presidio(install=not args.quick)
    peer = presidio(python, sample_path, peer_rows) if python else None
    peer_note = None if peer else ("missing" if python is None else "failed")
    peer_rps = peer["rows"] / peer["seconds"] if peer else None
    peer_quality: dict[str, dict[str, float]] = {}
    peer_decoys: list[str] = []
    if peer:
        mapped = {
            c: {PRESIDIO_TYPES[k]: float(n) for k, n in kinds.items() if k in PRESIDIO_TYPES}
            for c, kinds in peer["found"].items()
        }
        peer_quality = _quality(mapped, peer["rows"])
        peer_decoys = decoys_flagged(mapped)
    ratio = custos_rps / peer_rps if peer_rps else None
    suffix = "" if not args.quick else f" ({rows:,} rows, quick)"
    figures = [
        Figure(
            f"scan a {rows:,}-row, 16-column CSV ({size_mb:,.0f} MB), default sample, whole "
            "process wall",
            round(whole_s, 2),
            "s",
        ),
        Figure(
            f"PII scan of one {sampled_rows:,}-row sample, `custos scan-data --sample all` whole "
            f"process wall{suffix}",
            round(process_s, 2),
            "s",
        ),
        Figure(
            f"PII scan of one {sampled_rows:,}-row sample, rows/s in-process (presidio: row by "
            f"row, no-op NLP engine, first {peer_rows:,} rows){suffix}",
            round(custos_rps),
            "rows/s",
            "presidio-analyzer",
            round(peer_rps, 1) if peer_rps else None,
            peer_note,
            round(ratio, 1) if ratio else None,
            f">= {GOAL_RATIO:.0f}x presidio",
            None if args.quick else at_least(ratio, GOAL_RATIO),
        ),
    ]
    for kind in PII.values():
        mine = quality[kind]
        theirs = peer_quality.get(kind)
        better = theirs is None or (mine["recall"] >= theirs["recall"] - 1e-9)
        figures.append(Figure(
            f"recall of {kind} (precision {mine['precision']:.3f}; presidio's "
            f"{theirs['precision']:.3f})" if theirs else f"recall of {kind} (precision "
            f"{mine['precision']:.3f})",
            round(mine["recall"], 4), "share", "presidio-analyzer",
            round(theirs["recall"], 4) if theirs else None, peer_note,
            None, ">= presidio's recall", better if theirs else None,
        ))  # fmt: skip
    as_floats = {c: {k: float(n) for k, n in f.items()} for c, f in custos_found.items()}
    flagged = decoys_flagged(as_floats)
    figures.append(Figure("decoy columns flagged (of 10)", float(len(flagged)), "columns",
                          "presidio-analyzer", float(len(peer_decoys)) if peer else None,
                          peer_note, None, "0", len(flagged) == 0))  # fmt: skip
    result = report(
        BENCHMARK, figures, quick=args.quick,
        versions={"presidio-analyzer": peer["version"]} if peer else {},
        rows=rows, sample_rows=sampled_rows, presidio_rows=peer_rows,
        custos_decoys_flagged=flagged, presidio_decoys_flagged=peer_decoys,
        custos_quality=quality, presidio_quality=peer_quality,
    )  # fmt: skip
    if args.json:
        emit(result)
        return
    for f in figures:
        peer_text = f"{f.peer_value}" if f.peer_value is not None else (f.peer_note or "")
        print(f"{f.figure}: Custos {f.custos} {f.unit}; presidio {peer_text}; "
              f"ratio {f.ratio}; goal {f.goal}: {f.met}")  # fmt: skip
    print(f"decoys flagged: Custos {flagged}, presidio {peer_decoys}")


if __name__ == "__main__":
    main()
