"""Loading a model to measure it, the only place Custos ever deserialises one: the file must be
marked `trusted` by the organisation (`--trusted` on the command line, `trusted: true` on the
asset), and the model-file scanner must find nothing at medium or above in it first. Pickle
formats (scikit-learn through joblib or pickle) are the reason: loading runs code the file
names. ONNX models go through onnxruntime, which runs no Python code from the file.

PyTorch models are a state dict plus a declared architecture entry point (`module:callable`,
the organisation's own code, imported from the project directory): the weights are read with
`torch.load(weights_only=True)` or from `.safetensors`, never unpickled as objects, and the
entry point is imported only for a trusted model whose weights the scanner passed.

What is returned is a `Loaded` model with a uniform `predict` (and `predict_proba` where the
model has one), and the digest, format and library versions the evidence records.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from custos._hashing import sha256_file
from custos.errors import UserError
from custos.findings import Severity

PICKLE_FORMATS = frozenset({"pickle", "joblib"})
ONNX_SUFFIXES = frozenset({".onnx"})
TORCH_SUFFIXES = frozenset({".pt", ".pth", ".safetensors"})
ARCHITECTURE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")  # module:callable
NO_TORCH = "PyTorch models need torch: pip install 'custos[torch]'"


@dataclass(frozen=True)
class Loaded:
    path: Path
    sha256: str
    format: str  # "sklearn" | "onnx" | "torch"
    model: Any  # the estimator, the onnxruntime session, or the torch.nn.Module
    predict: Callable[[Any], Any]  # torch: the index of the largest output
    predict_proba: Callable[[Any], Any] | None
    versions: dict[str, str] = field(default_factory=dict)
    scanned: str = ""  # what the scanner said (and, for torch, what was imported)
    architecture: str | None = None  # torch: the entry point that built the module


def versions(*packages: str) -> dict[str, str]:
    """Installed versions of the libraries that did the work (recorded with the evidence)."""
    found = {}
    for name in packages:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def gate(path: Path, trusted: bool) -> str:
    """Refuse to load unless trusted and scanned clean; what the scanner said otherwise.
    UserError (exit 2) names the file and the reason."""
    from custos.modelfile.policy import Policy
    from custos.modelfile.scan import scan_paths

    if not trusted:
        raise UserError(
            f"{path}: not marked trusted; Custos loads a model to measure it only when the "
            "organisation vouches for the file (--trusted, or `trusted: true` on the asset)"
        )
    if not path.is_file():
        raise UserError(f"{path}: no such model file")
    reports = scan_paths([path], Policy.default())
    worst = max((r.worst() or Severity.info for r in reports), default=Severity.info)
    blocking = [f for r in reports for f in r.findings if f.severity >= Severity.medium]
    if blocking or any(r.error for r in reports):
        reason = blocking[0].message if blocking else next(r.error for r in reports if r.error)
        raise UserError(f"{path}: the model-file scanner refused it ({reason}); not loaded")
    formats = ", ".join(sorted({r.format for r in reports}))
    return f"model-file scanner: {formats}, worst finding {worst.name}; loaded as trusted"


def load(
    path: Path, trusted: bool, architecture: str | None = None, project_dir: Path | None = None
) -> Loaded:
    """The model at `path`, after `gate`; with `architecture`, a PyTorch state dict (see
    `load_torch`). UserError for what cannot be loaded."""
    if architecture is not None:
        return load_torch(path, trusted, architecture, project_dir or Path.cwd())
    scanned = gate(path, trusted)
    digest = sha256_file(path)
    suffix = path.suffix.lower()
    if suffix in TORCH_SUFFIXES:
        raise UserError(f"{path}: PyTorch weights load only with their architecture (custos "
                        "robustness --architecture module:callable, or `architecture:` on the "
                        "model asset)")  # fmt: skip
    if suffix in ONNX_SUFFIXES:
        return _onnx(path, digest, scanned)
    return _sklearn(path, digest, scanned)


def load_torch(path: Path, trusted: bool, architecture: str, project_dir: Path) -> Loaded:
    """A PyTorch model: the state dict at `path` (`torch.load(weights_only=True)`, or
    safetensors) in the module that `architecture` ("module:callable", imported with
    `project_dir` first on sys.path, called with no arguments) returns. That is the
    organisation's own code: it runs only for a trusted file the scanner passed, after the
    weights were read as a state dict. UserError (one line) for anything else."""
    if not ARCHITECTURE.fullmatch(architecture):
        raise UserError(f"architecture {architecture!r}: give module:callable, e.g. "
                        "models.arch:build")  # fmt: skip
    if not trusted:
        raise UserError(f"{path}: not marked trusted; the architecture {architecture} is the "
                        "organisation's own code, imported only for a model it vouches for "
                        "(--trusted, or `trusted: true` on the asset); nothing was imported "
                        "or loaded")  # fmt: skip
    scanned = gate(path, trusted)
    digest = sha256_file(path)
    try:
        import numpy as np
        import torch
    except ImportError:
        raise UserError(NO_TORCH) from None
    state, reader = _state_dict(path)
    module, origin = _build(architecture, project_dir)
    expected = set(module.state_dict())
    missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
    if missing or unexpected:
        said = (f"missing {', '.join(missing[:3])}" if missing
                else f"unexpected {', '.join(unexpected[:3])}")  # fmt: skip
        raise UserError(f"{path}: the weights do not fit {architecture} ({said}"
                        f"{', ...' if len(missing or unexpected) > 3 else ''})")  # fmt: skip
    try:
        module.load_state_dict(state, strict=True)
    except Exception as exc:  # shapes that differ: torch's message, on one line
        raise UserError(f"{path}: the weights do not fit {architecture}: {_line(exc)}") from None
    module.eval()

    def logits(x: Any) -> Any:
        with torch.no_grad():
            return module(torch.as_tensor(np.asarray(x, dtype=np.float32))).numpy()

    def predict(x: Any) -> Any:
        return np.argmax(logits(x), axis=1)

    def proba(x: Any) -> Any:
        out = logits(x)
        out = np.exp(out - out.max(axis=1, keepdims=True))
        return out / out.sum(axis=1, keepdims=True)

    scanned = (f"{scanned}; state dict read with {reader}; architecture {architecture} "
               f"imported from {origin}: the organisation's own code, run because the model "
               "is trusted")  # fmt: skip
    libraries = ("torch", "numpy", "safetensors") if reader == "safetensors" else ("torch", "numpy")
    return Loaded(path, digest, "torch", module, predict, proba, versions(*libraries), scanned,
                  architecture)  # fmt: skip


def _state_dict(path: Path) -> tuple[dict[str, Any], str]:
    """The tensors of a state dict by name, and what read them; never an unpickled object."""
    import torch

    if path.suffix.lower() == ".safetensors":
        try:
            from safetensors.torch import load_file
        except ImportError:
            raise UserError(f"{path}: reading .safetensors needs safetensors: pip install "
                            "safetensors") from None  # fmt: skip
        try:
            return dict(load_file(str(path), device="cpu")), "safetensors"
        except Exception as exc:
            raise UserError(f"{path}: not readable as safetensors: {_line(exc)}") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # an object pickled whole (torch.save(model)) lands here
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(exc))
        said = f"it pickles {found[1]}" if found else _line(exc, 120)
        raise UserError(f"{path}: not a state dict: torch.load(weights_only=True) refused it "
                        f"({said}); save model.state_dict(), not the model") from None  # fmt: skip
    if not isinstance(state, Mapping) or not state:
        raise UserError(f"{path}: not a state dict but {type(state).__name__}; save "
                        "model.state_dict()")  # fmt: skip
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise UserError(f"{path}: not a state dict: {key!r} holds "
                            f"{type(value).__name__}, not a tensor; save model.state_dict() "
                            "alone, not a checkpoint")  # fmt: skip
    return dict(state), "torch.load(weights_only=True)"


def _build(architecture: str, project_dir: Path) -> tuple[Any, str]:
    """The module the entry point returns, and where its code came from."""
    import torch

    name, _, attribute = architecture.partition(":")
    with _on_path(project_dir):
        try:
            code = importlib.import_module(name)
        except Exception as exc:  # missing, or failing at import: one line
            raise UserError(f"architecture {architecture}: cannot import {name} from "
                            f"{project_dir} or the Python path: "
                            f"{_line(exc)}") from None  # fmt: skip
        factory = getattr(code, attribute, None)
        if factory is None:
            raise UserError(f"architecture {architecture}: {name} has no {attribute}")
        if not callable(factory):
            raise UserError(f"architecture {architecture}: {attribute} "
                            f"({type(factory).__name__}) is not callable")  # fmt: skip
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)  # the initial weights are replaced, but seeded anyway
                module = factory()
        except Exception as exc:
            raise UserError(f"architecture {architecture}: calling {attribute}() failed: "
                            f"{_line(exc)}") from None  # fmt: skip
    if not isinstance(module, torch.nn.Module):
        raise UserError(f"architecture {architecture}: {attribute}() returned "
                        f"{type(module).__name__}, not a torch.nn.Module")  # fmt: skip
    file = getattr(code, "__file__", None)
    origin = str(file) if file else name
    if file:
        with suppress(ValueError):  # code from elsewhere on the path: its full name
            origin = Path(file).resolve().relative_to(project_dir.resolve()).as_posix()
    return module, origin


@contextmanager
def _on_path(directory: Path) -> Iterator[None]:
    """`directory` first on sys.path while the entry point is imported and called."""
    entry = str(directory.resolve())
    sys.path.insert(0, entry)
    importlib.invalidate_caches()
    try:
        yield
    finally:
        if entry in sys.path:
            sys.path.remove(entry)


def _line(exc: BaseException, limit: int = 200) -> str:
    """An exception as one short line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:limit]


def _sklearn(path: Path, digest: str, scanned: str) -> Loaded:
    try:
        import joblib
    except ImportError:
        raise UserError("loading scikit-learn models needs joblib and scikit-learn: "
                        "pip install 'custos[robustness]'") from None  # fmt: skip
    try:
        model = joblib.load(path)  # trusted and scanned clean: see gate()
    except Exception as exc:  # a corrupt or foreign file: one line, not a traceback
        raise UserError(f"{path}: cannot load as a scikit-learn model: {exc}") from None
    if not hasattr(model, "predict"):
        raise UserError(f"{path}: {type(model).__name__} has no predict(): not a model")
    proba = getattr(model, "predict_proba", None)
    return Loaded(path, digest, "sklearn", model, model.predict, proba,
                  versions("scikit-learn", "joblib", "numpy"), scanned)  # fmt: skip


def _onnx(path: Path, digest: str, scanned: str) -> Loaded:
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError:
        raise UserError("ONNX models need onnxruntime: pip install onnxruntime") from None
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise UserError(f"{path}: onnxruntime cannot open it: {exc}") from None
    name = session.get_inputs()[0].name
    outputs = [o.name for o in session.get_outputs()]

    def run(x: Any) -> list[Any]:
        result: list[Any] = session.run(None, {name: np.asarray(x, dtype=np.float32)})
        return result

    def predict(x: Any) -> Any:
        return np.asarray(run(x)[0]).reshape(len(x), -1).squeeze(-1)

    proba = None
    if len(outputs) > 1:

        def proba(x: Any) -> Any:  # classifiers exported by skl2onnx: label, probabilities
            raw = run(x)[1]
            if isinstance(raw, list) and raw and isinstance(raw[0], dict):
                keys = sorted(raw[0])
                return np.array([[row[k] for k in keys] for row in raw])
            return np.asarray(raw)

    return Loaded(path, digest, "onnx", session, predict, proba,
                  versions("onnxruntime", "numpy"), scanned)  # fmt: skip
