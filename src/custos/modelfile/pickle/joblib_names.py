"""joblib's array wrapper, by name: the pickle analyser must know it (raw array bytes follow
its BUILD, so the stream has a second reading), and so must the joblib format scanner; kept
here, under both, so neither imports the other."""

from __future__ import annotations

WRAPPER_MODULES = ("joblib.numpy_pickle", "sklearn.externals.joblib.numpy_pickle")
WRAPPER_NAME = "NumpyArrayWrapper"
JOBLIB_WRAPPERS = frozenset(f"{module}.{WRAPPER_NAME}" for module in WRAPPER_MODULES)
