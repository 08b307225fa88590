"""Benchmark: Custos' model-file scanner against picklescan, modelscan and fickling.

Generates three files (cached under benchmarks/.data/):
  * a ~500 MB pickle of NumPy arrays (goal: >= 2x picklescan's throughput, peak RSS <= 150 MB),
  * a pickle of ~8 million opcodes (goal: >= 2x faster than picklescan, bounded RSS),
  * a ~500 MB PyTorch-style zip (goal: no slower than picklescan),
then runs every scanner on each, one process at a time, and prints wall time, MB/s, opcodes/s
and peak RSS side by side. The peers are benchmark-only dependencies: they are installed into
benchmarks/.venv-peers on first run (PyPI), never into Custos' own environment.

Run: .venv/bin/python benchmarks/model_scan.py [--size-mb 500]
"""

from __future__ import annotations

import argparse
import os
import pickle
import pickletools
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
PEERS = HERE / ".venv-peers"
# With the extras each peer documents for the formats of benchmarks/differential.py (HDF5,
# ONNX, joblib, safetensors): without them a peer skips those files, which would understate it.
# TensorFlow (modelscan[tensorflow], modelaudit[tensorflow]) is left out: 600 MB for SavedModel.
PEER_PACKAGES = [
    "picklescan",
    "modelscan[h5py]",
    "fickling",
    "modelaudit[h5,onnx,joblib,safetensors]",
    "typing_extensions",
    "numpy",
]


@dataclass(frozen=True)
class Sample:
    name: str
    path: Path
    opcodes: int | None


def ensure_peers() -> Path:
    python = PEERS / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
    # Also when the venv predates the list (a peer or an extra added): install again.
    stamp = PEERS / ".packages"
    wanted = "\n".join(PEER_PACKAGES)
    if not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
        stamp.write_text(wanted)
    return PEERS / "bin"


def _numpy_pickle(path: Path, size_mb: int, peers: Path) -> None:
    # Generated with the peers' NumPy (benchmark-only); Custos itself never needs NumPy.
    code = (
        "import pickle, sys, numpy as np\n"
        "n = int(sys.argv[2])\n"
        "arrays = {f'layer{i}': np.full(1 << 20, i, dtype=np.float64) for i in range(n)}\n"
        "with open(sys.argv[1], 'wb') as f: pickle.dump(arrays, f, protocol=4)\n"
    )
    subprocess.run([str(peers / "python"), "-c", code, str(path), str(size_mb // 8)], check=True)


def _opcode_pickle(path: Path, target: int) -> int:
    # A flat list of small distinct ints: about two opcodes per item (BININT + MEMOIZE-free).
    items = list(range(target // 2))
    data = pickle.dumps(items, protocol=4)
    path.write_bytes(data)
    return sum(1 for _ in pickletools.genops(data))


def _torch_zip(path: Path, size_mb: int) -> None:
    header = pickle.dumps({"state_dict": {"weight": ("storage", "0", size_mb)}}, protocol=2)
    chunk = bytes(range(256)) * 4096  # 1 MiB
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", header)
        archive.writestr("archive/version", "3\n")
        with archive.open("archive/data/0", "w", force_zip64=True) as member:
            for _ in range(size_mb):
                member.write(chunk)


def samples(size_mb: int, peers: Path) -> list[Sample]:
    DATA.mkdir(exist_ok=True)
    numpy_pkl = DATA / f"numpy-{size_mb}mb.pkl"
    if not numpy_pkl.exists():
        _numpy_pickle(numpy_pkl, size_mb, peers)
    ops_pkl = DATA / "opcodes-8m.pkl"
    counted = DATA / "opcodes-8m.count"
    if not ops_pkl.exists() or not counted.exists():
        counted.write_text(str(_opcode_pickle(ops_pkl, 8_000_000)))
    torch_zip = DATA / f"torch-{size_mb}mb.pt"
    if not torch_zip.exists():
        _torch_zip(torch_zip, size_mb)
    return [
        Sample("numpy pickle", numpy_pkl, None),
        Sample("8M-opcode pickle", ops_pkl, int(counted.read_text())),
        Sample("pytorch zip", torch_zip, None),
    ]


# Peak RSS is measured by a small launcher process, not by this one: a child's ru_maxrss starts
# from its parent's RSS at fork and survives exec, so a big benchmark process would put its own
# size under every scanner's figure.
LAUNCHER = """
import os, sys, time
out = os.open(os.devnull, os.O_WRONLY)
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


# Bytecode caching on for every tool, as after a normal `pip install` (some CI images set
# PYTHONDONTWRITEBYTECODE, which would charge each run for compiling its own sources).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(cmd: list[str]) -> tuple[float, int, int]:
    """Wall seconds, peak RSS (KiB) and exit code of one scanner process."""
    # In a scratch directory: fickling writes a safety_results.json where it runs.
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(
            [sys.executable, "-S", "-c", LAUNCHER, *cmd],
            capture_output=True,
            text=True,
            check=True,
            cwd=scratch,
            env=ENV,
        )
    seconds, rss, code = done.stdout.split()
    return float(seconds), int(rss), int(code)


def best(cmd: list[str], repeat: int) -> tuple[float, int, int]:
    """The fastest of `repeat` runs (this machine's neighbours are noisy), with its RSS."""
    return min((run(cmd) for _ in range(repeat)), key=lambda r: r[0])


def floor_rss() -> int:
    """The launcher's own RSS (KiB), the least any measured process can show."""
    return run(["/bin/true"])[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool and file (best)")
    args = parser.parse_args()
    peers = ensure_peers()
    custos = Path(sys.executable).parent / "custos"
    scanners = {
        "custos": lambda p: [str(custos), "scan-model", str(p), "--format", "json"],
        "picklescan": lambda p: [str(peers / "picklescan"), "--path", str(p)],
        "modelscan": lambda p: [str(peers / "modelscan"), "-p", str(p)],
        "fickling": lambda p: [str(peers / "fickling"), "--check-safety", str(p)],
    }
    print(f"{'file':<18}{'scanner':<12}{'seconds':>9}{'MB/s':>9}{'Mop/s':>8}{'RSS MB':>9}"
          f"{'vs picklescan':>15}")  # fmt: skip
    print(f"(RSS floor of the measuring launcher: {floor_rss() / 1024:.0f} MB; "
          f"best of {args.repeat} runs each)")  # fmt: skip
    warm = DATA / "warm-up.pkl"
    warm.write_bytes(pickle.dumps({"a": 1}))
    for make in scanners.values():  # writes each tool's bytecode caches before timing
        run(make(warm))
    for sample in samples(args.size_mb, peers):
        size = sample.path.stat().st_size / 1e6
        rows = {name: best(make(sample.path), args.repeat) for name, make in scanners.items()}
        base = rows["picklescan"][0]
        for name, (seconds, rss_kib, _code) in rows.items():
            mops = f"{sample.opcodes / seconds / 1e6:8.2f}" if sample.opcodes else f"{'-':>8}"
            print(
                f"{sample.name:<18}{name:<12}{seconds:9.2f}{size / seconds:9.1f}{mops}"
                f"{rss_kib / 1024:9.0f}{base / seconds:14.2f}x"
            )
        print(f"{'':<18}({size:.0f} MB)")


if __name__ == "__main__":
    main()
