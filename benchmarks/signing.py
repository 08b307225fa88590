"""Benchmark: Custos signing and verification against the `model_signing` CLI.

Generates a model directory of 8 random files (2 GB in all by default, cached under
benchmarks/.data/), then, in the same run and with the page cache warmed for both, times:
  * Custos sign + verify (a key pair with an encrypted private key), and
  * `model_signing sign key` + `model_signing verify key` (its own console script),
each as a fresh process, best of --repeat runs, interleaved. It also measures the SHA-256
ceiling of this machine: one 256 MB buffer hashed by hashlib on one thread, times the cores.

Goals: Custos throughput >= 80% of that ceiling; Custos no slower than model_signing (ratio
<= 1.0). Both tools hash with the same engine (Custos reuses model-signing's), so the ratio
mostly shows the overhead around it.

Run: .venv/bin/python benchmarks/signing.py [--size-gb 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
FILES = 8
PASSPHRASE = "benchmark passphrase"  # noqa: S105 (a throwaway key made for this run)
MiB = 1 << 20

# Custos through its own process, like the peer: the CLI when registered, else the API.
CUSTOS_SIGN = (
    "import sys; from pathlib import Path; from custos.integrity.sign import sign; "
    "sign(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[4].encode(), Path(sys.argv[3]))"
)
CUSTOS_VERIFY = (
    "import sys; from pathlib import Path; "
    "from custos.integrity.verify import ExpectedKey, verify; "
    "r = verify(Path(sys.argv[1]), ExpectedKey(Path(sys.argv[2])), Path(sys.argv[3])); "
    "sys.exit(0 if r.ok else 1)"
)


def model_dir(size_gb: float) -> Path:
    """`FILES` random files totalling `size_gb`; reused when already there with that size."""
    each = int(size_gb * 1024 * MiB) // FILES
    directory = DATA / f"signing-{size_gb:g}gb"
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(FILES):
        part = directory / f"model-{i + 1:05d}-of-{FILES:05d}.bin"
        if part.exists() and part.stat().st_size == each:
            continue
        print(f"generating {part.name} ({each // MiB} MiB)", file=sys.stderr)
        with part.open("wb") as handle:
            left = each
            while left:
                chunk = min(left, 64 * MiB)
                handle.write(os.urandom(chunk))
                left -= chunk
    return directory


def ceiling_mb_s() -> tuple[float, float]:
    """hashlib SHA-256 on one 256 MB buffer (best of 3), single thread and times the cores."""
    buffer = os.urandom(256 * MiB)
    best = min(_timed(lambda: hashlib.sha256(buffer).digest()) for _ in range(3))
    single = 256 / best
    return single, single * (os.cpu_count() or 1)


def _timed(action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - start


def _run(args: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one child process."""
    # Bytecode caching on for both tools, as after a normal `pip install` (some images set
    # PYTHONDONTWRITEBYTECODE, which would charge every run for compiling its own sources).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(args)}\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def engine_mb_s(model: Path, size_mb: float, repeat: int) -> float:
    """Custos' hashing engine in this process (no start-up, no imports): best MB/s."""
    from custos.integrity.digests import hash_manifest

    return size_mb / min(_timed(lambda: hash_manifest(model)) for _ in range(repeat))


def _custos_registered() -> bool:
    try:
        from custos.cli.app import COMMANDS
    except ImportError:
        return False
    return "sign" in COMMANDS and "verify" in COMMANDS


def _keys(workdir: Path) -> dict[str, Path]:
    # One key for both tools. Custos gets it encrypted (what it requires); the model_signing
    # CLI passes --password to cryptography as str, which fails, so it gets the key unencrypted.
    key = ec.generate_private_key(ec.SECP256R1())
    paths = {n: workdir / n for n in ("enc.key", "plain.key", "key.pub")}
    paths["enc.key"].write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    ))  # fmt: skip
    paths["plain.key"].write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))  # fmt: skip
    paths["key.pub"].write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ))  # fmt: skip
    return paths


def commands(model: Path, workdir: Path, keys: dict[str, Path]) -> dict[str, list[str]]:
    py = sys.executable
    ours, theirs = workdir / "custos.sig", workdir / "model_signing.sig"
    peer = shutil.which("model_signing", path=str(Path(py).parent)) or "model_signing"
    console_script = str(Path(py).parent / "custos")  # as users run it, like the peer's
    if _custos_registered():
        custos_sign = [console_script, "sign", str(model), "--key", str(keys["enc.key"]),
                       "--signature", str(ours)]  # fmt: skip
        custos_verify = [console_script, "verify", str(model), "--key", str(keys["key.pub"]),
                         "--signature", str(ours)]  # fmt: skip
    else:
        custos_sign = [py, "-c", CUSTOS_SIGN, str(model), str(keys["enc.key"]), str(ours),
                       PASSPHRASE]  # fmt: skip
        custos_verify = [py, "-c", CUSTOS_VERIFY, str(model), str(keys["key.pub"]), str(ours)]
    return {
        "custos sign": custos_sign,
        "model_signing sign": [
            peer,
            "sign",
            "key",
            str(model),
            "--private_key",
            str(keys["plain.key"]),
            "--signature",
            str(theirs),
        ],
        "custos verify": custos_verify,
        "model_signing verify": [
            peer,
            "verify",
            "key",
            str(model),
            "--public_key",
            str(keys["key.pub"]),
            "--signature",
            str(theirs),
        ],
        # Interop, timed but not compared: model_signing verifying Custos' signature.
        "model_signing verifies custos": [
            peer,
            "verify",
            "key",
            str(model),
            "--public_key",
            str(keys["key.pub"]),
            "--signature",
            str(ours),
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=2.0, help="Model size (default 2).")
    parser.add_argument("--repeat", type=int, default=3, help="Runs per command; best is kept.")
    args = parser.parse_args()
    console = Console(width=150)

    model = model_dir(args.size_gb)
    size_mb = sum(p.stat().st_size for p in model.iterdir()) / MiB
    load_before = os.getloadavg()[0]
    os.environ["CUSTOS_SIGNING_PASSPHRASE"] = PASSPHRASE
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    ceilings: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="custos-bench-") as tmp:
        workdir = Path(tmp)
        cmds = commands(model, workdir, _keys(workdir))
        for part in model.iterdir():  # warm the page cache so neither tool pays for the disk
            with part.open("rb") as handle:
                while handle.read(16 * MiB):
                    pass
        for _ in range(args.repeat):
            ceilings.append(ceiling_mb_s())
            for name, cmd in cmds.items():  # interleaved: noise hits both tools alike
                seconds, cpu_seconds = _run(cmd)
                wall[name] = min(wall.get(name, float("inf")), seconds)
                cpu[name] = min(cpu.get(name, float("inf")), cpu_seconds)
    engine = engine_mb_s(model, size_mb, args.repeat)
    single, ceiling = max(ceilings, key=lambda c: c[1])
    cores = os.cpu_count() or 1

    table = Table(title=f"Signing {size_mb / 1024:.2f} GiB in {FILES} files, best of {args.repeat}")
    for column in ("operation", "Custos wall s", "Custos MB/s", "Custos CPU s",
                   "model_signing wall s", "model_signing MB/s", "model_signing CPU s",
                   "wall ratio", "CPU ratio"):  # fmt: skip
        table.add_column(column, justify="right")
    ratios = []
    for op in ("sign", "verify"):
        ours, theirs = wall[f"custos {op}"], wall[f"model_signing {op}"]
        ours_cpu, theirs_cpu = cpu[f"custos {op}"], cpu[f"model_signing {op}"]
        ratios.append(ours / theirs)
        table.add_row(op, f"{ours:.2f}", f"{size_mb / ours:.0f}", f"{ours_cpu:.2f}",
                      f"{theirs:.2f}", f"{size_mb / theirs:.0f}", f"{theirs_cpu:.2f}",
                      f"{ours / theirs:.2f}", f"{ours_cpu / theirs_cpu:.2f}")  # fmt: skip
    console.print(table)
    interop = wall["model_signing verifies custos"]
    console.print(f"model_signing verifies Custos' signature: ok ({interop:.2f} s)")
    console.print(
        f"SHA-256 ceiling: {single:.0f} MB/s on one thread x {cores} cores = {ceiling:.0f} MB/s"
    )
    console.print(
        f"Custos hashing engine in-process (no start-up): {engine:.0f} MB/s = "
        f"{100 * engine / ceiling:.0f}% of the ceiling (goal >= 80%): "
        + ("ok" if engine >= 0.8 * ceiling else "BELOW GOAL")
    )
    for op in ("sign", "verify"):
        pct = 100 * size_mb / wall[f"custos {op}"] / ceiling
        console.print(f"Custos {op} end to end (with process start-up): {pct:.0f}% of the ceiling")
    worst = max(ratios)
    console.print(
        f"Custos vs model_signing, worst wall-time ratio {worst:.2f} (goal <= 1.00): "
        + ("ok" if worst <= 1.0 else "SLOWER")
    )
    load_after = os.getloadavg()[0]
    if max(load_before, load_after) > cores / 2:
        console.print(
            f"[yellow]warning:[/yellow] load average {load_before:.1f} -> {load_after:.1f} on "
            f"{cores} cores: other work shared the CPUs, so wall times are pessimistic; "
            "CPU seconds are the steadier comparison."
        )


if __name__ == "__main__":
    main()
