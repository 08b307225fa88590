"""Benchmark: encryption at rest, file to file. `custos encrypt` and `custos decrypt` against age
(through pyrage, the Python binding of the Rust `rage`) on the same file.

Figures, best of 3, on a 2 GiB random file (`--quick`: 64 MiB). Custos is timed as a whole
process (`custos encrypt`, `custos decrypt`); pyrage as the `encrypt_file`/`decrypt_file` call
alone (its interpreter start is not counted), which flatters the peer, not Custos:

  * encrypt and decrypt throughput, Custos against pyrage, goal >= 2 GB/s and >= 3x pyrage.
    Custos fsyncs its output before renaming it into place (a decryption must never leave half a
    file); pyrage writes and returns, without an fsync. That is more work for Custos, and the
    figure keeps it.
  * a plain durable copy of the same file for context: GNU dd with conv=fsync, as a whole
    process. Custos overlaps its writing and flushing with the sealing (custos._files), dd does
    not, which is how an encryption can outrun a copy.
  * Custos' peak RSS while encrypting (bounded: a few segments, not the file).

Both run with a key already at hand: Custos with an environment KEK (no scrypt), pyrage with an
X25519 identity generated in memory.

pyrage runs in its own venv (benchmarks/.venv-age, made on the first full run; `--quick` uses it
only if it is there, otherwise the peer is "missing").

Run: .venv/bin/python benchmarks/encryption.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# `python benchmarks/encryption.py` puts this folder first on sys.path: the shared contract.
from figures import Figure, at_least, compile_custos, emit, log, peer_venv, report

BENCHMARK = "encryption"
HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
AGE_VENV = HERE / ".venv-age"
AGE_PACKAGES = ("pyrage",)
GOAL_GBPS = 2.0
GOAL_RATIO = 3.0
RUNS = 3

PEER = r"""
import json, sys, time
import pyrage
source, mode = sys.argv[1], sys.argv[2]
identity = pyrage.x25519.Identity.generate()
recipient = identity.to_public()
sealed = source + ".age"
plain = source + ".age.out"
t0 = time.perf_counter()
pyrage.encrypt_file(source, sealed, [recipient])
encrypt_s = time.perf_counter() - t0
t0 = time.perf_counter()
pyrage.decrypt_file(sealed, plain, [identity])
decrypt_s = time.perf_counter() - t0
import importlib.metadata as md
print(json.dumps({"encrypt_s": encrypt_s, "decrypt_s": decrypt_s,
                  "version": md.version("pyrage")}))
"""


def write_random(path: Path, size: int) -> Path:
    if path.exists() and path.stat().st_size == size:
        return path
    part = path.with_name(path.name + ".part")
    with part.open("wb") as f:
        left = size
        while left:
            block = os.urandom(min(left, 1 << 24))
            f.write(block)
            left -= len(block)
    part.replace(path)
    return path


def timed(command: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} failed: {done.stderr[-1000:]}")
    return seconds


def custos_runs(source: Path, work: Path) -> tuple[float, float, float]:
    """(best encrypt s, best decrypt s, peak RSS MB of an encryption)."""
    env = {**os.environ, "BENCH_KEK": base64.b64encode(os.urandom(32)).decode()}
    custos = [sys.executable, "-m", "custos"]
    subprocess.run([*custos, "kek", "create", "bench", "--env", "BENCH_KEK", "--dir", str(work)],
                   check=True, env=env, capture_output=True)  # fmt: skip
    sealed, plain = work / "sealed.cenc", work / "plain.out"
    encrypt = [*custos, "encrypt", str(source), "--out", str(sealed), "--dir", str(work)]
    decrypt = [*custos, "decrypt", str(sealed), "--out", str(plain), "--dir", str(work)]
    enc, dec = [], []
    for _ in range(RUNS):
        enc.append(timed(encrypt, env))
        dec.append(timed(decrypt, env))
    if plain.stat().st_size != source.stat().st_size:
        raise RuntimeError("the decrypted file differs in size from the source")
    # A fresh launcher with one child: its children's peak RSS is that encryption's alone.
    launcher = (
        "import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], check=True, capture_output=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    done = subprocess.run([sys.executable, "-c", launcher, *encrypt], capture_output=True,
                          text=True, env=env, check=True)  # fmt: skip
    return min(enc), min(dec), int(done.stdout.split()[-1]) / 1024


def ceiling_runs(source: Path, work: Path) -> float | None:
    """A plain durable copy of the same file, for context: GNU dd copying it in 1 MiB blocks
    and fsyncing the copy, as a whole process (best of RUNS)."""
    target = work / "copy.bin"
    command = ["dd", f"if={source}", f"of={target}", "bs=1M", "conv=fsync", "status=none"]
    try:
        best = min(timed(command, dict(os.environ)) for _ in range(RUNS))
    except (OSError, RuntimeError) as exc:
        log(f"dd failed: {exc}")
        return None
    target.unlink(missing_ok=True)
    return best


def ensure_age(install: bool) -> Path | None:
    return peer_venv(AGE_VENV, AGE_PACKAGES, install)


def age_runs(python: Path, source: Path) -> dict[str, Any] | None:
    script = DATA / "age_peer.py"
    script.write_text(PEER)
    results = []
    for _ in range(RUNS):
        done = subprocess.run([str(python), str(script), str(source), "file"],
                              capture_output=True, text=True, check=False)  # fmt: skip
        if done.returncode != 0:
            log(f"pyrage failed: {done.stderr[-1000:]}")
            return None
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    for leftover in (Path(f"{source}.age"), Path(f"{source}.age.out")):
        leftover.unlink(missing_ok=True)
    return {
        "encrypt_s": min(r["encrypt_s"] for r in results),
        "decrypt_s": min(r["decrypt_s"] for r in results),
        "version": results[0]["version"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="64 MiB instead of 2 GiB")
    parser.add_argument("--json", action="store_true", help="print one JSON object of figures")
    args = parser.parse_args()
    size = (64 << 20) if args.quick else (2 << 30)
    DATA.mkdir(parents=True, exist_ok=True)
    compile_custos()
    log(f"writing {size >> 20} MiB of random bytes ...")
    source = write_random(DATA / f"random-{size >> 20}mib.bin", size)
    with tempfile.TemporaryDirectory(dir=DATA) as scratch:
        log("custos encrypt / decrypt ...")
        enc_s, dec_s, rss_mb = custos_runs(source, Path(scratch))
        log("dd copy with fsync (a plain durable copy) ...")
        dd_s = ceiling_runs(source, Path(scratch))
    python = ensure_age(install=not args.quick)
    peer = age_runs(python, source) if python else None
    note = None if peer else ("missing" if python is None else "failed")
    gb = size / 1e9
    label = f"{size >> 20} MiB" if args.quick else "2 GiB"
    figures = []
    for what, mine, theirs in (("encrypt", enc_s, peer and peer["encrypt_s"]),
                               ("decrypt", dec_s, peer and peer["decrypt_s"])):  # fmt: skip
        ratio = theirs / mine if theirs else None
        figures.append(Figure(
            f"{what} a {label} file, file to file, best of {RUNS} (Custos: whole process, "
            f"fsync; pyrage: in-process, no fsync)",
            round(gb / mine, 2), "GB/s", "pyrage (age)",
            round(gb / theirs, 2) if theirs else None, note,
            round(ratio, 2) if ratio else None,
            f">= {GOAL_GBPS:g} GB/s and >= {GOAL_RATIO:g}x pyrage",
            None if args.quick else bool(
                gb / mine >= GOAL_GBPS and (at_least(ratio, GOAL_RATIO) or False)
            ),
        ))  # fmt: skip
    if dd_s is not None:
        figures.append(Figure(
            f"encrypt a {label} file against a plain durable copy of it (GNU dd, 1 MiB "
            "blocks, conv=fsync; both whole processes)",
            round(gb / enc_s, 2), "GB/s", "dd copy + fsync", round(gb / dd_s, 2), None,
            round(dd_s / enc_s, 2), "context: what this disk gives a copy that does not "
            "overlap writing and flushing", None,
        ))  # fmt: skip
    figures.append(Figure(f"encrypt a {label} file, Custos peak RSS", round(rss_mb, 1), "MB",
                          goal="bounded: <= 64 MB", met=rss_mb <= 64))  # fmt: skip
    result = report(BENCHMARK, figures, quick=args.quick,
                    versions={"pyrage": peer["version"]} if peer else {}, size=size)  # fmt: skip
    if args.json:
        emit(result)
        return
    for f in figures:
        peer_text = f"{f.peer_value}" if f.peer_value is not None else (f.peer_note or "")
        print(f"{f.figure}: Custos {f.custos} {f.unit}; pyrage {peer_text}; ratio {f.ratio}; "
              f"goal {f.goal}: {f.met}")  # fmt: skip


if __name__ == "__main__":
    main()
