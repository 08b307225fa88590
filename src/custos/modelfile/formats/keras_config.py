"""Judging a Keras model config (the JSON of config.json, model_config, training_config,
keras_metadata) against an allow-list of what Keras itself serialises.

Keras rebuilds every `{"class_name": ..., "module": ..., "config": ...}` object of a config by
importing or looking up what it names. Being in a Keras namespace is no proof of safety: the
known safe-mode bypasses name Keras' own functions (`keras.config.enable_unsafe_deserialization`,
`keras.utils.get_file`, `keras.models.load_model`, ...). So every object is looked up in
data/keras_allow.json (generated from the real Keras 3 and tf_keras packages by
scripts/gen_keras_allow.py): the layers, initializers, regularizers, constraints, activations,
losses, metrics, optimizers, learning-rate schedules, operations, dtype policies and model
classes, under their public and internal module paths, plus the structural objects Keras writes
(`__keras_tensor__`, `__tuple__`, `TensorShape`, ...). One frozenset lookup per object.

- `keras/lambda-layer` (critical): Lambda layers and `__lambda__` objects run Python: marshalled
  bytecode, or any function the config names, called with arguments from the config.
- `keras/unsafe-gadget` (high; critical for a pickled TorchModuleWrapper): an object not on the
  allow-list that downloads or touches files, loads other models, changes global settings (safe
  mode among them) or evaluates code: by name (data: gadget_names), by namespace
  (gadget_modules), by a name that reads like one, as a class left out of the list
  (deny_classes: TFSMLayer, TorchModuleWrapper, ...), or a Python built-in reached through
  `builtins`; also a lookup layer whose vocabulary is a file path.
- `keras/tf-op` (high): a TFOpLambda calling a TensorFlow function in RISKY_TF.
- `keras/unknown-object` (medium): anything else not on the allow-list, in a Keras namespace or
  without a module (a custom class the loader must be given), and objects whose class_name,
  module or registered_name is not a string.
- `keras/custom-object` (high): a `module` outside Keras' namespaces, or a `registered_name`
  `package>Name` for a package other than Keras: loading imports that module (CVE-2025-1550).
- `keras/config-too-large` (high): more objects than the walk's limit; the rest was not checked.
- `keras/unchecked` (high): the allow-list itself could not be loaded; nothing was judged.

The allow-list is read on first use (scanners of other formats never pay for it) and kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from custos.errors import DataError
from custos.findings import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.rules import RULES, rule

LAMBDA = rule(
    "keras/lambda-layer",
    Severity.critical,
    "A Lambda layer (or __lambda__ object) carries Python bytecode that runs on load or call.",
)
CUSTOM = rule(
    "keras/custom-object",
    Severity.high,
    "A config references a module or registered object outside Keras; loading imports it.",
)
TF_OP = rule(
    "keras/tf-op",
    Severity.high,
    "A TFOpLambda layer calls a TensorFlow function that touches files or runs Python.",
)
GADGET = rule(
    "keras/unsafe-gadget",
    Severity.high,
    "A config names a Keras function or class that downloads or touches files, loads another "
    "model, changes global settings (safe mode) or runs code.",
)
UNKNOWN = rule(
    "keras/unknown-object",
    Severity.medium,
    "A config names an object that is not on Custos' list of what Keras serialises.",
)
TOO_LARGE = rule(
    "keras/config-too-large",
    Severity.high,
    "A Keras config holds more objects than the limit; the rest was not checked.",
)
UNCHECKED = rule(
    "keras/unchecked",
    Severity.high,
    "The Keras allow-list could not be loaded; the config was not checked.",
)
KERAS_MODULES = ("keras", "tf_keras", "tensorflow.keras", "tensorflow.python.keras")
BUILTIN_MODULES = frozenset({"builtins", "__builtin__", "__builtins__"})
LAMBDA_CLASSES = frozenset({"Lambda", "__lambda__"})
TF_OP_CLASSES = frozenset({"TFOpLambda", "SlicingOpLambda"})
VOCABULARY_CLASSES = frozenset(
    {"StringLookup", "IntegerLookup", "IndexLookup", "TextVectorization"}
)
CRITICAL_GADGETS = frozenset({"TorchModuleWrapper"})  # its config holds a pickle
CHECKED_CONFIGS = TF_OP_CLASSES | VOCABULARY_CLASSES  # classes whose config is read too
RISKY_TF = ("io.", "gfile", "py_function", "numpy_function", "py_func", "compat.v1.py_func",
            "print", "debugging.", "summary.", "saved_model.", "data.", "keras.",
            "load_library", "load_op_library", "lookup.", "train.", "config.")  # fmt: skip
# An unknown name in a Keras namespace that reads like file, network, settings or code access.
GADGET_WORDS = re.compile(
    r"(?i)file|load|save|download|url|http|socket|path|directory|open|exec|eval|import|"
    r"pickle|marshal|unsafe|global_|^set_|^enable_|^disable_|system|popen|subprocess|shell|"
    r"__\w+__|\.__"
)
MAX_NODES = 1_000_000
MAX_REPORTS = 100  # findings of one rule per file; the rest are counted
DATA = Path(__file__).parents[1] / "data" / "keras_allow.json"  # modelfile/data
Emit = Callable[[str, Severity, str], None]


def keras_module(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in KERAS_MODULES)


def _spelled_keras(module: str) -> str:
    """`tf_keras.x`, `tensorflow.keras.x`... read as `keras.x` (how the data file spells it)."""
    for root in KERAS_MODULES:
        if module == root or module.startswith(root + "."):
            return "keras" + module[len(root) :]
    return module


@dataclass(frozen=True)
class AllowList:
    """What Keras serialises, keyed `module:name` under every root Keras has lived in."""

    objects: frozenset[str]  # "keras.layers:Dense", "tf_keras.src...:Functional", "builtins:relu"
    bare: frozenset[str]  # class names a config may give without a module (Keras 2, HDF5)
    typespecs: frozenset[str]  # TensorFlow TypeSpec classes of `__typespec__` objects
    gadget_modules: tuple[tuple[str, str], ...]  # (namespace spelled keras.*, why)
    gadget_names: dict[str, str]  # name -> why
    deny_classes: dict[str, str]  # serialisable classes left out -> why
    python_builtins: frozenset[str]  # names of Python's builtins module

    def gadget(self, module: str | None, names: tuple[str, ...]) -> str | None:
        """Why an object that is not allowed is a gadget, or None."""
        for name in names:
            why = self.deny_classes.get(name) or self.gadget_names.get(name)
            if why:
                return why
            if "." in name and "__" in name:
                return "an attribute path into interpreter internals (tf_keras follows it)"
        if module is None:
            return None
        if module in BUILTIN_MODULES:
            hit = next((n for n in names if n in self.python_builtins), None)
            return f"the Python built-in {hit}" if hit else None
        spelled = _spelled_keras(module)
        for prefix, why in self.gadget_modules:
            if spelled == prefix or spelled.startswith(prefix + "."):
                return why
        if any(GADGET_WORDS.search(n) for n in names):
            return "its name suggests file, network, settings or code access"
        return None


def _strings(value: object, where: str, path: Path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataError(path, f"{where}: expected a list of strings")
    return value


def _mapping(value: object, where: str, path: Path) -> dict[str, object]:
    if not isinstance(value, dict):
        raise DataError(path, f"{where}: expected a mapping")
    return value


def _reasons(value: object, where: str, path: Path) -> dict[str, str]:
    mapping = _mapping(value, where, path)
    if not all(isinstance(v, str) for v in mapping.values()):
        raise DataError(path, f"{where}: expected a mapping of names to reasons")
    return {str(k): str(v) for k, v in mapping.items()}


def load_allow_list(path: Path) -> AllowList:
    """Read and validate an allow-list file; raises DataError naming the file."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as err:
        raise DataError(path, f"cannot read: {err.strerror or err}") from err
    except UnicodeDecodeError as err:
        raise DataError(path, f"not UTF-8: {err.reason}") from err
    except json.JSONDecodeError as err:
        raise DataError(path, f"not valid JSON: {err.msg}", line=err.lineno) from err
    except RecursionError as err:
        raise DataError(path, "not valid JSON: nested too deeply") from err
    data = _mapping(data, "the document", path)
    if data.get("format") != 1:
        raise DataError(path, f"format: expected 1, found {data.get('format')!r:.40}")
    roots = _strings(data.get("roots"), "roots", path)
    if "keras" not in roots:
        raise DataError(path, "roots: must include 'keras'")
    objects: set[str] = set()
    bare = set(_strings(data.get("structural"), "structural", path))
    bare.update(_strings(data.get("legacy_keras2"), "legacy_keras2", path))
    sources = _mapping(data.get("sources"), "sources", path)
    if not sources:
        raise DataError(path, "sources: empty")
    for source, section in sources.items():
        where = f"sources.{source}"
        section = _mapping(section, where, path)
        for module, names in _mapping(section.get("objects"), f"{where}.objects", path).items():
            if not keras_module(module):
                raise DataError(path, f"{where}.objects: {module!r:.80} is not a keras module")
            tail = module[len("keras") :]
            for name in _strings(names, f"{where}.objects.{module}", path):
                objects.update(f"{root}{tail}:{name}" for root in roots)
        for name in _strings(section.get("functions"), f"{where}.functions", path):
            objects.update(f"{module}:{name}" for module in BUILTIN_MODULES)
        bare.update(_strings(section.get("bare"), f"{where}.bare", path))
    gadget_modules = _reasons(data.get("gadget_modules"), "gadget_modules", path)
    return AllowList(
        objects=frozenset(objects),
        bare=frozenset(bare),
        typespecs=frozenset(_strings(data.get("typespecs"), "typespecs", path)),
        gadget_modules=tuple(sorted(gadget_modules.items(), key=lambda kv: -len(kv[0]))),
        gadget_names=_reasons(data.get("gadget_names"), "gadget_names", path),
        deny_classes=_reasons(data.get("deny_classes"), "deny_classes", path),
        python_builtins=frozenset(_strings(data.get("python_builtins"), "python_builtins", path)),
    )


@lru_cache(maxsize=1)
def builtin_allow_list() -> AllowList:
    """The allow-list shipped with Custos, read once (on the first Keras config judged)."""
    return load_allow_list(DATA)


class ConfigCheck:
    """Judges one file's Keras configs (several, for HDF5 and SavedModel metadata), reporting
    each distinct finding once and at most MAX_REPORTS findings of a rule."""

    def __init__(self, location: str, ctx: ScanContext, allow: AllowList | None = None) -> None:
        self.location = location
        self.ctx = ctx
        # What this location already reported: a .keras member is judged as config.json by the
        # zip scanner and as a JSON text by the dispatcher; each finding is reported once.
        self.reported = {(f.rule, f.message) for f in ctx.findings if f.location == location}
        self.counts: dict[str, int] = {}
        self.nodes = 0
        self.allow = allow
        if allow is None:
            try:
                self.allow = builtin_allow_list()
            except DataError as err:
                self._unchecked(str(err))

    def _unchecked(self, text: str) -> None:
        self.ctx.emit(UNCHECKED.id, UNCHECKED.severity, text, self.location)
        errors = getattr(self.ctx, "errors", None)
        if isinstance(errors, list):
            errors.append(f"{self.location}: {text}")

    def emit(self, rule_id: str, severity: Severity, message: str) -> None:
        if (rule_id, message) in self.reported:
            return
        self.reported.add((rule_id, message))
        count = self.counts[rule_id] = self.counts.get(rule_id, 0) + 1
        if count <= MAX_REPORTS:
            self.ctx.emit(rule_id, severity, message, self.location)

    def check(self, config: object) -> None:
        """Walk a config depth-first (iteratively: configs can be deep) and judge each object."""
        allow = self.allow
        if allow is None:
            return
        pending: list[object] = [config]
        while pending:
            node = pending.pop()
            if isinstance(node, list):
                pending.extend(node)
                continue
            if not isinstance(node, dict):
                continue
            self.nodes += 1
            if self.nodes > MAX_NODES:
                message = f"more than {MAX_NODES} objects; the rest was not checked"
                self.emit(TOO_LARGE.id, TOO_LARGE.severity, message)
                return
            if "class_name" in node:
                _judge(node, self.emit, allow)
            pending.extend(node.values())

    def finish(self) -> None:
        """Say how many findings were left out of the report, per rule."""
        for rule_id, count in sorted(self.counts.items()):
            if count > MAX_REPORTS:
                message = f"{count - MAX_REPORTS} more {rule_id} findings not listed"
                self.ctx.emit(rule_id, RULES[rule_id].severity, message, self.location)


def check_config(config: object, location: str, ctx: ScanContext) -> None:
    """Judge one config (one file's worth) and report what loading it would do."""
    checker = ConfigCheck(location, ctx)
    checker.check(config)
    checker.finish()


def _text(value: object, limit: int = 100) -> str:
    return f"{value!r:.{limit}}" if isinstance(value, str) else type(value).__name__


def _label(cls: str, inner: object) -> str:
    name = inner.get("name") if isinstance(inner, dict) else None
    return cls[:100] + (f" {name!r:.80}" if isinstance(name, str) else "")


def _judge(node: dict[object, object], emit: Emit, allow: AllowList) -> None:
    cls = node["class_name"]
    if cls is None:  # Keras rebuilds nothing from it (and fails on it)
        return
    if not isinstance(cls, str):
        emit(UNKNOWN.id, UNKNOWN.severity, f"an object whose class_name is a {_text(cls)}")
        return
    inner = node.get("config")
    module = node.get("module")
    registered = node.get("registered_name")
    if cls in LAMBDA_CLASSES or (
        isinstance(inner, dict) and inner.get("function_type") == "lambda"
    ):
        emit(LAMBDA.id, LAMBDA.severity, f"Lambda layer {_label(cls, inner)}")
    # A Keras Lambda is reported above; anything else is judged too, whatever its config says.
    is_lambda = cls in LAMBDA_CLASSES and (not module or keras_module(str(module)))
    if cls == "function":  # {"module": ..., "class_name": "function", "config": "relu"}
        target: object = inner
    elif cls == "__typespec__":
        target = node.get("spec_name")
    else:
        target = cls
    if module is not None and not isinstance(module, str):
        emit(
            UNKNOWN.id, UNKNOWN.severity, f"{_label(cls, inner)} whose module is a {_text(module)}"
        )
    elif module:  # the one lookup most objects need
        if not ((isinstance(target, str) and f"{module}:{target}" in allow.objects) or is_lambda):
            _not_allowed(module, target, cls, registered, inner, emit, allow)
    elif not ((isinstance(target, str) and target in allow.bare) or is_lambda):
        _not_allowed(None, target, cls, registered, inner, emit, allow)
    if registered is not None:
        _registered(registered, cls, inner, emit, allow)
    if cls in CHECKED_CONFIGS and isinstance(inner, dict):
        _inner_config(cls, inner, emit)


def _not_allowed(
    module: str | None,
    target: object,
    cls: str,
    registered: object,
    inner: object,
    emit: Emit,
    allow: AllowList,
) -> None:
    if not isinstance(target, str):
        what = "a function whose name" if cls == "function" else "a TypeSpec whose spec_name"
        emit(UNKNOWN.id, UNKNOWN.severity, f"{what} is a {_text(target)}")
        return
    label = _label(cls, inner)
    shown = (f"{module}.{target}" if module else target)[:160]
    names: tuple[str, ...] = (target,)
    if isinstance(registered, str) and registered not in (target, "function"):
        names = (target, registered)  # tf_keras looks the registered name up in the module too
        shown += f" (registered_name {registered!r:.80})"
    if module is not None and not keras_module(module):
        if cls == "__typespec__" and module.startswith("tensorflow.") and target in allow.typespecs:
            return
        builtin = module in BUILTIN_MODULES
        if not builtin or (cls != "function" and target not in allow.python_builtins):
            emit(CUSTOM.id, CUSTOM.severity, f"{label} from module {module!r:.100}")
            return
    why = allow.gadget(module, names)
    if why is not None:
        severity = Severity.critical if target in CRITICAL_GADGETS else GADGET.severity
        emit(GADGET.id, severity, f"{shown}: {why}")
    elif module is None and ">" in target and not keras_module(target.split(">", 1)[0]):
        emit(CUSTOM.id, CUSTOM.severity, f"{label} registered as {target!r:.100}")
    elif module in BUILTIN_MODULES:
        emit(UNKNOWN.id, UNKNOWN.severity, f"function {target!r:.100}, not a Keras built-in")
    elif module is None:
        emit(UNKNOWN.id, UNKNOWN.severity, f"{label} (no module; the loader must supply it)")
    else:
        emit(UNKNOWN.id, UNKNOWN.severity, f"{shown}, not an object Keras serialises")


def _registered(registered: object, cls: str, inner: object, emit: Emit, allow: AllowList) -> None:
    if not isinstance(registered, str):
        label = _label(cls, inner)
        emit(
            UNKNOWN.id, UNKNOWN.severity, f"{label} whose registered_name is a {_text(registered)}"
        )
    elif ">" in registered and registered not in allow.bare:
        package = registered.split(">", 1)[0]
        if not keras_module(package):
            label = _label(cls, inner)
            emit(CUSTOM.id, CUSTOM.severity, f"{label} registered as {registered!r:.100}")


def _inner_config(cls: str, inner: dict[object, object], emit: Emit) -> None:
    label = _label(cls, inner)
    if cls in TF_OP_CLASSES:
        function = inner.get("function")
        if isinstance(function, str):
            bare = function.removeprefix("compat.v1.").removeprefix("compat.v2.")
            if any(r in bare for r in RISKY_TF):
                emit(TF_OP.id, TF_OP.severity, f"{label} calls tf.{function:.100}")
    elif isinstance(inner.get("vocabulary"), str):
        path = inner["vocabulary"]
        emit(
            GADGET.id, GADGET.severity, f"{label} reads its vocabulary from the file {path!r:.120}"
        )
