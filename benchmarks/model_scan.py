"""Benchmark: Custos' model-file scanner against picklescan, modelscan and fickling, on large
and small benign model files, every verdict checked (issue 14, section 1).

Files (generated once, cached under benchmarks/.data/; sizes and opcode counts below are read
from the files, never assumed):
  * a NumPy pickle of ~500 MB (`--size-mb`): float64 arrays pickled by NumPy itself;
  * a pickle of ~4M opcodes: a flat list of ints, its opcodes counted with pickletools.genops;
  * a small PyTorch checkpoint (~100 KB): `torch.save` of a small model's state dict when
    torch is importable, else a PyTorch-style zip built by hand;
  * a PyTorch-style zip of ~500 MB (`--size-mb`): a small data.pkl and one large storage.

Every tool runs as a whole process, as a user runs it (`differential.measure`: wall time, CPU
time of the process, peak RSS of the process), its exit code and output judged by the same
rules as benchmarks/differential.py. The files are benign: a tool that flags one is
"false-pos", one that errs or reads nothing is "failed", one not installed is "missing"; none
of them is a time, and no ratio is computed from them. Custos' verdict is checked the same
way (it must say clean). Large files: the best of `--repeat` runs (the least disturbed on a
shared machine); the small checkpoint, where start-up dominates: the median of
`--small-repeat` runs. Peak RSS is the largest of the runs.

Figures (ratio = picklescan's seconds / Custos' seconds; > 1: Custos is faster):
  * scan ~500 MB NumPy pickle vs picklescan, whole process wall: goal >= 4x;
    and Custos' peak RSS on it: goal <= 64 MB;
  * scan ~4M-opcode pickle vs picklescan, whole process wall: goal >= 4x;
    and Custos' peak RSS on it: bounded (<= 64 MB);
  * scan small PyTorch checkpoint vs picklescan, whole process wall: goal >= 1.5x;
  * scan ~500 MB PyTorch-style zip vs picklescan, whole process wall: goal >= 1.0x (no slower);
  * for each file, Custos' in-process time (`scan_paths` with the default policy, best of the
    repeats, no interpreter start-up or imports): no goal, it shows what start-up costs.
modelscan and fickling are in the table, judged the same way, but no figure is built on them.

Run: .venv/bin/python benchmarks/model_scan.py [--size-mb 500] [--quick] [--json]
  --quick: tiny files (3 MB, ~20k opcodes, 2 MB zip), one run each (three for the small
    checkpoint), a few seconds; peers are used only if already installed (never installed).
  --peers DIR: a venv with the peers, used as it is. Without it (and without --quick) the
    peers are installed into benchmarks/.venv-peers (PyPI), never into Custos' environment.
  --json: one JSON object on stdout (benchmarks/figures.py); progress on stderr.
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import pickletools
import statistics
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

# `python benchmarks/model_scan.py` puts this folder first on sys.path: the shared contract.
from figures import Figure, at_least, at_most, compile_custos, emit, log, report

if TYPE_CHECKING:
    from differential import Run, Tool

BENCHMARK = "model-scan"
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
# The tools of this benchmark (ModelAudit is in benchmarks/differential.py only).
TOOLS = ("custos", "picklescan", "modelscan", "fickling")
BASE = "picklescan"  # every ratio is against it
RSS_GOAL_MB = 64.0
OPCODES_FULL = 4_000_000
OPCODES_QUICK = 20_000
QUICK_SIZE_MB = {"numpy": 3, "zip": 2}

# Bytecode caching on for every tool, as after a normal `pip install` (some CI images set
# PYTHONDONTWRITEBYTECODE, which would charge each run for compiling its own sources).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


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


# --- the files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    key: str  # stable id: numpy, opcodes, torch-small, torch-zip
    what: str  # "520 MB NumPy pickle": from the file as written
    path: Path
    opcodes: int | None  # counted with pickletools.genops, None when not a plain pickle
    repeat: int
    stat: str  # "best" or "median": how the runs of one tool are summarised
    goal: float  # least ratio picklescan / Custos
    goal_words: str
    rss_goal: str = ""  # a Custos RSS figure too, with this goal in words


def _written(path: Path, write: Callable[[Path], object]) -> Path:
    """Write through a temporary name: an interrupted run must not leave a truncated file
    that every later run would take from the cache as the real sample."""
    if not path.exists():
        part = path.with_name(path.name + ".part")
        try:
            write(part)
            part.replace(path)
        finally:
            part.unlink(missing_ok=True)
    return path


def _numpy_python(peers: Path) -> str | None:
    """A Python with NumPy: the peers' (benchmark-only; Custos itself never needs NumPy), else
    this one (a --quick run without peers)."""
    for python in (peers / "python", Path(sys.executable)):
        if python.exists():
            found = subprocess.run([str(python), "-c", "import numpy"], capture_output=True)
            if found.returncode == 0:
                return str(python)
    return None


def _numpy_pickle(path: Path, size_mb: int, python: str) -> None:
    # Arrays of 8 MiB as before (a cached 500 MB file stays valid); 1 MiB ones for tiny sizes.
    floats = 1 << 20 if size_mb >= 64 else 1 << 17
    count = max(1, size_mb * (1 << 20) // (floats * 8))
    code = (
        "import pickle, sys, numpy as np\n"
        "n, size = int(sys.argv[2]), int(sys.argv[3])\n"
        "arrays = {f'layer{i}': np.full(size, i, dtype=np.float64) for i in range(n)}\n"
        "with open(sys.argv[1], 'wb') as f: pickle.dump(arrays, f, protocol=4)\n"
    )
    subprocess.run([python, "-c", code, str(path), str(count), str(floats)], check=True)


def _opcode_pickle(path: Path, target: int) -> None:
    # A flat list of distinct ints: one BININT* per item, plus MARK/APPENDS per 1,000 items
    # and the FRAMEs of protocol 4; the exact count is taken from the file (count_opcodes).
    with path.open("wb") as out:
        pickle.dump(list(range(target)), out, protocol=4)


def count_opcodes(path: Path) -> int:
    """The opcodes of `path`, counted once with pickletools.genops and kept next to it (keyed
    by the file's size, so a regenerated file is counted again)."""
    sidecar = path.with_name(path.name + ".count")
    size = path.stat().st_size
    if sidecar.exists():
        known_size, _, known = sidecar.read_text().partition(" ")
        if int(known_size) == size:
            return int(known)
    with path.open("rb") as data:
        count = sum(1 for _ in pickletools.genops(data))
    sidecar.write_text(f"{size} {count}")
    return count


def _torch_zip(path: Path, size: int) -> None:
    """A PyTorch-style zip of `size` bytes of storage, built by hand (no torch needed)."""
    header = pickle.dumps({"state_dict": {"weight": ("storage", "0", size)}}, protocol=2)
    chunk = bytes(range(256)) * 4096  # 1 MiB
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", header)
        archive.writestr("archive/version", "3\n")
        with archive.open("archive/data/0", "w", force_zip64=True) as member:
            for start in range(0, size, len(chunk)):
                member.write(chunk[: size - start])


# A real checkpoint: the state dict of a small model (~25k float32 parameters, ~100 KB),
# seeded so every machine writes the same tensors.
TORCH_SAVE = """
import sys, torch
torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Linear(128, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64), torch.nn.ReLU(),
    torch.nn.Linear(64, 10),
)
torch.save(model.state_dict(), sys.argv[1])
"""


def _small_checkpoint(folder: Path) -> tuple[Path, str]:
    """torch.save's checkpoint if torch is importable here, else the zip built by hand."""
    real = folder / "torch-small-state-dict.pt"
    if not real.exists():
        try:
            _written(real, lambda p: _run_quiet([sys.executable, "-c", TORCH_SAVE, str(p)]))
        except subprocess.CalledProcessError:
            log("torch is not importable: the small checkpoint is a zip built by hand")
    if real.exists():
        return real, "PyTorch checkpoint (torch.save)"
    by_hand = _written(folder / "torch-small-by-hand.pt", lambda p: _torch_zip(p, 100_000))
    return by_hand, "PyTorch-style zip (by hand)"


def _run_quiet(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def _size(n: int) -> str:
    return f"{n / 1e6:.0f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


def _count(n: int) -> str:
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.0f}k"


def samples(
    size_mb: int, quick: bool, peers: Path, small_repeat: int, repeat: int
) -> tuple[list[Sample], dict[str, str]]:
    """The four files, and the ones that could not be written (key -> why)."""
    DATA.mkdir(parents=True, exist_ok=True)
    numpy_mb = QUICK_SIZE_MB["numpy"] if quick else size_mb
    zip_mb = QUICK_SIZE_MB["zip"] if quick else size_mb
    out: list[Sample] = []
    skipped: dict[str, str] = {}
    python = _numpy_python(peers)
    if python is None:
        skipped["numpy"] = "no Python with NumPy (neither the peers' nor this one)"
    else:
        path = _written(
            DATA / f"numpy-{numpy_mb}mb.pkl", lambda p: _numpy_pickle(p, numpy_mb, python)
        )
        what = f"{_size(path.stat().st_size)} NumPy pickle"
        out.append(Sample("numpy", what, path, None, repeat, "best", 4.0, ">= 4x picklescan",
                          f"<= {RSS_GOAL_MB:.0f} MB"))  # fmt: skip
    target = OPCODES_QUICK if quick else OPCODES_FULL
    path = _written(DATA / f"opcodes-{target}.pkl", lambda p: _opcode_pickle(p, target))
    ops = count_opcodes(path)
    what = f"{_count(ops)}-opcode pickle"
    out.append(Sample("opcodes", what, path, ops, repeat, "best", 4.0, ">= 4x picklescan",
                      f"bounded: <= {RSS_GOAL_MB:.0f} MB"))  # fmt: skip
    path, kind = _small_checkpoint(DATA)
    what = f"{_size(path.stat().st_size)} {kind}"
    out.append(Sample("torch-small", what, path, None, small_repeat, "median", 1.5,
                      ">= 1.5x picklescan"))  # fmt: skip
    path = _written(DATA / f"torch-{zip_mb}mb.pt", lambda p: _torch_zip(p, zip_mb * (1 << 20)))
    what = f"{_size(path.stat().st_size)} PyTorch-style zip"
    out.append(Sample("torch-zip", what, path, None, repeat, "best", 1.0,
                      ">= 1.0x picklescan (no slower)"))  # fmt: skip
    return out, skipped


# --- measuring ---------------------------------------------------------------------------


def _differential() -> ModuleType:
    """benchmarks/differential.py (its tools, judges, launcher and versions). Imported when
    needed, not at the top: it imports ENV, PEERS and ensure_peers from this module."""
    import differential

    return differential


@dataclass
class Result:
    tool: str
    outcome: str  # clean | false-pos | failed | missing
    detail: str = ""
    seconds: float | None = None  # wall: best or median of the runs; None unless clean
    cpu: float | None = None  # CPU of the process (user + system), same summary
    rss_mb: float | None = None  # peak RSS of the process, the largest of the runs
    runs: list[dict[str, Any]] = field(default_factory=list)  # every run as measured


def outcome(verdict: str) -> str:
    """Every file here is benign: a flag is a false positive."""
    return {"clean": "clean", "flagged": "false-pos"}.get(verdict, verdict)


def summarise(name: str, runs: list[Run], stat: str) -> Result:
    result = Result(name, "clean", runs=[asdict(r) for r in runs])
    wrong = [r for r in runs if r.verdict != "clean"]
    if wrong:  # a failure or a false positive is never a time
        result.outcome, result.detail = outcome(wrong[0].verdict), wrong[0].detail
        return result
    if stat == "best":  # the least disturbed run on a shared machine, with its CPU
        fastest = min(runs, key=lambda r: r.seconds)
        result.seconds, result.cpu = fastest.seconds, fastest.cpu
    else:
        result.seconds = statistics.median(r.seconds for r in runs)
        result.cpu = statistics.median(r.cpu for r in runs)
    result.rss_mb = max(r.rss_kib for r in runs) / 1024
    return result


def time_tool(tool: Tool, sample: Sample) -> Result:
    """`sample.repeat` whole-process runs; stops at the first wrong one (its time is not
    used, and a peer that times out would otherwise cost the timeout every repeat)."""
    if not tool.binary.exists():
        return Result(tool.name, "missing", "not installed")
    measure = _differential().measure
    runs: list[Run] = []
    for _ in range(sample.repeat):
        runs.append(measure(tool, sample.path))
        if runs[-1].verdict != "clean":
            break
    return summarise(tool.name, runs, sample.stat)


@dataclass
class InProcess:
    seconds: float | None  # None: Custos raised
    verdict: str  # clean | false-pos | failed
    detail: str


def in_process(path: Path, repeat: int) -> InProcess:
    """Custos' scan alone, in this process (imports done, no interpreter start-up): the best
    of `repeat` runs of exactly what `custos scan-model` calls."""
    from custos.findings import Severity
    from custos.modelfile.policy import Policy
    from custos.modelfile.scan import scan_paths

    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            reports = scan_paths([path], Policy.default())
        except Exception as exc:  # a crash is a verdict here ("failed"), not the end of the run
            return InProcess(None, "failed", f"{type(exc).__name__}: {exc}"[:160])
        best = min(best, time.perf_counter() - start)
    findings = [f for r in reports for f in r.findings if f.severity >= Severity.medium]
    errors = [r.error for r in reports if r.error]
    if findings:
        rules = ", ".join(sorted({f.rule for f in findings}))
        return InProcess(best, "false-pos", rules[:160])
    if errors:
        return InProcess(best, "failed", str(errors[0])[:160])
    return InProcess(best, "clean", "")


def rss_floor() -> float:
    """The launcher's own peak RSS (MB): the least any measured process can show."""
    diff = _differential()
    true = diff.Tool("true", Path("/bin/true"), lambda _p: [], lambda *_a: ("clean", ""))
    return float(diff.measure(true, Path("/")).rss_kib) / 1024


# --- figures -----------------------------------------------------------------------------


def _peer(result: Result) -> tuple[float | None, str | None]:
    """The peer's value, or why there is none ("failed: ...", "false-pos: ...", "missing")."""
    if result.outcome == "clean":
        return result.seconds, None
    return None, f"{result.outcome}: {result.detail}" if result.detail else result.outcome


def figures_for(sample: Sample, results: dict[str, Result], inproc: InProcess) -> list[Figure]:
    custos, base = results["custos"], results[BASE]
    mine = custos.seconds if custos.outcome == "clean" else None
    theirs, note = _peer(base)
    ratio = theirs / mine if theirs is not None and mine else None
    # Custos wrong on a benign file is a goal not met, whatever the peer did.
    met = False if mine is None else at_least(ratio, sample.goal)
    out = [
        Figure(f"scan {sample.what} vs {BASE}, whole process wall", mine, "s", BASE, theirs,
               note, ratio, sample.goal_words, met),
    ]  # fmt: skip
    if sample.rss_goal:
        rss = custos.rss_mb if custos.outcome == "clean" else None
        peer_rss = base.rss_mb if base.outcome == "clean" else None
        rss_ratio = peer_rss / rss if peer_rss is not None and rss else None
        out.append(
            Figure(f"scan {sample.what}, Custos peak RSS (whole process)", rss, "MB", BASE,
                   peer_rss, note, rss_ratio, sample.rss_goal,
                   False if rss is None else at_most(rss, RSS_GOAL_MB))
        )  # fmt: skip
    seconds = inproc.seconds if inproc.verdict == "clean" else None
    best_of = in_process_repeat(sample)
    out.append(Figure(f"scan {sample.what}, Custos in-process (scan_paths, best of {best_of})",
                      seconds, "s"))  # fmt: skip
    return out


def in_process_repeat(sample: Sample) -> int:
    # The small checkpoint's whole-process runs are a median of many; in-process, the best of
    # a few is enough (the same count as the figure's label, see figures_for).
    return max(1, sample.repeat if sample.stat == "best" else 3)


# --- the table ---------------------------------------------------------------------------


def print_table(
    samples_: list[Sample],
    results: dict[str, dict[str, Result]],
    inproc: dict[str, InProcess],
    figures: list[Figure],
) -> None:
    print(f"{'file':<40}{'tool':<12}{'verdict':<10}{'wall s':>8}{'CPU s':>8}{'MB/s':>8}"
          f"{'Mop/s':>7}{'RSS MB':>8}{'vs ' + BASE:>16}")  # fmt: skip
    for sample in samples_:
        size = sample.path.stat().st_size / 1e6
        base = results[sample.key][BASE].seconds
        label = sample.what
        for name, r in results[sample.key].items():
            if r.seconds is None:
                print(f"{label:<40}{name:<12}{r.outcome:<10}{r.detail[:90]}")
            else:
                mops = f"{sample.opcodes / r.seconds / 1e6:7.2f}" if sample.opcodes else "      -"
                ratio = f"{base / r.seconds:15.2f}x" if base is not None else f"{'-':>16}"
                print(f"{label:<40}{name:<12}{r.outcome:<10}{r.seconds:8.3f}{r.cpu:8.3f}"
                      f"{size / r.seconds:8.1f}{mops}{r.rss_mb:8.0f}{ratio}")  # fmt: skip
            label = ""
        ip = inproc[sample.key]
        how = f"(Custos' scan_paths, best of {in_process_repeat(sample)}) {ip.detail}"
        took = "-" if ip.seconds is None else f"{ip.seconds:.3f}"
        print(f"{'':<40}{'in-process':<12}{ip.verdict:<10}{took:>8}  {how}".rstrip())
        print(f"{'':<40}({sample.path.name}: {sample.stat} of {sample.repeat} run(s))")
    print("\nfigures (ratio = picklescan / Custos; > 1: Custos better)")
    for f in figures:
        value = "-" if f.custos is None else _value(f.custos, f.unit)
        peer = f.peer_note or ("" if f.peer_value is None else _value(f.peer_value, f.unit))
        ratio = "" if f.ratio is None else f"{f.ratio:.2f}x"
        met = {True: "met", False: "NOT met", None: "-"}[f.met] if f.goal else ""
        parts = [
            f"{f.peer} {peer}" if f.peer else "",
            ratio,
            f"goal {f.goal}: {met}" if f.goal else "",
        ]
        print(f"- {f.figure}: " + "; ".join([value, *(p for p in parts if p)]))


def _value(value: float, unit: str) -> str:
    return f"{value:.0f} MB" if unit == "MB" else f"{value:.3f} {unit}"


# --- main --------------------------------------------------------------------------------


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=500, help="large files (MB)")
    parser.add_argument("--repeat", type=int, default=None, help="large files: runs (best)")
    parser.add_argument("--small-repeat", type=int, default=None, help="small file (median)")
    parser.add_argument("--quick", action="store_true", help="tiny files, no peer install")
    parser.add_argument("--json", action="store_true", help="print one JSON object of figures")
    parser.add_argument(
        "--peers",
        type=Path,
        default=None,
        help=f"a venv with the peers, used as it is (default: {PEERS}, installed if needed)",
    )
    args = parser.parse_args(argv)
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.small_repeat = args.small_repeat or (3 if args.quick else 9)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.peers is None and not args.quick:
        ensure_peers()
    # Absolute: every tool runs in a scratch directory (differential.measure).
    peers_bin = (args.peers or PEERS).absolute() / "bin"
    diff = _differential()
    tools = [t for t in diff.tools(peers_bin) if t.name in TOOLS]
    present = [t for t in tools if t.binary.exists()]
    missing = [t.name for t in tools if not t.binary.exists()]
    versions = diff.versions(peers_bin, present)
    log("tools: " + ", ".join(f"{t.name} {versions.get(t.name, '?')}" for t in present)
        + ("; missing (not counted): " + ", ".join(missing) if missing else ""))  # fmt: skip

    files, skipped = samples(args.size_mb, args.quick, peers_bin, args.small_repeat, args.repeat)
    # The peers were pip-installed, which compiles their bytecode; Custos is an editable
    # checkout and this shell may set PYTHONDONTWRITEBYTECODE=1: without this, Custos alone
    # would be charged for compiling its sources (the warm-up below does the same for a peer
    # whose caches are missing).
    compile_custos()
    warm = _written(DATA / "warm-up.pkl", lambda p: p.write_bytes(pickle.dumps({"a": 1})))
    for tool in present:
        diff.measure(tool, warm)
    in_process(warm, 1)  # Custos' imports in this process, before the in-process timings
    floor = rss_floor()

    results: dict[str, dict[str, Result]] = {}
    inproc: dict[str, InProcess] = {}
    figures: list[Figure] = []
    for sample in files:
        log(f"{sample.what}: {sample.path}")
        results[sample.key] = {t.name: time_tool(t, sample) for t in tools}
        inproc[sample.key] = in_process(sample.path, in_process_repeat(sample))
        figures += figures_for(sample, results[sample.key], inproc[sample.key])

    extra = {
        "files": [file_json(s, results[s.key], inproc[s.key]) for s in files],
        "missing": missing,
        "skipped": skipped,
        "rss_floor_mb": floor,
    }
    if args.json:
        emit(report(BENCHMARK, figures, quick=args.quick, versions=versions, **extra))
        return 0
    print("model-scan benchmark; tools: "
          + ", ".join(f"{t.name} {versions.get(t.name, '?')}" for t in present)
          + (f"; missing (not counted): {', '.join(missing)}" if missing else ""))  # fmt: skip
    print(f"RSS floor of the measuring launcher: {floor:.0f} MB; whole-process times: wall "
          f"and CPU of the scanner's process, as the user waits\n")  # fmt: skip
    print_table(files, results, inproc, figures)
    for key, why in skipped.items():
        print(f"skipped {key}: {why}")
    return 0


def file_json(sample: Sample, results: dict[str, Result], inproc: InProcess) -> dict[str, Any]:
    return {
        "key": sample.key,
        "what": sample.what,
        "file": sample.path.name,
        "bytes": sample.path.stat().st_size,
        "opcodes": sample.opcodes,
        "runs": sample.repeat,
        "summary": sample.stat,
        "results": {name: asdict(r) for name, r in results.items()},
        "custos_in_process": asdict(inproc),
    }


if __name__ == "__main__":
    sys.exit(main())
