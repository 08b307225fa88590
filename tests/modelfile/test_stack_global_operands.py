"""STACK_GLOBAL on operands that cannot be an exact str: the Unpickler stops, nothing is imported.

`_pickle.c` (load_stack_global) and pickle.py refuse any operand that is not an exact `str`
("STACK_GLOBAL requires str") before importing anything. An instance of an allow-listed class
(NEWOBJ, or a class called through REDUCE/OBJ/INST) or a container is never one, so the reading
stops there: a `pickle/malformed` stop, not a name "computed at load time". The results of
functions, of unknown or refused names, and of `builtins.str` may be a str: still
`pickle/unresolved-global`. The real case: plain `pickle.load` of a joblib file of a model
fitted on a pandas DataFrame reads the nested object-array pickle with the outer memo, and its
STACK_GLOBAL gets the estimator instance as module.
"""

from __future__ import annotations

import importlib
import io
import pickle
import warnings
from pathlib import Path

import pytest

from custos.checks.model import Finding, Severity
from custos.modelfile.context import Limits, ScanContext
from custos.modelfile.dispatch import scan_file
from custos.modelfile.pickle.scan import _Findings, scan
from custos.modelfile.pickle.values import Global
from custos.modelfile.policy import Policy, builtin_knowledge
from tests.modelfile import picklegen as gen

UNRESOLVED = "pickle/unresolved-global"
MALFORMED = "pickle/malformed"
EMPTY_SET, FROZENSET = b"\x8f", b"\x91"


def run(data: bytes) -> list[Finding]:
    ctx = ScanContext(policy=Policy.default(), limits=Limits())
    scan(io.BytesIO(data), "m.pkl", ctx)
    return ctx.findings


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def via_memo(value: bytes) -> bytes:
    """`value` stored in the memo, popped, read back as STACK_GLOBAL's module operand."""
    return gen.p4(value + gen.binput(0) + gen.POP + gen.binget(0) + gen.su("system") + b"\x93")


def inst(module: str, name: str) -> bytes:
    return gen.MARK + b"i" + module.encode() + b"\n" + name.encode() + b"\n"


def cpython_refuses(data: bytes) -> None:
    """The oracle: CPython stops at the STACK_GLOBAL (only for operands of harmless stdlib
    classes; the name after them is never imported)."""
    with pytest.raises(pickle.UnpicklingError, match="STACK_GLOBAL requires str"):
        pickle.loads(data)


# -- real files: scikit-learn models fitted on DataFrames, saved with joblib -----------------


@pytest.fixture(scope="module")
def dataframe_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pd = pytest.importorskip("pandas")
    np = pytest.importorskip("numpy")
    joblib = pytest.importorskip("joblib")
    pytest.importorskip("sklearn")
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    out = tmp_path_factory.mktemp("dataframe-models")
    rng = np.random.default_rng(0)
    numeric = pd.DataFrame({"a": rng.random(60), "b": rng.random(60)})
    y = (numeric.a > 0.5).astype(int)
    mixed = pd.DataFrame(
        {
            "num": rng.random(60),
            "cat": rng.choice(["x", "y", "z"], 60),
            "city": rng.choice(["paris", "rome"], 60),
        }
    )
    columns = ColumnTransformer(
        [
            ("n", StandardScaler(), ["num"]),
            ("c", OneHotEncoder(handle_unknown="ignore"), ["cat", "city"]),
        ]
    )
    models = {
        "logistic": LogisticRegression().fit(numeric, y),
        "forest": RandomForestClassifier(n_estimators=5, random_state=0).fit(numeric, y),
        "pipeline": Pipeline([("ct", columns), ("lr", LogisticRegression())]).fit(mixed, y),
    }
    paths = {}
    for label, model in models.items():
        assert hasattr(model, "feature_names_in_")  # the object array joblib nests a pickle for
        paths[label] = out / f"{label}.joblib"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            joblib.dump(model, paths[label])
    return paths


@pytest.mark.parametrize("label", ["logistic", "forest", "pipeline"])
def test_dataframe_fitted_joblib_model_is_clean(
    dataframe_models: dict[str, Path], label: str
) -> None:
    path = dataframe_models[label]
    # The premise: plain pickle.load stops at the nested pickle's STACK_GLOBAL.
    with pytest.raises(pickle.UnpicklingError, match="STACK_GLOBAL requires str"):
        pickle.loads(path.read_bytes())
    report = scan_file(path, Policy.default())
    assert report.format == "joblib"
    assert [f for f in report.findings if f.severity >= Severity.medium] == []


# -- hand-built pickles ----------------------------------------------------------------------


def test_exact_str_from_the_memo_is_resolved_and_judged() -> None:
    findings = run(via_memo(gen.su("os")))
    assert any(
        f.rule == "pickle/dangerous-global" and "os.system" in f.message for f in findings
    ), findings
    assert not rules(findings) & {UNRESOLVED, MALFORMED}


def test_str_built_by_newobj_of_builtins_str_is_resolved() -> None:
    # str.__new__(str, "os") is the exact str "os"
    data = via_memo(gen.sglob("builtins", "str") + gen.su("os") + gen.TUPLE1 + gen.NEWOBJ)
    assert any("os.system" in f.message for f in run(data) if f.severity >= Severity.critical)


STOPS = {
    "newobj-allowed-stdlib": gen.sglob("collections", "OrderedDict") + gen.EMPTY_TUPLE + gen.NEWOBJ,
    "newobj-ex-allowed": gen.sglob("collections", "OrderedDict")
    + gen.EMPTY_TUPLE
    + gen.EMPTY_DICT
    + gen.NEWOBJ_EX,
    "reduce-allowed-stdlib": gen.call(gen.sglob("collections", "OrderedDict")),
    "reduce-allowed-via-global": gen.call(gen.glob("decimal", "Decimal"), gen.binint(1)),
    "reduce-builtin-container": gen.call(gen.sglob("builtins", "list")),
    "obj-allowed": gen.MARK + gen.sglob("collections", "OrderedDict") + gen.OBJ,
    "inst-allowed": inst("collections", "OrderedDict"),
    "newobj-built-then-state": gen.sglob("collections", "OrderedDict")
    + gen.EMPTY_TUPLE
    + gen.NEWOBJ
    + gen.EMPTY_DICT
    + gen.BUILD,
    "empty-list": gen.EMPTY_LIST,
    "empty-dict": gen.EMPTY_DICT,
    "empty-set": EMPTY_SET,
    "frozenset": gen.MARK + FROZENSET,
}


@pytest.mark.parametrize("name", sorted(STOPS))
def test_operand_that_cannot_be_a_str_stops_the_reading(name: str) -> None:
    data = via_memo(STOPS[name])
    cpython_refuses(data)
    findings = run(data)
    assert UNRESOLVED not in rules(findings), findings
    stop = [f for f in findings if f.rule == MALFORMED]
    assert stop, findings
    assert "STACK_GLOBAL requires two str operands" in stop[0].message
    assert stop[0].severity == Severity.high
    assert not any("os.system" in f.message for f in findings)


@pytest.mark.parametrize("how", ["NEWOBJ", "REDUCE"])
def test_instance_of_an_allowed_sklearn_class_stops_the_reading(how: str) -> None:
    cls = gen.sglob("sklearn.linear_model._logistic", "LogisticRegression")
    value = cls + gen.EMPTY_TUPLE + gen.NEWOBJ if how == "NEWOBJ" else gen.call(cls)
    findings = run(via_memo(value))
    assert UNRESOLVED not in rules(findings)
    assert MALFORMED in rules(findings)


def test_name_operand_that_cannot_be_a_str_stops_the_reading() -> None:
    # CPython checks both operands before importing: an unknown module with a list as name
    data = gen.p4(gen.call(gen.sglob("mylib", "make_name")) + gen.EMPTY_LIST + b"\x93")
    findings = run(data)
    assert MALFORMED in rules(findings)
    assert UNRESOLVED not in rules(findings)
    assert "pickle/unknown-global" in rules(findings)  # the call itself is still judged


STILL_UNRESOLVED = {
    "getattr-result": gen.call(gen.sglob("builtins", "getattr")),
    "os-path-join-result": gen.call(gen.sglob("os.path", "join"), gen.su("o"), gen.su("s")),
    "made-up-function": gen.call(gen.sglob("mylib", "make_name")),
    "made-up-class": gen.sglob("mylib", "Maker") + gen.EMPTY_TUPLE + gen.NEWOBJ,
    "made-up-class-reduce": gen.call(gen.sglob("evilpkg.sub", "Namer")),
    "builtins-str-reduce": gen.call(gen.sglob("builtins", "str"), gen.EMPTY_LIST),
    "builtins-str-newobj": gen.sglob("builtins", "str") + gen.EMPTY_LIST + gen.TUPLE1 + gen.NEWOBJ,
    "builtins-str-py2-spelling": gen.call(gen.glob("__builtin__", "str"), gen.EMPTY_LIST),
    # allowed functions that return a str given the right arguments
    "copyreg-reconstructor": gen.call(
        gen.sglob("copyreg", "_reconstructor"),
        gen.sglob("builtins", "str"),
        gen.sglob("builtins", "str"),
        gen.EMPTY_LIST,
    ),
    "copyreg-newobj": gen.call(gen.sglob("copyreg", "__newobj__"), gen.sglob("builtins", "str")),
    "codecs-encode": gen.call(gen.sglob("_codecs", "encode"), gen.EMPTY_LIST),
    "numpy-reconstruct": gen.call(gen.sglob("numpy.core.multiarray", "_reconstruct")),
    # an allowed class reached through a getattr chain, not imported by name
    "class-via-getattr": gen.call(
        gen.call(
            gen.sglob("builtins", "getattr"), gen.sglob("collections", ""), gen.su("OrderedDict")
        )
    ),
    "persistent-id": gen.su("x") + gen.BINPERSID,
    "ext-code": b"\x82\x01",
}


@pytest.mark.parametrize("name", sorted(STILL_UNRESOLVED))
def test_operand_that_may_be_a_str_stays_unresolved(name: str) -> None:
    findings = run(via_memo(STILL_UNRESOLVED[name]))
    assert any(f.rule == UNRESOLVED and f.severity == Severity.high for f in findings), [
        (f.rule, f.message) for f in findings
    ]
    assert not any("STACK_GLOBAL requires" in f.message for f in findings)


# -- which names count as classes -------------------------------------------------------------


def makes_instances(module: str, name: str, policy: Policy | None = None) -> bool:
    policy = policy or Policy.default()
    findings = _Findings(ScanContext(policy=policy), "m", policy)
    return findings.makes_instances(Global(module, name, 0, "GLOBAL"))


def test_only_allowed_classes_make_instances() -> None:
    assert makes_instances("sklearn.linear_model._logistic", "LogisticRegression")
    assert makes_instances("collections", "OrderedDict")
    assert makes_instances("numpy", "ndarray")
    assert makes_instances("__builtin__", "list")
    for module, name in [
        ("builtins", "str"),
        ("__builtin__", "str"),
        ("copyreg", "_reconstructor"),
        ("_codecs", "encode"),
        ("numpy.core.multiarray", "scalar"),
        ("mylib", "Maker"),  # not allowed
        ("os", "PathLike"),  # standard library outside the allow-list
    ]:
        assert not makes_instances(module, name), (module, name)


def test_denied_class_makes_no_instances() -> None:
    policy = Policy.from_entries(deny=["collections.OrderedDict"])
    assert not makes_instances("collections", "OrderedDict", policy)


def test_every_builtin_allowed_name_taken_for_a_class_is_a_class() -> None:
    """Guards the naming rule against the shipped allow-list: each name it accepts is a type
    (other than str) or cannot be called at all (Ellipsis)."""
    checked = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for full in builtin_knowledge().allow:
            module, _, name = full.rpartition(".")
            if not makes_instances(module, name):
                continue
            obj = _resolve(full)
            if obj is None:
                continue  # package not installed here
            checked += 1
            assert obj is not str
            assert isinstance(obj, type) or not callable(obj), full
    assert checked > 100


def _resolve(full: str) -> object:
    parts = full.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:  # not installed here, or not a module: try a shorter prefix
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, None)
        return obj
    return None


def test_a_user_allowed_name_is_not_taken_for_a_class() -> None:
    """A user's allow-list says a name is safe to import, not that calling it makes a non-str:
    only names the shipped list allows count."""
    policy = Policy.from_entries(allow=["evilpkg.*", "evilpkg.Maker"])
    assert not makes_instances("evilpkg", "Maker", policy)
