"""Regenerate src/custos/modelfile/data/keras_allow.json: the Keras objects a config may name.

The model scanner never imports Keras; this script does, once, to list what the real packages
can serialise: every class Keras can rebuild from a config (Keras 3: subclasses of
KerasSaveable; tf_keras: layers, losses, metrics, initializers, regularizers, constraints,
optimizers, learning-rate schedules, dtype policies), under its public name (`keras.layers`)
and its internal module path (`keras.src.layers.core.dense`), plus the built-in functions
Keras looks up by bare name (activations, losses, metrics, ...).

Left out on purpose, and so reported when a config names them (keras_config.py):

- DENY_CLASSES: serialisable classes whose config loads code or files (Lambda, TFSMLayer,
  TorchModuleWrapper, ...);
- everything under GADGET_MODULES and every name in GADGET_NAMES: downloads, file access,
  model loading, global settings, code evaluation. These lists are also written to the data
  file, which is how the scanner tells a gadget (high) from an unknown name (medium).

Run it where `keras` is installed (the dev extra has it; KERAS_BACKEND defaults to torch) and,
to refresh the Keras 2 names, where `tf_keras` (and TensorFlow) is installed too:

    .venv/bin/python scripts/gen_keras_allow.py

Without tf_keras the Keras 2 section of the existing data file is kept as it is.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import json
import os
import pkgutil
import sys
import types
import warnings
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "src" / "custos" / "modelfile" / "data"
OUT = DATA / "keras_allow.json"

# Roots under which Keras has lived; the scanner reads each as `keras`.
ROOTS = ["keras", "tf_keras", "tensorflow.keras", "tensorflow.python.keras"]

# Namespaces whose plain functions Keras deserialises (serialization_lib.BUILTIN_MODULES in
# Keras 3 and tf_keras): `{"module": "builtins", "class_name": "function", "config": NAME}` is
# looked up as keras.<namespace>.NAME. Their helpers are not objects a config names.
FUNCTION_NAMESPACES = (
    "activations", "constraints", "initializers", "losses", "metrics", "optimizers",
    "regularizers",
)  # fmt: skip
HELPERS = frozenset({"get", "serialize", "deserialize"})

# Serialisable classes that load code or files from their config.
DENY_CLASSES = {
    "Lambda": "runs a Python function (marshalled bytecode or any named function) on call",
    "TFSMLayer": "loads and runs a TensorFlow SavedModel from a path in its config",
    "TorchModuleWrapper": "unpickles a torch module from its config (torch.load)",
    "JaxLayer": "calls JAX functions named in its config",
    "FlaxLayer": "calls a Flax module named in its config",
}

# Namespaces that hold no modelling object: files, network, model loading, global settings.
GADGET_MODULES = {
    "keras.applications": "builds a model and downloads its weights",
    "keras.backend": "backend settings and session state",
    "keras.callbacks": "training callbacks: write files, talk to servers",
    "keras.config": "global settings (enable_unsafe_deserialization turns safe mode off)",
    "keras.datasets": "downloads data sets",
    "keras.distribution": "global device and distribution settings",
    "keras.export": "exports or loads SavedModels",
    "keras.preprocessing": "reads files from disk",
    "keras.saving": "loads, saves or deserialises models",
    "keras.visualization": "draws and writes plots",
    "keras.src.applications": "builds a model and downloads its weights",
    "keras.src.backend.common.global_state": "global settings (safe mode lives here)",
    "keras.src.backend.config": "global settings",
    "keras.src.callbacks": "training callbacks: write files, talk to servers",
    "keras.src.datasets": "downloads data sets",
    "keras.src.distribution": "global device and distribution settings",
    "keras.src.export": "exports or loads SavedModels",
    "keras.src.legacy.saving": "loads or deserialises models",
    "keras.src.saving": "loads, saves or deserialises models",
    "keras.src.utils.file_utils": "downloads, extracts and writes files",
    "keras.src.utils.io_utils": "file and console output",
    "keras.src.utils.python_utils": "rebuilds functions from marshalled bytecode",
    "keras.src.utils.image_utils": "reads and writes image files",
    "keras.src.utils.dataset_utils": "reads data sets from directories",
    "keras.src.utils.audio_dataset_utils": "reads data sets from directories",
    "keras.src.utils.image_dataset_utils": "reads data sets from directories",
    "keras.src.utils.text_dataset_utils": "reads data sets from directories",
    "keras.src.utils.model_visualization": "writes plots, runs Graphviz",
    "keras.src.visualization": "draws and writes plots",
    # Keras 2 (tf.keras, tf_keras) internals, spelled with the `keras` root
    "keras.src.utils.data_utils": "downloads, extracts and writes files",
    "keras.utils.data_utils": "downloads, extracts and writes files",
    "keras.src.utils.vis_utils": "writes plots, runs Graphviz",
    "keras.src.saving.legacy": "loads or deserialises models",
    "keras.saving.legacy": "loads or deserialises models",
    "keras.src.engine.saving": "loads models",
    "keras.engine.saving": "loads models",
}

# Names that are gadgets wherever they are found (in a Keras module or bare).
GADGET_NAMES = {
    "get_file": "downloads a URL to a path named in the config",
    "extract_archive": "extracts an archive to a chosen path",
    "load_model": "loads another model file (possibly with safe mode off)",
    "save_model": "writes a model file",
    "load_weights": "reads a weights file",
    "save_weights": "writes a weights file",
    "model_from_json": "builds a model from another config",
    "model_from_yaml": "builds a model from YAML",
    "model_from_config": "builds a model from another config",
    "load_img": "reads a file",
    "save_img": "writes a file",
    "image_dataset_from_directory": "reads files from a directory",
    "text_dataset_from_directory": "reads files from a directory",
    "audio_dataset_from_directory": "reads files from a directory",
    "plot_model": "writes an image, runs Graphviz",
    "model_to_dot": "runs Graphviz",
    "enable_unsafe_deserialization": "turns safe mode off for everything loaded after it",
    "set_global_attribute": "changes Keras' global state (safe mode lives there)",
    "safe_mode_scope": "changes safe mode",
    "SafeModeScope": "changes safe mode",
    "deserialize_keras_object": "deserialises another config",
    "deserialize": "deserialises another config",
    "serialize_keras_object": "not a modelling object",
    "register_keras_serializable": "registers code under a name",
    "get_custom_objects": "exposes the custom-object registry",
    "custom_object_scope": "changes the custom-object registry",
    "CustomObjectScope": "changes the custom-object registry",
    "func_load": "rebuilds a function from marshalled bytecode",
    "func_dump": "not a modelling object",
    "clear_session": "resets global state",
    "set_random_seed": "changes global random state",
    "set_floatx": "changes a global setting",
    "set_epsilon": "changes a global setting",
    "set_image_data_format": "changes a global setting",
    "set_backend": "changes the backend",
    "set_global_policy": "changes a global setting",
    "set_dtype_policy": "changes a global setting",
    "disable_interactive_logging": "changes a global setting",
    "enable_interactive_logging": "changes a global setting",
    "enable_traceback_filtering": "changes a global setting",
    "disable_traceback_filtering": "changes a global setting",
    "enable_flash_attention": "changes a global setting",
    "disable_flash_attention": "changes a global setting",
    "set_max_epochs": "changes a global setting",
    "set_max_steps_per_epoch": "changes a global setting",
    "print_msg": "console output",
    "ModelCheckpoint": "writes files",
    "BackupAndRestore": "writes and reads files",
    "CSVLogger": "writes files",
    "TensorBoard": "writes files",
    "RemoteMonitor": "sends data over the network",
    "LambdaCallback": "runs functions",
    "ExportArchive": "exports SavedModels",
    # Python's own code-running names, reached through `builtins` or an attribute walk
    "eval": "evaluates code",
    "exec": "runs code",
    "compile": "compiles code",
    "__import__": "imports a module",
    "import_module": "imports a module",
    "open": "opens a file",
    "system": "runs a shell command",
    "popen": "runs a shell command",
    "getattr": "reaches any attribute",
    "setattr": "changes any attribute",
    "delattr": "changes any attribute",
    "globals": "reaches interpreter state",
    "breakpoint": "starts a debugger",
    "input": "reads the console",
    "exit": "stops the process",
    "quit": "stops the process",
}

# Keras 2 JSON structures with a class_name but no module (legacy json_utils and SavedModel
# metadata), and the Keras 3 special objects (serialization_lib) other than `__lambda__`.
STRUCTURAL = [
    "__bytes__", "__ellipsis__", "__keras_tensor__", "__numpy__", "__slice__", "__tensor__",
    "__tuple__", "CompositeTensor", "InputSpec", "TensorShape", "TypeSpec",
]  # fmt: skip

# TensorFlow TypeSpec classes Keras 3 writes as `__typespec__` (module tensorflow...).
TYPESPECS = [
    "TensorSpec", "BoundedTensorSpec", "RaggedTensorSpec", "SparseTensorSpec",
    "DatasetSpec", "OptionalSpec", "TensorArraySpec", "IndexedSlicesSpec",
]  # fmt: skip

# Class names of Keras 2 versions older than the tf_keras used to generate (HDF5 files from
# Keras 2.0-2.12 and TensorFlow 1.x): renamed or removed since.
LEGACY_KERAS2 = [
    "Model", "CuDNNGRU", "CuDNNLSTM", "ThresholdedReLU", "LocallyConnected1D",
    "LocallyConnected2D", "DenseFeatures", "SequenceFeatures", "LinearModel", "WideDeepModel",
    "CategoryCrossing", "CategoryEncoding", "Hashing", "Discretization", "Normalization",
    "PreprocessingLayer", "RandomFourierFeatures", "SyncBatchNormalization",
    "EinsumDense", "Merge", "MaxoutDense", "Highway", "TimeDistributedDense", "Convolution2D",
    "Convolution1D", "Convolution3D", "AtrousConvolution1D", "AtrousConvolution2D",
    "Deconvolution2D", "Deconvolution3D", "SeparableConvolution2D", "AlphaDropout",
    "Nadam", "Adam", "Adamax", "Adagrad", "Adadelta", "RMSprop", "SGD", "Ftrl",
]  # fmt: skip


def root_spelled_keras(module: str) -> str:
    for root in ROOTS:
        if module == root or module.startswith(root + "."):
            return "keras" + module[len(root) :]
    return module


def in_gadget_module(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in GADGET_MODULES)


def allowed(module: str, name: str, obj: object) -> bool:
    module = root_spelled_keras(module)
    return not (
        in_gadget_module(module)
        or name in GADGET_NAMES
        or name in DENY_CLASSES
        or getattr(obj, "__name__", "") in DENY_CLASSES
        or name.startswith("_")
    )


def walk(package: types.ModuleType, skip: tuple[str, ...]) -> list[types.ModuleType]:
    """Every importable module of a package, tests and `skip` prefixes left out."""
    found = [package]
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        name = info.name
        if "test" in name or "__internal__" in name or any(name.startswith(s) for s in skip):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found.append(importlib.import_module(name))
        except Exception as err:  # a backend that is not installed, say
            print(f"  skipped {name}: {type(err).__name__}", file=sys.stderr)
    return found


class Collector:
    def __init__(self) -> None:
        self.objects: dict[str, set[str]] = {}
        self.bare: set[str] = set()
        self.functions: set[str] = set()

    def add(self, module: str, name: str, *, bare: bool = True) -> None:
        self.objects.setdefault(root_spelled_keras(module), set()).add(name)
        if bare:
            self.bare.add(name)

    def data(self) -> dict[str, Any]:
        return {
            "objects": {m: sorted(n) for m, n in sorted(self.objects.items())},
            "bare": sorted(self.bare),
            "functions": sorted(self.functions),
        }


def public_function(namespace: str, name: str, obj: object) -> bool:
    """A function of keras.activations, keras.losses, ... (Keras 3 also mirrors them under
    keras._tf_keras.keras)."""
    last = namespace.removeprefix("keras._tf_keras.").rsplit(".", 1)
    return (
        inspect.isfunction(obj)
        and last[0] == "keras"
        and last[-1] in FUNCTION_NAMESPACES
        and name not in HELPERS
        and not name.startswith("_")
    )


def keras3() -> tuple[str, dict[str, Any]]:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    from keras.src.saving.keras_saveable import KerasSaveable

    out = Collector()

    def saveable(obj: object) -> bool:
        # What deserialize_keras_object rebuilds: a class with from_config (initializers,
        # regularizers, constraints, schedules and dtype policies are not KerasSaveable).
        return isinstance(obj, type) and (
            issubclass(obj, KerasSaveable) or callable(getattr(obj, "from_config", None))
        )

    # Public namespaces (keras.layers, keras.optimizers.schedules, keras._tf_keras.keras...).
    for module in walk(keras, ("keras.src",)):
        namespace = module.__name__
        for name, obj in vars(module).items():
            if saveable(obj) and allowed(namespace, name, obj):
                out.add(namespace, name)
                out.add(obj.__module__, obj.__name__)
            elif public_function(namespace, name, obj) and allowed(namespace, name, obj):
                out.add(namespace, name, bare=False)
                out.add(obj.__module__, obj.__name__, bare=False)
                out.functions.add(name)
    # Canonical export names, which serialisation writes even where no such module exists
    # (keras._legacy.layers.AlphaDropout).
    from keras.src import api_export

    for api_name, obj in api_export.REGISTERED_NAMES_TO_OBJS.items():
        namespace, name = api_name.rsplit(".", 1)
        if saveable(obj) and allowed(namespace, name, obj):
            out.add(namespace, name)
    # Internal classes (operations, backend optimizers, layers of keras.applications...).
    # Backend packages are left to the source scan below, so that the output does not depend
    # on which backends are installed.
    backends = tuple(
        f"keras.src.backend.{b}" for b in ("jax", "numpy", "openvino", "tensorflow", "torch")
    )
    for module in walk(keras.src, (*backends, "keras.src.testing")):
        for name, obj in vars(module).items():
            if (
                saveable(obj)
                and obj.__module__ == module.__name__
                and allowed(module.__name__, name, obj)
            ):
                out.add(module.__name__, name)
    # Backend optimizers of backends not installed here: read from the source, not imported.
    base = Path(keras.src.__file__).parent / "backend"
    for path in sorted(base.glob("*/optimizers/*.py")) + sorted(base.glob("*/optimizer.py")):
        module = ".".join(path.relative_to(base.parents[2]).with_suffix("").parts)
        for node in ast.parse(path.read_text("utf-8")).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                out.add(module, node.name)
    return keras.__version__, out.data()


def tf_keras() -> tuple[str, dict[str, Any]] | None:
    try:
        import tf_keras as tk
    except ImportError:
        return None
    from tf_keras.src import constraints, initializers, losses, metrics, regularizers
    from tf_keras.src.engine.base_layer import Layer
    from tf_keras.src.engine.input_spec import InputSpec
    from tf_keras.src.mixed_precision.policy import Policy
    from tf_keras.src.optimizers import optimizer as new_optimizer
    from tf_keras.src.optimizers.legacy import optimizer_v2
    from tf_keras.src.optimizers.schedules.learning_rate_schedule import LearningRateSchedule
    from tf_keras.src.saving import object_registration

    bases = (
        Layer, losses.Loss, metrics.Metric, initializers.Initializer,
        regularizers.Regularizer, constraints.Constraint, optimizer_v2.OptimizerV2,
        new_optimizer.Optimizer, LearningRateSchedule, Policy, InputSpec,
    )  # fmt: skip
    out = Collector()

    def saveable(obj: object) -> bool:
        return isinstance(obj, type) and issubclass(obj, bases)

    def add_internal(module: str, name: str, *, bare: bool = True) -> None:
        # tf_keras.src.x (tf_keras), keras.src.x (Keras 2.13-2.15), keras.x (Keras 2.0-2.12,
        # also tensorflow.python.keras.x)
        out.add(module, name, bare=bare)
        spelled = root_spelled_keras(module)
        if spelled.startswith("keras.src."):
            out.add("keras." + spelled[len("keras.src.") :], name, bare=bare)

    api = importlib.import_module("tf_keras.api._v2.keras")
    for module in walk(api, ()):
        namespace = "keras" + module.__name__[len(api.__name__) :]
        for name, obj in vars(module).items():
            if saveable(obj) and allowed(namespace, name, obj):
                out.add(namespace, name)
                add_internal(obj.__module__, obj.__name__)
            elif public_function(namespace, name, obj) and allowed(namespace, name, obj):
                out.add(namespace, name, bare=False)
                add_internal(obj.__module__, obj.__name__, bare=False)
                out.functions.add(name)
    for module in walk(tk.src, ("tf_keras.src.testing_infra", "tf_keras.src.benchmarks")):
        for name, obj in vars(module).items():
            if (
                saveable(obj)
                and obj.__module__ == module.__name__
                and allowed(module.__name__, name, obj)
            ):
                add_internal(module.__name__, name)
    # Names tf_keras registers for its own classes ("Custom>Adam" in optimizer configs).
    for name, obj in object_registration._GLOBAL_CUSTOM_OBJECTS.items():
        if getattr(obj, "__module__", "").startswith("tf_keras."):
            out.bare.add(name)
    return tk.__version__, out.data()


def main() -> None:
    previous = json.loads(OUT.read_text("utf-8")) if OUT.exists() else {}
    k3_version, k3 = keras3()
    sources = {"keras": {"version": k3_version, **k3}}
    k2 = tf_keras()
    if k2 is not None:
        sources["tf_keras"] = {"version": k2[0], **k2[1]}
    elif "tf_keras" in previous.get("sources", {}):
        print("tf_keras not installed: its section is kept from the existing file")
        sources["tf_keras"] = previous["sources"]["tf_keras"]
    python = sorted(
        n for n in dir(builtins) if callable(getattr(builtins, n)) and not n[0].isupper()
    )
    data = {
        "about": "Generated by scripts/gen_keras_allow.py from the real Keras packages; "
        "edit the script, not this file. Read by custos.modelfile.formats.keras_config.",
        "format": 1,
        "roots": ROOTS,
        "structural": STRUCTURAL,
        "typespecs": TYPESPECS,
        "legacy_keras2": LEGACY_KERAS2,
        "deny_classes": DENY_CLASSES,
        "gadget_modules": GADGET_MODULES,
        "gadget_names": GADGET_NAMES,
        "python_builtins": python,
        "sources": sources,
    }
    OUT.write_text(json.dumps(data, indent=0, sort_keys=False) + "\n", encoding="utf-8")
    counts = {k: sum(len(v) for v in s["objects"].values()) for k, s in sources.items()}
    print(f"wrote {OUT}: {counts}")


if __name__ == "__main__":
    main()
