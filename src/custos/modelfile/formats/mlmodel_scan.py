"""MLflow `MLmodel` files: the YAML that tells `mlflow.pyfunc.load_model` what code to run.

MLflow reads `MLmodel` with `yaml.safe_load`, then, for the `python_function` flavour, puts the
`code` folder first on `sys.path`, imports `loader_module` and calls its `_load_pyfunc` on
`data`; `mlflow.pyfunc.model` unpickles `python_model` (cloudpickle) and hands it `artifacts`;
`mlflow.pyfunc.loaders.code_model` runs the Python file `model_code_path` names. Other flavours
import `model_class` / `keras_module` and read their `data`. So:

- `mlmodel/custom-loader` (high): `loader_module` outside `mlflow.*`, or a flavour importing a
  `model_class` / `keras_module` outside its own library: loading imports that module.
- `mlmodel/code-paths` (high): a flavour with `code:` folders, put on `sys.path` on load.
- `mlmodel/model-code` (high): a model logged as code (`model_code_path`): the file is run.
- `model-dir/reference-escape` (high): a path the loader reads that is absolute or climbs out of
  the model folder; never followed.
- `mlmodel/malformed` (high): not YAML, too large, too deep, an alias bomb, wrong types.

Every artifact path is recorded (`ctx.refer`) so that a directory walk can check that it is
there (model_dir); the artifacts themselves are scanned by content like every other file.
"""

from __future__ import annotations

import re
from typing import Any, BinaryIO

from custos.findings import Severity
from custos.modelfile.context import ScanContext
from custos.modelfile.paths import ESCAPE, escapes
from custos.modelfile.readers.streamview import read_at, stream_size
from custos.modelfile.rules import rule

CUSTOM_LOADER = rule(
    "mlmodel/custom-loader",
    Severity.high,
    "An MLmodel flavour imports a module outside MLflow and the flavour's own library "
    "(loader_module, model_class, keras_module): loading the model runs that module.",
)
CODE_PATHS = rule(
    "mlmodel/code-paths",
    Severity.high,
    "An MLmodel flavour carries code folders (code_paths) that MLflow puts on sys.path when "
    "the model is loaded.",
)
MODEL_CODE = rule(
    "mlmodel/model-code",
    Severity.high,
    "A model logged as code (model_code_path): MLflow runs that Python file to load it.",
)
MALFORMED = rule(
    "mlmodel/malformed",
    Severity.high,
    "An MLmodel file is not valid YAML, is too large, too deep or alias-laden, or has fields "
    "of the wrong type; it could not be checked (in full).",
)
MAX_BYTES = 1 << 20  # MLflow writes a few kB; signatures of wide tables stay well under this
PYFUNC = "python_function"
FLAVORS_KEY = re.compile(r"""(?m)^["']?flavors["']?[ \t]*:""")
FLOW_FLAVORS_KEY = re.compile(r"""(?m)(^|[{,]\s*)["']?flavors["']?\s*:""")
MLFLOW_MODULE = re.compile(r"mlflow(\.[A-Za-z_]\w*)+\Z")
# Keys whose string value is a path inside the model folder, in MLflow's own flavours.
PATH_KEYS = ("data", "python_model", "pickled_model", "model_data", "model_binary",
             "model_file", "model_path", "saved_model_dir")  # fmt: skip
# The libraries a flavour's `model_class` / `keras_module` may come from.
LIBRARIES = {
    "keras": ("keras", "tensorflow", "tf_keras"), "tensorflow": ("tensorflow", "keras", "tf_keras"),
    "pytorch": ("torch",), "sklearn": ("sklearn",), "spacy": ("spacy",),
}  # fmt: skip


def scan(stream: BinaryIO, location: str, ctx: ScanContext) -> str:
    """Parse and judge an MLmodel file (the dispatcher's entry, also used for a file named
    MLmodel whatever its content)."""
    size = stream_size(stream)
    if size > MAX_BYTES:
        _malformed(ctx, location, f"{size} bytes, more than the {MAX_BYTES} an MLmodel may have")
        return "mlmodel"
    from custos.modelfile.formats.bounded_yaml import YamlRejected, load  # PyYAML only for MLmodel

    try:
        document = load(read_at(stream, 0, size).decode("utf-8"))
    except UnicodeDecodeError as err:
        _malformed(ctx, location, f"not UTF-8 text: {err.reason} at byte {err.start}")
    except YamlRejected as err:
        _malformed(ctx, location, str(err))
    else:
        check_document(document, location, ctx)
    return "mlmodel"


def looks_like_mlmodel(text: str) -> bool:
    """A top-level `flavors` key: a block key at the start of a line, or, in a document that is
    a flow mapping (`{...}`), a key after `{` or `,` (a cheap test before parsing)."""
    if "flavors" not in text:
        return False
    pattern = FLOW_FLAVORS_KEY if text.lstrip().startswith("{") else FLAVORS_KEY
    return pattern.search(text) is not None


def check_document(document: Any, location: str, ctx: ScanContext) -> None:
    if not isinstance(document, dict):
        _malformed(ctx, location, f"the document is {_kind(document)}, not a mapping")
        return
    flavors = document.get("flavors")
    if not isinstance(flavors, dict):
        _malformed(ctx, location, f"flavors is {_kind(flavors)}, not a mapping")
        return
    for name, conf in flavors.items():
        where = f"{location}!flavors.{name}"
        if conf is None:
            continue
        if not isinstance(conf, dict):
            _malformed(ctx, where, f"flavour {name!s:.80} is {_kind(conf)}, not a mapping")
            continue
        _flavour(str(name), conf, where, ctx)
    example = document.get("saved_input_example_info")
    if isinstance(example, dict):
        _path(example.get("artifact_path"), "saved_input_example_info.artifact_path",
              f"{location}!saved_input_example_info", ctx)  # fmt: skip


def _flavour(name: str, conf: dict[Any, Any], where: str, ctx: ScanContext) -> None:
    if name == PYFUNC:
        _loader(conf.get("loader_module"), where, ctx)
        artifacts = conf.get("artifacts")
        if isinstance(artifacts, dict):
            for key, info in artifacts.items():
                path = info.get("path") if isinstance(info, dict) else info
                _path(path, f"flavors.{name}.artifacts.{key}", where, ctx)
        elif artifacts is not None:
            _malformed(ctx, where, f"artifacts is {_kind(artifacts)}, not a mapping")
        env = conf.get("env")
        for key, path in env.items() if isinstance(env, dict) else [("env", env)]:
            _path(path, f"flavors.{name}.{key}", where, ctx)
    else:
        for key in ("model_class", "keras_module"):
            _imported(name, key, conf.get(key), where, ctx)
    _code(name, conf.get("code"), where, ctx)
    _model_code(name, conf.get("model_code_path"), where, ctx)
    for key in PATH_KEYS:
        _path(conf.get(key), f"flavors.{name}.{key}", where, ctx)


def _loader(module: Any, where: str, ctx: ScanContext) -> None:
    if module is None:
        return
    if not isinstance(module, str):
        _malformed(ctx, where, f"loader_module is {_kind(module)}, not a module name")
    elif not MLFLOW_MODULE.match(module):
        ctx.emit(CUSTOM_LOADER.id, CUSTOM_LOADER.severity,
                 f"python_function loader_module {module!r:.200}: loading the model imports "
                 "it and calls its _load_pyfunc", where)  # fmt: skip


def _imported(flavour: str, key: str, value: Any, where: str, ctx: ScanContext) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        _malformed(ctx, where, f"{key} is {_kind(value)}, not a name")
        return
    allowed = LIBRARIES.get(flavour, (flavour,))
    if value.split(".")[0] not in allowed:
        ctx.emit(CUSTOM_LOADER.id, CUSTOM_LOADER.severity,
                 f"flavour {flavour!r:.80} imports {key} {value!r:.200}, outside "
                 f"{' / '.join(allowed)}", where)  # fmt: skip


def _code(flavour: str, value: Any, where: str, ctx: ScanContext) -> None:
    if value is None or value == "" or value == []:
        return
    paths = value if isinstance(value, list) else [value]
    if not all(isinstance(p, str) for p in paths):
        _malformed(ctx, where, f"code is {_kind(value)}, not a path")
        return
    shown = ", ".join(repr(p) for p in paths[:20]) + (" ..." if len(paths) > 20 else "")
    ctx.emit(CODE_PATHS.id, CODE_PATHS.severity,
             f"flavour {flavour!r:.80} puts code folder(s) {shown:.400} on sys.path when the "
             "model is loaded", where)  # fmt: skip
    for path in paths:
        _path(path, f"flavors.{flavour}.code", where, ctx)


def _model_code(flavour: str, value: Any, where: str, ctx: ScanContext) -> None:
    if value is None or value == "":
        return
    if not isinstance(value, str):
        _malformed(ctx, where, f"model_code_path is {_kind(value)}, not a path")
        return
    # MLflow keeps the logging machine's path here and runs the file of that base name that sits
    # in the model folder, so the base name is the reference.
    base = value.replace("\\", "/").rsplit("/", 1)[-1]
    ctx.emit(MODEL_CODE.id, MODEL_CODE.severity,
             f"flavour {flavour!r:.80} is a model logged as code: loading runs {base!r:.200}",
             where)  # fmt: skip
    _path(base, f"flavors.{flavour}.model_code_path", where, ctx)


def _path(value: Any, what: str, where: str, ctx: ScanContext) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        _malformed(ctx, where, f"{what} is {_kind(value)}, not a path")
    elif escapes(value):
        ctx.emit(ESCAPE.id, ESCAPE.severity,
                 f"{what} is {value!r:.200}: outside the model folder; not followed",
                 where)  # fmt: skip
    else:
        ctx.refer(value, what, where)


def _malformed(ctx: ScanContext, location: str, message: str) -> None:
    ctx.emit(MALFORMED.id, MALFORMED.severity, message, location)


def _kind(value: Any) -> str:
    return "missing" if value is None else f"a {type(value).__name__}"
