"""The Python rules of the repository scanner (custos.repo.pysinks) and notebook scanning
(custos.repo.notebooks): one planted case per rule variant and one safe look-alike each,
aliases, the torch pin, stable `where`s, notebooks (magics, cells that do not parse), files that
are not Python, and recall on randomly varied snippets (tests/repo/sinkcases.py)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from custos.findings import Severity
from custos.repo import notebooks, pysinks
from custos.repo.model import RepoFinding, Unreadable
from tests.repo import sinkcases
from tests.repo.sinkcases import Case, Template


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository root with the local model directories the look-alikes name."""
    for folder in sinkcases.LOCAL_DIRS:
        (tmp_path / folder).mkdir(parents=True)
    return tmp_path


def scan(repo: Path, code: str, torch_pinned: str | None = None) -> list[RepoFinding]:
    path = repo / "case.py"
    path.write_text(code, encoding="utf-8")
    return pysinks.scan_python(code, path, torch_pinned=torch_pinned, repo_root=repo)


def scan_case(repo: Path, case: Case) -> list[RepoFinding]:
    return scan(repo, case.code, case.torch_pinned)


def notebook(*cells: tuple[str, str]) -> str:
    """An nbformat 4 document; each cell as (type, source), the source kept as a line list."""
    return json.dumps(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
            "cells": [
                {
                    "cell_type": kind,
                    "metadata": {},
                    "source": source.splitlines(True),
                    **({"outputs": [], "execution_count": None} if kind == "code" else {}),
                }
                for kind, source in cells
            ],
        }
    )


# -- one planted case and one look-alike per rule -----------------------------------------------


def test_every_rule_has_planted_cases_and_look_alikes() -> None:
    planted = {t.rule for t in sinkcases.PLANTED}
    assert planted == set(pysinks.RULES)
    assert all(rule.startswith("repo/") for rule in pysinks.RULES)
    assert len(sinkcases.LOOK_ALIKES) >= len(pysinks.RULES)


@pytest.mark.parametrize("template", sinkcases.PLANTED, ids=lambda t: t.name)
def test_planted_case_is_found(repo: Path, template: Template) -> None:
    for seed in range(4):  # a few variations of each
        case = sinkcases.case(random.Random(seed), template)
        found = scan_case(repo, case)
        assert [(f.rule, f.severity) for f in found] == [(case.rule, case.severity)], case.code
        finding = found[0]
        assert finding.controls == pysinks.RULES[finding.rule].controls
        assert "\n" not in finding.message
        assert finding.line is not None
        assert finding.column is not None
        assert case.code.splitlines()[finding.line - 1].strip()  # on a line of code


@pytest.mark.parametrize("template", sinkcases.LOOK_ALIKES, ids=lambda t: t.name)
def test_look_alike_is_not_flagged(repo: Path, template: Template) -> None:
    for seed in range(4):
        case = sinkcases.case(random.Random(seed), template)
        assert scan_case(repo, case) == [], case.code


def test_recall_on_random_variations(repo: Path) -> None:
    """~200 varied snippets from one seed: every planted sink found with its rule and severity,
    no look-alike flagged."""
    cases = sinkcases.variations(seed=20240611, count=200)
    missed, false = [], []
    for case in cases:
        found = [(f.rule, f.severity) for f in scan_case(repo, case)]
        if case.rule is None and found:
            false.append((case.name, found, case.code))
        elif case.rule is not None and found != [(case.rule, case.severity)]:
            missed.append((case.name, found, case.code))
    planted = sum(c.rule is not None for c in cases)
    assert planted > 80  # both kinds well represented
    assert len(cases) - planted > 50
    assert missed == [], f"recall {1 - len(missed) / planted:.3f}"
    assert false == []


# -- aliases and names --------------------------------------------------------------------------


def test_aliases(repo: Path) -> None:
    code = (
        "import torch as T\n"
        "from joblib import load as jl\n"
        "import pickle as pk\n"
        "from yaml import load as yload, Loader as YL\n"
        "import numpy as numpy_\n"
        "from subprocess import Popen as P\n"
        "\n"
        "def run(p, blob, cmd):\n"
        "    T.load(p, weights_only=False)\n"
        "    jl(p)\n"
        "    pk.loads(blob)\n"
        "    yload(p, Loader=YL)\n"
        "    numpy_.load(p, allow_pickle=True)\n"
        "    P(cmd, shell=True)\n"
    )
    found = scan(repo, code)
    assert [(f.rule, f.line) for f in found] == [
        ("repo/torch-load-unsafe", 9),
        ("repo/pickle-load", 10),
        ("repo/pickle-load", 11),
        ("repo/yaml-unsafe-load", 12),
        ("repo/numpy-allow-pickle", 13),
        ("repo/subprocess-shell", 14),
    ]


def test_bare_alias_names_from_the_brief(repo: Path) -> None:
    assert [f.rule for f in scan(repo, "import torch as T\nT.load(p)\n", "2.5.1")] == [
        "repo/torch-load-unsafe"
    ]
    assert [f.rule for f in scan(repo, "from joblib import load as jl\njl(p)\n")] == [
        "repo/pickle-load"
    ]


def test_names_the_code_binds_itself_are_not_the_library(repo: Path) -> None:
    code = (
        "from ruamel.yaml import YAML\n"
        "yaml = YAML()\n"
        "data = yaml.load(stream)\n"
        "def eval(model, loader):\n"
        "    return model(loader)\n"
        "score = eval(net, val)\n"
        "net.eval()\n"
    )
    assert scan(repo, code) == []


def test_an_import_below_its_use_still_counts(repo: Path) -> None:
    code = "def load(p):\n    return jl(p)\n\n\nfrom joblib import load as jl\n"
    assert [f.rule for f in scan(repo, code)] == ["repo/pickle-load"]


def test_constant_paths_inside_and_outside_the_repository(repo: Path) -> None:
    inside = [
        "pickle.load(open('data/x.pkl', 'rb'))",
        "pickle.load(open('./data/../data/x.pkl', 'rb'))",
        "joblib.load(MODEL)",
        "joblib.load(Path(__file__).parent / 'm.joblib')",
        "joblib.load(os.path.join(os.path.dirname(__file__), 'm.joblib'))",
    ]
    outside = [
        "pickle.load(open('../x.pkl', 'rb'))",
        "pickle.load(open('data/../../x.pkl', 'rb'))",
        "joblib.load('/srv/models/m.joblib')",
        "joblib.load('C:\\\\models\\\\m.joblib')",
        "joblib.load('~/m.joblib')",
        "pd.read_pickle('https://example.com/x.pkl')",
        "joblib.load(Path(__file__).parent.parent / 'm.joblib')",
        "joblib.load(OTHER)",  # bound to two different values
        "joblib.load(os.environ['MODEL'])",
    ]
    head = (
        "import os, pickle, joblib\nimport pandas as pd\nfrom pathlib import Path\n"
        "MODEL = 'models/m.joblib'\nOTHER = 'a.joblib'\nOTHER = '/b.joblib'\n"
    )
    for line in inside:
        assert scan(repo, head + line + "\n") == [], line
    for line in outside:
        assert [f.rule for f in scan(repo, head + line + "\n")] == ["repo/pickle-load"], line


def test_a_with_variable_is_followed_within_its_scope(repo: Path) -> None:
    code = (
        "import pickle\n"
        "def safe():\n"
        "    with open('data/x.pkl', 'rb') as f:\n"
        "        return pickle.load(f)\n"
        "def unsafe(path):\n"
        "    with open(path, 'rb') as f:\n"
        "        return pickle.load(f)\n"
        "def rebound(path):\n"
        "    with open('data/x.pkl', 'rb') as f:\n"
        "        pass\n"
        "    f = open(path, 'rb')\n"
        "    return pickle.load(f)\n"
    )
    assert [(f.rule, f.line) for f in scan(repo, code)] == [
        ("repo/pickle-load", 7),
        ("repo/pickle-load", 12),
    ]


def test_yaml_loaders(repo: Path) -> None:
    safe = [
        "yaml.load(f, Loader=yaml.CSafeLoader)",
        "yaml.load(f, Loader=getattr(yaml, 'CSafeLoader', yaml.SafeLoader))",
        "yaml.load(f, Loader=MySafe)",
        "yaml.load(f, **options)",
    ]
    for line in safe:
        code = f"import yaml\nclass MySafe(yaml.SafeLoader):\n    pass\n{line}\n"
        assert scan(repo, code) == [], line
    code = "import yaml\ntry:\n    from yaml import CLoader as L\nexcept ImportError:\n"
    code += "    from yaml import Loader as L\nyaml.load(f, Loader=L)\n"
    assert [f.severity for f in scan(repo, code)] == [Severity.high]


# -- the torch pin ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pinned", "expected"),
    [
        ("2.5.1", [Severity.high]),
        ("2.2.0+cu121", [Severity.high]),
        ("2.6.0", []),
        ("2.6.0+cu124", []),
        ("2.10.1", []),
        (None, [Severity.medium]),
        ("not-a-version", [Severity.medium]),
    ],
)
def test_torch_pin_decides_a_bare_torch_load(
    repo: Path, pinned: str | None, expected: list[Severity]
) -> None:
    found = scan(repo, "import torch\nstate = torch.load(path)\n", pinned)
    assert [f.severity for f in found] == expected
    if expected == [Severity.high]:
        assert f"torch {pinned}" in found[0].message
    elif expected:
        assert "2.6" in found[0].message


def test_torch_explicit_weights_only_ignores_the_pin(repo: Path) -> None:
    assert scan(repo, "import torch\ntorch.load(p, weights_only=True)\n", "2.1.0") == []
    found = scan(repo, "import torch\ntorch.load(p, weights_only=False)\n", "2.7.0")
    assert [f.severity for f in found] == [Severity.high]


# -- where, line, column ------------------------------------------------------------------------


def test_where_is_stable_when_lines_move(repo: Path) -> None:
    code = (
        "import torch as t\n"
        "class Trainer:\n"
        "    def restore(self, p):\n"
        "        a = t.load(p, weights_only=False)\n"
        "        b = t.load(p, weights_only=False)\n"
        "        return a, b\n"
        "t.load(q, weights_only=False)\n"
    )
    first = scan(repo, code)
    assert [f.where for f in first] == [
        "Trainer.restore:t.load:0",
        "Trainer.restore:t.load:1",
        "<module>:t.load:0",
    ]
    moved = scan(repo, "# a comment\n\n\n" + code.replace("    def", "\n    def"))
    assert [f.where for f in moved] == [f.where for f in first]
    assert [f.line for f in moved] == [(f.line or 0) + 4 for f in first]  # they did move


def test_column_is_one_based_in_characters(repo: Path) -> None:
    found = scan(repo, "import pickle\nx = 'Grüße'; pickle.loads(blob)\n")
    assert (found[0].line, found[0].column) == (2, 14)
    found = scan(repo, "import pickle\npickle.loads(blob)\n")
    assert found[0].column == 1


# -- files that are not Python ------------------------------------------------------------------


def test_a_syntax_error_is_unreadable_with_its_line(repo: Path) -> None:
    with pytest.raises(Unreadable) as raised:
        scan(repo, "import torch\n\ndef f(:\n    torch.load(p)\n")
    assert raised.value.line == 3
    with pytest.raises(Unreadable) as raised:
        scan(repo, "import torch\ntorch.load(p)\n\0\n")
    assert raised.value.line == 3


def test_aiohttp_ssl_false_alone_passes_the_screen(repo: Path) -> None:
    code = "async def get(session, url):\n    return await session.get(url, ssl=False)\n"
    assert [f.rule for f in scan(repo, code)] == ["repo/tls-verify-off"]


def test_a_syntax_error_is_reported_even_without_trigger_words(repo: Path) -> None:
    # the screen skips the walk, not the parse: a broken file is reported wherever it is
    with pytest.raises(Unreadable) as caught:
        scan(repo, "x = 1\ndef f(:\n    return 1\n")
    assert caught.value.line == 2
    assert scan(repo, "def f(x):\n    return x + 1\n") == []


def test_deep_nesting_does_not_crash(repo: Path) -> None:
    # deeper than the recursion limit: the walk is iterative
    code = "import torch\nx = " + " + ".join(["1"] * 1200) + " + torch.load(p)\n"
    assert [f.rule for f in scan(repo, code)] == ["repo/torch-load-unsafe"]
    with pytest.raises(Unreadable):
        scan(repo, "import torch\nx = " + "(" * 300 + "torch.load(p)" + ")" * 300 + "\n")


# -- notebooks ----------------------------------------------------------------------------------


def test_notebook_finding_at_its_cell_and_line(repo: Path) -> None:
    text = notebook(
        ("code", "import pickle\nimport torch as T"),
        ("code", "%pip install x\nblob = fetch()\nobj = pickle.loads(blob)"),
        ("code", "!ls -la\nstate = T.load(p, weights_only=False)"),
    )
    found = notebooks.scan_notebook(text, repo / "nb.ipynb", repo_root=repo)
    assert [(f.rule, f.cell, f.line) for f in found] == [
        ("repo/pickle-load", 1, 3),
        ("repo/torch-load-unsafe", 2, 2),  # the alias comes from cell 0
    ]
    assert found[0].location("nb.ipynb") == "nb.ipynb#cell1:3"
    assert found[0].where == "<module>:pickle.loads:0"


def test_notebook_cell_index_counts_every_cell(repo: Path) -> None:
    text = notebook(("markdown", "# notes"), ("raw", "x"), ("code", "import os\nos.system(cmd)"))
    found = notebooks.scan_notebook(text, repo / "nb.ipynb")
    assert [(f.rule, f.cell, f.line, f.column) for f in found] == [
        ("repo/subprocess-shell", 2, 2, 1)
    ]


def test_notebook_cell_with_a_syntax_error_is_skipped(repo: Path) -> None:
    text = notebook(
        ("code", "def broken(:\n    pass"),
        ("code", "import yaml\ncfg = yaml.load(open(p))"),
        ("code", "files = !ls\nimage?"),
    )
    found = notebooks.scan_notebook(text, repo / "nb.ipynb")
    assert [(f.rule, f.cell, f.line) for f in found] == [("repo/yaml-unsafe-load", 1, 2)]


def test_notebook_where_no_cell_parses_is_unreadable(repo: Path) -> None:
    text = notebook(("code", "x = 1\ndef broken(:\n    eval(x)"), ("code", "eval(y"))
    with pytest.raises(Unreadable) as raised:
        notebooks.scan_notebook(text, repo / "nb.ipynb")
    assert "cell 0" in raised.value.message
    assert raised.value.line == 2


def test_notebook_magics(repo: Path) -> None:
    text = notebook(
        ("code", "%%bash\npython -c 'import pickle; pickle.loads(x)'"),  # not Python: skipped
        ("code", "%%time\nimport pickle\npickle.loads(blob)"),
        ("code", "%time state = torch.load(p, weights_only=False)"),
        ("code", "if gpu:\n    !nvidia-smi\nfiles = !ls\n%matplotlib inline\neval(cmd)"),
    )
    found = notebooks.scan_notebook(text, repo / "nb.ipynb")
    assert [(f.rule, f.cell, f.line) for f in found] == [
        ("repo/pickle-load", 1, 3),
        ("repo/torch-load-unsafe", 2, 1),
        ("repo/eval-exec", 3, 5),
    ]


def test_code_cells_and_formats() -> None:
    text = notebook(("markdown", "# x"), ("code", "%pip install a\nimport os"), ("raw", "r"))
    assert notebooks.code_cells(text) == [(1, "%pip install a\nimport os")]
    cell = {"cell_type": "code", "input": ["import pickle\n", "pickle.loads(b)"]}
    v3 = json.dumps({"nbformat": 3, "worksheets": [{"cells": [cell]}]})
    assert notebooks.code_cells(v3) == [(0, "import pickle\npickle.loads(b)")]
    assert [f.rule for f in notebooks.scan_notebook(v3, Path("old.ipynb"))] == ["repo/pickle-load"]


@pytest.mark.parametrize(
    "text", ["{not json", "[1, 2]", '{"metadata": {}}', "[" * 100_000 + "]" * 100_000]
)
def test_a_broken_notebook_is_unreadable(text: str) -> None:
    with pytest.raises(Unreadable):
        notebooks.scan_notebook(text, Path("broken.ipynb"))
