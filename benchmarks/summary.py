"""Every benchmark in one run, ending with one table: figure, Custos, peer, ratio, goal, met?

Runs each benchmark script with `--json` (see benchmarks/figures.py for the contract), one
after the other so none disturbs another's timings, shows their progress, and prints the rows
they report. `--write FILE` puts the table, the machine, the versions and the date into FILE
between the `<!-- bench-summary:start -->` and `<!-- bench-summary:end -->` markers
(docs/benchmarks.md). A benchmark that crashes or prints no JSON is a row that says so and
makes the exit code 1; a goal that is not met is shown as such and is not an error.

Run: .venv/bin/python benchmarks/summary.py [--quick] [--only NAME ...] [--write FILE]
     .venv/bin/python benchmarks/summary.py --from-json A.json B.json   (table from saved runs)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCHMARKS = {  # name -> script, in the order they run (the cheap ones first)
    "assess-scale": "assess_scale.py",
    "model-scan": "model_scan.py",
    "differential": "differential.py",
    "data": "data.py",
    "data-integrity": "data_integrity.py",
    "runtime": "runtime.py",
    "repo-scan": "repo_scan.py",
    "osv-match": "osv_match.py",
    "robustness": "robustness.py",
    "encryption": "encryption.py",
    "ledger": "ledger.py",
    "ledger-core": "ledger_core.py",
    "signing": "signing.py",
    "server": "server.py",
}
START, END = "<!-- bench-summary:start -->", "<!-- bench-summary:end -->"


def run_one(name: str, quick: bool, save: Path | None) -> dict[str, Any]:
    """One benchmark's JSON object, or a stand-in that says how it failed."""
    script = HERE / BENCHMARKS[name]
    argv = [sys.executable, str(script), "--json", *(["--quick"] if quick else [])]
    print(f"== {name}: {' '.join(argv[1:])}", file=sys.stderr, flush=True)
    done = subprocess.run(argv, stdout=subprocess.PIPE, text=True, cwd=HERE.parent)
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        result = {}
    if done.returncode != 0 or not isinstance(result.get("figures"), list):
        why = f"exit {done.returncode}" if done.returncode else "no JSON object on stdout"
        return {"benchmark": name, "failed": why, "figures": []}
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        (save / f"{name}.json").write_text(json.dumps(result, indent=1, sort_keys=True))
    return result


def number(value: float | None, unit: str = "") -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    if unit == "%":
        return f"{value:.0f} %"
    digits = 0 if abs(value) >= 100 else 2 if abs(value) >= 0.1 else 3
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}".strip()


def rows(results: list[dict[str, Any]]) -> list[list[str]]:
    table: list[list[str]] = []
    for result in results:
        if "failed" in result:
            table.append([f"{result['benchmark']}: did not finish", "-", "-", "-", "-",
                          f"FAILED ({result['failed']})"])  # fmt: skip
            continue
        for f in result["figures"]:
            if f["peer"] and f["peer_value"] is not None:
                peer = f"{f['peer']} {number(f['peer_value'], f['unit'])}"
            elif f["peer"] or f["peer_note"]:
                peer = f"{f['peer'] or 'peer'}: {f['peer_note'] or 'no value'}"
            else:
                peer = ""
            ratio = f"{f['ratio']:.2f}x" if f["ratio"] is not None else ""
            met = {True: "yes", False: "NO", None: "-"}[f["met"]]
            table.append([f["figure"], number(f["custos"], f["unit"]), peer, ratio, f["goal"], met])
    return table


def markdown(results: list[dict[str, Any]]) -> str:
    header = ["figure", "Custos", "peer", "ratio", "goal", "met?"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows(results):
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    done = [r for r in results if "failed" not in r]
    first = done[0] if done else {}
    versions: dict[str, str] = {}
    for result in done:
        versions |= result.get("versions", {})
    machine = first.get("machine", {})
    quick = any(r.get("quick") for r in done)
    return "\n".join(
        [
            f"Run of {first.get('date', '?')}{' (--quick: not the goals sizes)' if quick else ''}"
            f" on {machine.get('cpu', '?')}, {machine.get('nproc', '?')} CPUs, "
            f"Python {machine.get('python', '?')}.",
            "Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) + ".",
            "",
            *lines,
        ]
    )


def text_table(results: list[dict[str, Any]]) -> str:
    header = ["figure", "Custos", "peer", "ratio", "goal", "met?"]
    body = rows(results)
    widths = [min(72, max(len(r[i]) for r in [header, *body])) for i in range(len(header))]
    out = []
    for row in [header, *body]:
        out.append("  ".join(cell[: widths[i]].ljust(widths[i]) for i, cell in enumerate(row)))
    return "\n".join(out)


def write(path: Path, text: str) -> None:
    """Replace the marked section of `path` (markers added at the end if absent)."""
    old = path.read_text() if path.exists() else ""
    block = f"{START}\n{text}\n{END}"
    if START in old and END in old:
        head, rest = old.split(START, 1)
        new = head + block + rest.split(END, 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(new)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each benchmark's few-second run")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="these benchmarks")
    parser.add_argument("--write", type=Path, help="put the table into this Markdown file")
    parser.add_argument("--save", type=Path, help="keep each benchmark's JSON in this folder")
    parser.add_argument("--from-json", nargs="+", type=Path, help="table from saved JSON files")
    args = parser.parse_args()
    if args.quick and args.write:
        parser.error("--quick figures are not the goals' sizes; they are never written")
    if args.from_json:
        results = [json.loads(p.read_text()) for p in args.from_json]
    else:
        results = [run_one(n, args.quick, args.save) for n in (args.only or BENCHMARKS)]
    print(text_table(results))
    unmet = sum(1 for r in results for f in r["figures"] if f["met"] is False)
    failed = [r["benchmark"] for r in results if "failed" in r]
    print(
        f"\n{unmet} goal(s) not met" + (f"; did not finish: {', '.join(failed)}" if failed else "")
    )
    if args.write:
        write(args.write, markdown(results))
        print(f"written to {args.write}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
