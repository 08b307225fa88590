"""The allow-list, the gadget knowledge base and user policy files."""

from __future__ import annotations

from pathlib import Path

import pytest

from custos.checks.model import Severity
from custos.errors import DataError
from custos.modelfile.policy import (
    RULE_ALLOWED,
    RULE_DANGEROUS,
    RULE_SUSPICIOUS,
    RULE_UNKNOWN,
    Policy,
    builtin_knowledge,
    canonical,
    cleaned,
    name_problems,
)

CRIT, HIGH, MED, INFO = Severity.critical, Severity.high, Severity.medium, Severity.info

TABLE = [
    # allowed: exact names real model files use
    ("torch._utils", "_rebuild_tensor_v2", INFO, RULE_ALLOWED),
    ("torch", "FloatStorage", INFO, RULE_ALLOWED),
    ("collections", "OrderedDict", INFO, RULE_ALLOWED),
    ("numpy.core.multiarray", "_reconstruct", INFO, RULE_ALLOWED),
    ("numpy._core.multiarray", "_reconstruct", INFO, RULE_ALLOWED),
    ("sklearn.linear_model._logistic", "LogisticRegression", INFO, RULE_ALLOWED),
    ("sklearn.tree._tree", "Tree", INFO, RULE_ALLOWED),
    ("xgboost.core", "Booster", INFO, RULE_ALLOWED),
    ("copy_reg", "_reconstructor", INFO, RULE_ALLOWED),  # Python 2 spelling, mapped
    ("__builtin__", "set", INFO, RULE_ALLOWED),
    ("types", "SimpleNamespace", INFO, RULE_ALLOWED),  # exact allow inside a dangerous module
    # the knowledge base
    ("os", "system", CRIT, RULE_DANGEROUS),
    ("posix", "system", CRIT, RULE_DANGEROUS),
    ("nt", "spawnv", CRIT, RULE_DANGEROUS),
    ("os.path", "join", CRIT, RULE_DANGEROUS),  # submodules of dangerous modules
    ("subprocess", "Popen", CRIT, RULE_DANGEROUS),
    ("__builtin__", "eval", CRIT, RULE_DANGEROUS),
    ("__builtins__", "exec", CRIT, RULE_DANGEROUS),
    ("builtins", "getattr", CRIT, RULE_DANGEROUS),
    ("builtins", "eval.__call__", CRIT, RULE_DANGEROUS),
    ("__builtin__", "reduce", CRIT, RULE_DANGEROUS),  # Python 2 name of functools.reduce
    ("commands", "getoutput", CRIT, RULE_DANGEROUS),
    ("_operator", "attrgetter", CRIT, RULE_DANGEROUS),
    ("_functools", "partial", CRIT, RULE_DANGEROUS),
    ("importlib", "import_module", CRIT, RULE_DANGEROUS),
    ("pydoc", "locate", CRIT, RULE_DANGEROUS),
    ("pkgutil", "resolve_name", CRIT, RULE_DANGEROUS),
    ("runpy", "_run_code", CRIT, RULE_DANGEROUS),
    ("ctypes", "CDLL", CRIT, RULE_DANGEROUS),
    ("marshal", "loads", CRIT, RULE_DANGEROUS),
    ("types", "CodeType", CRIT, RULE_DANGEROUS),
    ("numpy", "load", CRIT, RULE_DANGEROUS),
    ("numpy.testing._private.utils", "runstring", CRIT, RULE_DANGEROUS),
    ("numpy.f2py.crackfortran", "getlincoef", CRIT, RULE_DANGEROUS),
    ("torch", "load", CRIT, RULE_DANGEROUS),
    ("torch.hub", "load", CRIT, RULE_DANGEROUS),
    ("torch.jit", "load", CRIT, RULE_DANGEROUS),
    ("torch.utils.cpp_extension", "load_inline", CRIT, RULE_DANGEROUS),
    ("torch._C", "_jit_script_compile", CRIT, RULE_DANGEROUS),
    ("torch.utils.collect_env", "run", CRIT, RULE_DANGEROUS),
    ("torch._inductor.codecache", "compile_file", CRIT, RULE_DANGEROUS),
    (
        "torch.fx.experimental.symbolic_shapes",
        "ShapeEnv.evaluate_guards_expression",
        CRIT,
        RULE_DANGEROUS,
    ),
    ("idlelib.pyshell", "ModifiedInterpreter.runcode", CRIT, RULE_DANGEROUS),
    ("code", "InteractiveInterpreter.runcode", CRIT, RULE_DANGEROUS),
    ("asyncio.unix_events", "_UnixSubprocessTransport._start", CRIT, RULE_DANGEROUS),
    ("uuid", "_get_command_stdout", CRIT, RULE_DANGEROUS),
    ("_aix_support", "_read_cmd_output", CRIT, RULE_DANGEROUS),
    ("pip", "main", CRIT, RULE_DANGEROUS),
    ("requests.api", "get", CRIT, RULE_DANGEROUS),
    ("socket", "create_connection", CRIT, RULE_DANGEROUS),
    ("webbrowser", "open", CRIT, RULE_DANGEROUS),
    ("timeit", "timeit", CRIT, RULE_DANGEROUS),
    ("cProfile", "run", CRIT, RULE_DANGEROUS),
    ("pathlib", "Path.write_text", CRIT, RULE_DANGEROUS),
    ("_io", "FileIO", CRIT, RULE_DANGEROUS),
    ("dill._dill", "_create_code", CRIT, RULE_DANGEROUS),
    ("cloudpickle.cloudpickle", "_make_function", CRIT, RULE_DANGEROUS),
    # attribute walks are checked step by step
    ("site", "os.system", CRIT, RULE_DANGEROUS),
    ("mypkg", "os.system", CRIT, RULE_DANGEROUS),
    ("torch.nn.modules.module", "torch.cuda._memory_viz.subprocess.Popen", CRIT, RULE_DANGEROUS),
    ("builtins", "__dict__.get", CRIT, RULE_DANGEROUS),
    ("statistics", "mean.__globals__", CRIT, RULE_DANGEROUS),
    ("collections", "Counter.__subclasses__", CRIT, RULE_DANGEROUS),
    ("mypkg", "helpers.eval", CRIT, RULE_DANGEROUS),  # named like a primitive
    ("os", "", CRIT, RULE_DANGEROUS),  # the module object itself
    # suspicious
    ("collections", "OrderedDict.fromkeys", HIGH, RULE_SUSPICIOUS),  # walk off an allowed name
    ("builtins", "type", HIGH, RULE_SUSPICIOUS),  # stdlib outside the allow-list
    ("json", "loads", HIGH, RULE_SUSPICIOUS),
    ("mypkg", "Model.__init__", HIGH, RULE_SUSPICIOUS),
    ("mypkg", "load", HIGH, RULE_SUSPICIOUS),
    ("mypkg", "", HIGH, RULE_SUSPICIOUS),
    ("os ", "getcwd", HIGH, RULE_SUSPICIOUS),
    ("os.", "getcwd", CRIT, RULE_DANGEROUS),  # __import__("os.") imports os before failing
    ("\u043es", "getcwd", HIGH, RULE_SUSPICIOUS),  # Cyrillic o
    ("\uff4fs", "getcwd", HIGH, RULE_SUSPICIOUS),  # fullwidth o
    ("o\u200bs", "getcwd", HIGH, RULE_SUSPICIOUS),  # zero-width space
    # unknown
    ("__main__", "Net", MED, RULE_UNKNOWN),
    ("mypkg.models", "ResNet", MED, RULE_UNKNOWN),
]


@pytest.mark.parametrize(("module", "name", "severity", "rule"), TABLE)
def test_classification(module: str, name: str, severity: Severity, rule: str) -> None:
    verdict = Policy.default().classify(module, name)
    assert (verdict.severity, verdict.rule) == (severity, rule), verdict.reason


def test_obfuscated_names_say_what_they_imitate() -> None:
    verdict = Policy.default().classify("o\u200bs", "getcwd")
    assert "imitates os.getcwd" in verdict.reason


def test_loaders_are_tagged_for_nested_scanning() -> None:
    policy = Policy.default()
    for module, name in [("pickle", "loads"), ("_pickle", "loads"), ("dill", "loads")]:
        verdict = policy.classify(module, name)
        assert verdict.severity == CRIT
        assert "loader" in verdict.tags
    scanned = policy.classify("torch.storage", "_load_from_bytes")
    assert scanned.allowed
    assert "loader" in scanned.tags


def test_knowledge_base_is_consistent() -> None:
    kb = builtin_knowledge()
    policy = Policy.default()
    assert set(kb.allow).isdisjoint(kb.danger_exact)
    assert kb.loaders <= set(kb.danger_exact)
    for full in kb.allow:
        assert not name_problems(*full.rsplit(".", 1)), full
    # allowed names that sit inside a dangerous module are deliberate exceptions
    inside = {full for full in kb.allow if policy._danger(*full.rsplit(".", 1)) is not None}
    jit_helpers = {
        f"torch.jit._pickle.{name}"
        for name in ("build_intlist", "build_tensorlist", "build_doublelist", "build_boollist")
    } | {"torch.jit._pickle.build_tensor_from_id", "torch.jit._pickle.restore_type_tag"}
    assert inside == {"types.SimpleNamespace"} | jit_helpers


def test_canonical_names() -> None:
    assert canonical("__builtin__", "unicode") == ("builtins", "str")
    assert canonical("copy_reg", "_reconstructor") == ("copyreg", "_reconstructor")
    assert canonical("__builtins__", "eval.__call__.__call__") == ("builtins", "eval")
    assert cleaned("\uff4f\u200bs.") == "os"


def test_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "allow:\n  - mylib.Net\n  - mylib.layers:Block\n  - other.*\n"
        "deny:\n  - torch.FloatStorage\n"
    )
    policy = Policy.load(path)
    assert policy.classify("mylib", "Net").allowed
    assert policy.classify("mylib.layers", "Block").allowed
    assert policy.classify("other.deep", "Thing").allowed
    assert policy.classify("torch", "FloatStorage").rule == RULE_DANGEROUS
    assert "denied by" in policy.classify("torch", "FloatStorage").reason


def test_user_allow_precedence() -> None:
    explicit = Policy.from_entries(allow=["functools.partial"])
    assert explicit.classify("functools", "partial").allowed
    wildcard = Policy.from_entries(allow=["functools.*", "os.*"])
    assert not wildcard.classify("functools", "partial").allowed  # the KB wins over wildcards
    assert not wildcard.classify("os", "system").allowed
    assert wildcard.classify("functools", "total_ordering").allowed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("allow:\n  - 'os system'\n", "is not a global name"),
        ("allow: [ok.name]\nextra: 1\n", "extra"),
        ("deny: mylib.Net\n", "list"),
        ("allow:\n  - a.b\n  - a.b.\n", "line 3"),
    ],
)
def test_policy_file_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(DataError) as error:
        Policy.load(path)
    rendered = str(error.value)
    assert str(path) in rendered
    assert message in rendered or message.removeprefix("line ") in rendered


def test_empty_policy_file_is_the_default(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert Policy.load(path).classify("os", "system").rule == RULE_DANGEROUS


def test_shipped_json_copy_matches_the_yaml() -> None:
    import json

    import yaml

    data = Path(__file__).resolve().parents[2] / "src" / "custos" / "modelfile" / "data"
    source = yaml.safe_load((data / "policy.yaml").read_text(encoding="utf-8"))
    copy = json.loads((data / "policy.json").read_text(encoding="utf-8"))
    assert copy == source, "run: .venv/bin/python scripts/build-policy-json.py"
