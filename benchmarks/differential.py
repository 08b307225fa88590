"""Differential test: Custos and every installed peer scanner on one labelled corpus.

Generates malicious and clean files for every class Custos knows (benchmarks/diffcorpus.py:
pickles and zip tricks by hand; PyTorch, NumPy, scikit-learn/joblib, Keras on the torch
backend, safetensors, ONNX and GGUF files by the real libraries where they are installed),
runs `custos scan-model` and each peer (picklescan, modelscan, fickling, ModelAudit) on every
file as a whole process with its best settings, and prints one table per file class: each
tool's verdict, per-class medians of wall time, CPU time and peak RSS, and every disagreement.

Verdicts: flagged (a malicious file reported), clean (a clean file passed), MISSED (a
malicious file passed), FALSE-POS (a clean file reported), failed (the tool exited with an
error, crashed, or said it scanned nothing: read from its exit code and its output), missing
(the tool is not installed: never counted). A failure is never a fast time.

Run: .venv/bin/python benchmarks/differential.py [--quick] [--json]
  --quick: a small hand-built corpus in seconds; peers are used only if already installed.
  The full run installs the peers into benchmarks/.venv-peers (see model_scan.ensure_peers).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from diffcorpus import (
    LIBRARY_KINDS,
    Sample,
    torch_layout,
    write_pickle,
    write_text_and_tar,
    write_zip,
)
from figures import Figure, at_least, compile_custos, machine, now, report
from model_scan import ENV, PEERS, ensure_peers

HERE = Path(__file__).resolve().parent
CUSTOS = Path(sys.executable).parent / "custos"
TIMEOUT = 300  # seconds per process: a hang is "failed", never a fast time

# Peers phone home unless told not to; without a network that is a stall, not a scan.
PEER_ENV = {**ENV, "PROMPTFOO_DISABLE_TELEMETRY": "1", "NO_ANALYTICS": "1", "COLUMNS": "100000"}

# A small launcher measures each tool (as model_scan.LAUNCHER does: the child's ru_maxrss
# would otherwise start from this process's RSS), and keeps its output for the verdict.
LAUNCHER = """
import os, sys, time
flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
out, err = os.open(sys.argv[1], flags), os.open(sys.argv[2], flags)
nul = os.open(os.devnull, os.O_RDONLY)
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(nul, 0)
    os.dup2(out, 1)
    os.dup2(err, 2)
    os.execv(sys.argv[3], sys.argv[3:])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss,
      os.waitstatus_to_exitcode(status))
"""


@dataclass
class Run:
    verdict: str  # flagged | clean | failed
    seconds: float
    cpu: float
    rss_kib: int
    code: int
    detail: str = ""
    scanned: int | None = None  # files the tool says it read (custos, picklescan)


@dataclass(frozen=True)
class Tool:
    name: str
    binary: Path
    argv: Callable[[Path], list[str]]
    judge: Callable[[int, str, str], tuple[str, str]]  # (code, stdout, stderr) -> verdict
    env: dict[str, str] = field(default_factory=lambda: ENV)


def first_line(text: str, *needles: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for needle in needles:
        for line in lines:
            if needle.lower() in line.lower():
                return line[:160]
    return lines[-1][:160] if lines else ""


def json_object(text: str) -> Any:
    """The JSON document in a tool's stdout (some print banners before it)."""
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start < 0:
        return None
    try:
        return json.loads(text[start:])
    except ValueError:
        return None


def judge_custos(code: int, out: str, err: str) -> tuple[str, str]:
    # exit 1: a finding at or above medium (the default --fail-on); 0: none; else an error
    reports = json_object(out)
    if not isinstance(reports, list) or code not in (0, 1):
        return "failed", f"exit {code}: {first_line(err or out, 'error')}"
    findings = [f for r in reports for f in r["findings"]]
    worst = {f["rule"] for f in findings if f["severity"] in ("medium", "high", "critical")}
    return ("flagged" if code == 1 else "clean"), ", ".join(sorted(worst))[:160]


def judge_picklescan(code: int, out: str, err: str) -> tuple[str, str]:
    # exit 0 clean, 1 infected, 2 scan error (also when something was found before the error:
    # a finding in the output is a verdict all the same); "Scanned files: 0": it read nothing
    text = out + err
    if code == 1 or (code == 2 and " FOUND" in out):
        return "flagged", first_line(out, "FOUND", "dangerous", "suspicious")
    if code != 0:
        return "failed", f"exit {code}: {first_line(text, 'error', 'exception')}"
    if "Scanned files: 0" in out:
        return "failed", "scanned nothing (format not handled)"
    return "clean", ""


def judge_modelscan(code: int, out: str, err: str) -> tuple[str, str]:
    # -r json; exit 0 clean, 1 issues, 2 errors (even when issues were also found), 3 nothing
    # supported was scanned. Its console wraps long lines (COLUMNS is set wide; joining the
    # lines again is the fallback).
    report = json_object(out)
    if report is None:
        report = json_object(out.replace("\n", ""))
    issues = report.get("issues", []) if isinstance(report, dict) else []
    if issues or code == 1:
        return "flagged", "; ".join(sorted({str(i.get("description"))[:70] for i in issues}))
    if code == 3:
        return "failed", "skipped: no supported file (exit 3)"
    if code != 0 or not isinstance(report, dict):
        errors = report.get("errors", []) if isinstance(report, dict) else []
        why = str(errors[0].get("description", errors[0]))[:140] if errors else first_line(out)
        return "failed", f"exit {code}: {why}"
    return "clean", ""


PARSE_ONLY = ("has invalid opcode", "has malformed opcode")


def judge_fickling(code: int, out: str, err: str) -> tuple[str, str]:
    # --check-safety: exit 0 likely safe, 1 unsafe, 2 parse error. An uncaught exception also
    # exits 1, and bytes that are no pickle at all are reported as "invalid opcodes": both are
    # a failure to read the file, not a verdict on it.
    if "Traceback (most recent call last)" in err:
        return "failed", f"crashed: {first_line(err.split('Traceback')[-1], 'Error:')}"
    findings = [line for line in out.splitlines() if line.strip()]
    if code == 1 and findings and all(any(p in f for p in PARSE_ONLY) for f in findings):
        return "failed", f"not a pickle: {findings[0][:120]}"
    if code == 1:
        return "flagged", first_line(out or err, "suspicious", "malicious", "unsafe")
    if code != 0:
        return "failed", f"exit {code}: {first_line(err or out, 'error', 'failed')}"
    return "clean", ""


def judge_modelaudit(code: int, out: str, err: str) -> tuple[str, str]:
    # exit 0 no issues, 1 issues, 2 errors during scanning
    # Exit 2 also when the scan stopped early after a critical finding: a verdict all the same.
    report = json_object(out)
    issues = report.get("issues", []) if isinstance(report, dict) else []
    if code == 1 or (code == 2 and any(i.get("severity") == "critical" for i in issues)):
        shown = [i for i in issues if i.get("severity") not in ("info", "debug")]
        why = "; ".join(sorted({str(i.get("message"))[:70] for i in shown}))[:160]
        return "flagged", (f"exit {code}, " if code != 1 else "") + why
    if code != 0 or not isinstance(report, dict):
        why = "; ".join(str(i.get("message"))[:80] for i in issues[:2]) or first_line(err or out)
        return "failed", f"exit {code}: {why}"
    if not report.get("files_scanned"):
        return "failed", "scanned nothing"
    return "clean", ""


def tools(peers: Path) -> list[Tool]:
    """Each tool with its best settings for a local file (from its --help)."""
    return [
        Tool("custos", CUSTOS, lambda p: ["scan-model", str(p), "--format", "json"], judge_custos),
        Tool("picklescan", peers / "picklescan", lambda p: ["--path", str(p)], judge_picklescan),
        Tool(
            "modelscan",
            peers / "modelscan",
            lambda p: ["-p", str(p), "-r", "json"],
            judge_modelscan,
            PEER_ENV,
        ),
        Tool(
            "fickling",
            peers / "fickling",
            lambda p: ["--check-safety", "--print-results", str(p)],
            judge_fickling,
        ),
        # --no-cache: a cached verdict would be a fast time that scanned nothing
        Tool(
            "modelaudit",
            peers / "modelaudit",
            lambda p: ["scan", "--format", "json", "--no-cache", str(p)],
            judge_modelaudit,
            PEER_ENV,
        ),
    ]


def measure(tool: Tool, path: Path) -> Run:
    """One whole process of `tool` on `path`, in a scratch directory (fickling writes
    safety_results.json, modelscan looks for a settings file where it runs)."""
    with tempfile.TemporaryDirectory() as scratch:
        out, err = Path(scratch) / "stdout", Path(scratch) / "stderr"
        cmd = [sys.executable, "-S", "-c", LAUNCHER, str(out), str(err), str(tool.binary)]
        proc = subprocess.Popen(
            [*cmd, *tool.argv(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=scratch,
            env=tool.env,
            start_new_session=True,
        )
        try:
            stdout, stderr = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the launcher and the tool it runs
            proc.communicate()
            return Run("failed", TIMEOUT, TIMEOUT, 0, -9, f"timed out after {TIMEOUT} s")
        if proc.returncode != 0:
            raise RuntimeError(f"launcher failed: {stderr}")
        seconds, cpu, rss, code = stdout.split()
        text_out = out.read_text(errors="replace")
        text_err = err.read_text(errors="replace")
    run = Run("failed", float(seconds), float(cpu), int(rss), int(code))
    if run.code < 0:
        run.detail = f"killed by signal {-run.code}: {first_line(text_err)}"
        return run
    run.verdict, run.detail = tool.judge(run.code, text_out, text_err)
    run.scanned = scanned_count(tool.name, text_out)
    return run


def scanned_count(name: str, out: str) -> int | None:
    """How many files a run read, for the directory row: the same folder must mean the same
    work (picklescan picks files by extension, Custos reads every file)."""
    if name == "custos":
        reports = json_object(out)
        if isinstance(reports, list):
            return sum(1 for r in reports if r.get("format") != "directory")
    if name == "picklescan":
        for line in out.splitlines():
            if line.startswith("Scanned files:"):
                return int(line.split(":", 1)[1])
    return None


def outcome(sample: Sample, verdict: str) -> str:
    if verdict == "flagged":
        return "flagged" if sample.malicious else "FALSE-POS"
    if verdict == "clean":
        return "MISSED" if sample.malicious else "clean"
    return verdict  # failed


def generate(out: Path, quick: bool) -> tuple[list[Sample], dict[str, str]]:
    """The corpus, and the classes that could not be generated (class -> why)."""
    samples = write_pickle(out, quick) + write_zip(out, quick)
    skipped: dict[str, str] = {}
    if quick:
        return samples, skipped
    samples += write_text_and_tar(out)
    env = {**os.environ, "KERAS_BACKEND": "torch", "PYTHONWARNINGS": "ignore"}
    for kind, libraries in LIBRARY_KINDS.items():
        folder = out / kind
        try:
            done = subprocess.run(
                [sys.executable, str(HERE / "diffcorpus.py"), kind, str(folder)],
                capture_output=True,
                text=True,
                env=env,
                timeout=600,
            )
        except subprocess.TimeoutExpired:
            skipped[kind] = "not generated: the writer took more than 600 s"
            continue
        if done.returncode != 0:
            last = done.stderr.strip().splitlines()[-1:] or ["?"]
            skipped[kind] = f"not generated (needs {libraries}): {last[0][:120]}"
            continue
        for line in done.stdout.splitlines():
            if line.startswith("{"):
                samples.append(Sample(**json.loads(line)))
    return samples, skipped


def small_files_dir(out: Path, count: int) -> Path:
    """A model folder of many small files both scanners read: pickles and PyTorch zips
    (picklescan picks files by extension, Custos by content; these two it reads either way)."""
    import pickle

    folder = out / "small-files"
    folder.mkdir()
    for i in range(count):
        if i % 5 == 4:
            data = torch_layout(pickle.dumps({"step": i, "w": list(range(i % 50))}, protocol=2))
            (folder / f"shard-{i:04d}.pt").write_bytes(data)
        else:
            value = {"id": i, "name": f"item{i}", "v": [i * 0.5] * (i % 40), "t": (i, str(i))}
            (folder / f"part-{i:04d}.pkl").write_bytes(pickle.dumps(value, protocol=i % 6))
    return folder


def versions(peers: Path, present: list[Tool]) -> dict[str, str]:
    found: dict[str, str] = {}
    code = (
        "import sys, importlib.metadata as m\n"
        "for n in sys.argv[1:]:\n"
        "    try: print(n, m.version(n))\n"
        "    except m.PackageNotFoundError: pass\n"
    )
    custos = [t.name for t in present if t.name == "custos"]
    others = [t.name for t in present if t.name != "custos"]  # tool name = package name
    for python, wanted in ((sys.executable, custos), (str(peers / "python"), others)):
        if wanted and Path(python).exists():
            done = subprocess.run([python, "-c", code, *wanted], capture_output=True, text=True)
            for line in done.stdout.splitlines():
                name, _, version = line.partition(" ")
                found[name] = version
    return found


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small corpus, no peer install")
    parser.add_argument("--json", action="store_true", help="print one JSON object of figures")
    parser.add_argument("--save", type=Path, help="also write that JSON object to this file")
    parser.add_argument(
        "--peers", type=Path, default=PEERS, help="peers' venv (default: %(default)s)"
    )
    parser.add_argument("--dir-files", type=int, default=None, help="files in the directory row")
    parser.add_argument("--dir-repeat", type=int, default=None, help="runs per tool (median)")
    args = parser.parse_args()
    say: Callable[[str], None] = (lambda _s: None) if args.json else print

    args.peers = args.peers.resolve()  # tools run from a scratch folder: a relative path breaks
    if not args.quick and args.peers == PEERS:
        ensure_peers()
    peers_bin = args.peers / "bin"
    everyone = tools(peers_bin)
    present = [t for t in everyone if t.binary.exists()]
    missing = [t.name for t in everyone if not t.binary.exists()]
    found_versions = versions(peers_bin, present)
    say(f"differential test, {now()}; machine: {machine()}")
    say(
        "tools: "
        + ", ".join(f"{t.name} {found_versions.get(t.name, '?')}" for t in present)
        + ("; missing (not counted): " + ", ".join(missing) if missing else "")
    )

    work = Path(tempfile.mkdtemp(prefix="custos-differential-"))
    try:
        samples, skipped = generate(work, args.quick)
        compile_custos()
        warm = work / "warm-up.pkl"
        warm.write_bytes(b"\x80\x04K\x01.")
        for tool in present:  # each tool writes its bytecode caches before anything is timed
            measure(tool, warm)
        results: dict[str, dict[str, Run]] = {}
        for sample in samples:
            results[sample.path] = {t.name: measure(t, Path(sample.path)) for t in present}
        figures = tables(samples, results, present, missing, skipped, say)
        count = args.dir_files or (20 if args.quick else 300)
        repeat = args.dir_repeat or (1 if args.quick else 5)
        figures["directory"] = directory_row(work, present, count, repeat, say)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures = figures_report(figures, found_versions, missing, args.quick)
    if args.json:
        print(json.dumps(figures, indent=1, sort_keys=True))
    if args.save:
        args.save.write_text(json.dumps(figures, indent=1, sort_keys=True))
    return 0


def tables(
    samples: list[Sample],
    results: dict[str, dict[str, Run]],
    present: list[Tool],
    missing: list[str],
    skipped: dict[str, str],
    say: Callable[[str], None],
) -> dict[str, Any]:
    names = [t.name for t in present]
    width = max(12, *(len(n) + 2 for n in names))
    classes: dict[str, Any] = {}
    disagreements: list[dict[str, Any]] = []
    for cls in dict.fromkeys(s.cls for s in samples):
        group = [s for s in samples if s.cls == cls]
        bad = sum(s.malicious for s in group)
        say(f"\n== {cls}: {len(group)} files ({bad} malicious, {len(group) - bad} clean)")
        say(f"{'file':<34}{'label':<7}" + "".join(f"{n:>{width}}" for n in names))
        rows = []
        for s in group:
            marks = {n: outcome(s, results[s.path][n].verdict) for n in names}
            label = "evil" if s.malicious else "clean"
            say(f"{s.name[:33]:<34}{label:<7}" + "".join(f"{marks[n]:>{width}}" for n in names))
            rows.append(
                {
                    "file": s.name,
                    "malicious": s.malicious,
                    "what": s.what,
                    "results": {
                        n: asdict(results[s.path][n]) | {"outcome": marks[n]} for n in names
                    },
                }
            )
            if len(set(marks.values())) > 1:
                disagreements.append(
                    {
                        "class": cls,
                        "file": s.name,
                        "malicious": s.malicious,
                        "what": s.what,
                        "outcomes": marks,
                        "details": {n: results[s.path][n].detail for n in names},
                    }
                )
        tally: dict[str, Any] = {}
        for n in names:
            runs = [results[s.path][n] for s in group]
            seen = [outcome(s, r.verdict) for s, r in zip(group, runs, strict=True)]
            timed = [r for r in runs if r.verdict != "failed"]  # a failure is not a time
            tally[n] = {
                "caught": seen.count("flagged"),
                "malicious": bad,
                "missed": seen.count("MISSED"),
                "false_pos": seen.count("FALSE-POS"),
                "failed": seen.count("failed"),
                "median_seconds": median([r.seconds for r in timed]),
                "median_cpu": median([r.cpu for r in timed]),
                "median_rss_mb": median([r.rss_kib / 1024 for r in timed]),
            }
        for key, label in (
            ("caught", "caught"),
            ("missed", "missed"),
            ("false_pos", "false pos"),
            ("failed", "failed"),
        ):
            counts = "".join(
                f"{(f'{tally[n][key]}/{bad}' if key == 'caught' else str(tally[n][key])):>{width}}"
                for n in names
            )
            say(f"{label:<41}{counts}")
        for key, label, fmt in (
            ("median_seconds", "median wall s", "{:.2f}"),
            ("median_cpu", "median CPU s", "{:.2f}"),
            ("median_rss_mb", "median peak RSS MB", "{:.0f}"),
        ):
            cells = [fmt.format(tally[n][key]).replace("nan", "-") for n in names]
            say(f"{label:<41}" + "".join(f"{c:>{width}}" for c in cells))
        classes[cls] = {"files": rows, "tally": tally}
    for kind, why in skipped.items():
        say(f"\n== {kind}: {why}")
    say(f"\n== disagreements: {len(disagreements)}")
    for d in disagreements:
        label = "malicious" if d["malicious"] else "clean"
        say(f"- {d['class']}/{d['file']} ({label}: {d['what']})")
        for n, mark in d["outcomes"].items():
            detail = d["details"][n]
            say(f"    {n:<11} {mark:<9} {detail}")
    if missing:
        say(f"\nmissing (not counted): {', '.join(missing)}")
    return {"classes": classes, "disagreements": disagreements, "skipped": skipped}


def directory_row(
    work: Path, present: list[Tool], count: int, repeat: int, say: Callable[[str], None]
) -> dict[str, Any]:
    """`scan-model DIR` against picklescan on the same folder (goal: Custos >= 1.5x)."""
    folder = small_files_dir(work, count)
    row: dict[str, Any] = {"files": count, "runs": repeat}
    for tool in present:
        if tool.name not in ("custos", "picklescan"):
            continue
        runs = [measure(tool, folder) for _ in range(repeat)]
        good = [r for r in runs if r.verdict == "clean"]
        row[tool.name] = {
            "verdict": runs[0].verdict,
            "scanned": runs[0].scanned,
            "detail": runs[0].detail,
            "median_seconds": median([r.seconds for r in good]),
            "median_cpu": median([r.cpu for r in good]),
            "median_rss_mb": median([r.rss_kib / 1024 for r in good]),
        }
    say(f"\n== directory of {count} small files (.pkl, .pt), median of {repeat}")
    for name in ("custos", "picklescan"):
        if name in row:
            r = row[name]
            say(
                f"{name:<12}{r['verdict']:<9}{r['median_seconds']:8.2f} s wall"
                f"{r['median_cpu']:8.2f} s CPU{r['median_rss_mb']:7.0f} MB"
                f"   {r['scanned']} files read"
            )
    if "custos" in row and "picklescan" in row:
        speedup = row["picklescan"]["median_seconds"] / row["custos"]["median_seconds"]
        row["speedup_vs_picklescan"] = speedup
        say(f"custos vs picklescan: {speedup:.2f}x (goal >= 1.5x)")
    return row


def figures_report(
    raw: dict[str, Any], versions: dict[str, str], missing: list[str], quick: bool
) -> dict[str, Any]:
    """The summary rows (benchmarks/figures.py) beside the full tables: per class, whether
    Custos caught every malicious file without a false positive, and its median wall time
    against the fastest peer that gave verdicts (goal: the fastest); then the directory row."""
    rows: list[Figure] = []
    for cls, data in raw["classes"].items():
        tally = data["tally"]
        mine = tally["custos"]
        right = mine["missed"] == 0 and mine["false_pos"] == 0 and mine["failed"] == 0
        rows.append(
            Figure(
                f"differential, {cls}: malicious caught (false positives, failures must be 0)",
                float(mine["caught"]),
                "files",
                goal=f"all {mine['malicious']}, none wrong",
                met=right and mine["caught"] == mine["malicious"],
            )
        )
        rows.append(fastest_peer(cls, tally))
    directory = raw["directory"]
    if "custos" in directory:
        ours = directory["custos"]["median_seconds"]
        peer = directory.get("picklescan")
        speedup = directory.get("speedup_vs_picklescan")
        rows.append(
            Figure(
                f"scan-model on a directory of {directory['files']} small files vs picklescan, "
                "whole process wall (median)",
                ours,
                "s",
                peer="picklescan",
                peer_value=peer["median_seconds"] if peer else None,
                peer_note=None if peer else "missing",
                ratio=speedup,
                goal=">= 1.5x",
                met=None if quick else at_least(speedup, 1.5),
            )
        )
    return report("differential", rows, quick=quick, versions=versions, missing=missing, **raw)


def fastest_peer(cls: str, tally: dict[str, Any]) -> Figure:
    """Custos' median wall time on a class against the fastest peer that judged every file
    of it (a peer that failed on some is not a time: it did less work)."""
    ours = tally["custos"]["median_seconds"]
    peers = {
        name: t["median_seconds"]
        for name, t in tally.items()
        if name != "custos" and t["failed"] == 0 and t["median_seconds"] == t["median_seconds"]
    }
    label = f"differential, {cls}: median whole-process wall vs the fastest peer"
    if not peers:
        return Figure(label, ours, "s", peer_note="missing or failed", goal=">= 1.0x (fastest)")
    name = min(peers, key=lambda n: peers[n])
    ratio = peers[name] / ours if ours else None
    return Figure(
        label, ours, "s", peer=name, peer_value=peers[name], ratio=ratio,
        goal=">= 1.0x (fastest)", met=at_least(ratio, 1.0),
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
