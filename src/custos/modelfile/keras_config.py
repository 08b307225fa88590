"""Judging a Keras model config (the JSON of config.json, model_config, keras_metadata).

- `keras/lambda-layer` (critical): Lambda layers and `__lambda__` objects carry marshalled
  Python bytecode that runs when the model is loaded or called.
- `keras/custom-object` (high): a `module` outside Keras' own namespaces, or a
  `registered_name` of the form `package>Name` for a package other than Keras: loading imports
  that module (the mechanism behind CVE-2024-3660 and CVE-2025-1550).
- `keras/tf-op` (high): a TFOpLambda layer calling a TensorFlow function that touches files or
  runs Python (`tf.io.*`, `py_function`, ...).
"""

from __future__ import annotations

from collections.abc import Callable

from custos.checks.model import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.rules import rule

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
KERAS_MODULES = ("keras", "tf_keras", "tensorflow.keras", "tensorflow.python.keras")
LAMBDA_CLASSES = frozenset({"Lambda", "__lambda__"})
RISKY_TF = ("io.", "gfile", "py_function", "numpy_function", "py_func", "compat.v1.py_func",
            "print", "debugging.", "summary.", "saved_model.", "data.experimental.")  # fmt: skip
MAX_NODES = 1_000_000
Emit = Callable[[str, Severity, str], None]


def keras_module(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in KERAS_MODULES)


def check_config(config: object, location: str, ctx: ScanContext) -> None:
    """Walk a config depth-first (iteratively: configs can be deep) and report what it loads."""
    reported: set[tuple[str, str]] = set()

    def emit(rule_id: str, severity: Severity, message: str) -> None:
        if (rule_id, message) not in reported:
            reported.add((rule_id, message))
            ctx.emit(rule_id, severity, message, location)

    pending: list[object] = [config]
    seen = 0
    while pending and seen < MAX_NODES:
        node = pending.pop()
        seen += 1
        if isinstance(node, list):
            pending.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        _judge(node, emit)
        pending.extend(node.values())


def _judge(node: dict[object, object], emit: Emit) -> None:
    cls, module, registered = (
        node.get("class_name"),
        node.get("module"),
        node.get("registered_name"),
    )
    inner = node.get("config")
    name = inner.get("name") if isinstance(inner, dict) else None
    label = f"{cls}" + (f" {name!r:.80}" if isinstance(name, str) else "")
    if cls in LAMBDA_CLASSES or (
        isinstance(inner, dict) and inner.get("function_type") == "lambda"
    ):
        emit(LAMBDA.id, LAMBDA.severity, f"Lambda layer {label}")
    if isinstance(module, str) and not keras_module(module):
        emit(CUSTOM.id, CUSTOM.severity, f"{label} from module {module!r:.100}")
    if isinstance(registered, str) and ">" in registered:
        package = registered.split(">", 1)[0]
        if not keras_module(package):
            emit(CUSTOM.id, CUSTOM.severity, f"{label} registered as {registered!r:.100}")
    if cls in ("TFOpLambda", "SlicingOpLambda") and isinstance(inner, dict):
        function = inner.get("function")
        if isinstance(function, str) and any(r in function for r in RISKY_TF):
            emit(TF_OP.id, TF_OP.severity, f"{label} calls tf.{function:.100}")
