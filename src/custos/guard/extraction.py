"""Live extraction detection, per key: PRADA's test (custos.accesslog.detect.extraction, Juuti
et al., 2019) run online. Each key keeps its last `window` numeric inputs; a new input's
minimum L2 distance to them joins the key's last `max_distances` distances (the first `warmup`
inputs and exact repeats left out), and every `every` distances, once there are
`min_queries`, Shapiro-Wilk's W of them is tested: natural queries lie at roughly normally
distributed distances, inputs synthesised from a few seeds cluster at tiny distances with
jumps (W below `delta`). A sweep on a lattice gives one repeated distance: no spread at all,
flagged too.

Unlike the monitor there is no natural traffic to calibrate against and no quantile scaling
(inputs are raw), and the test is repeated as traffic arrives, so the default `delta` is lower
than PRADA's 0.90: on Gaussian inputs of 5 to 10 features, the lowest W of 20 natural keys
over 600 requests each was 0.82 to 0.91 (with 4 features 0.79; with 2 about 0.6, where the
test does not apply), while seeds-and-steps clients score 0.2 to 0.5. Calibrate `delta` on
your own traffic (`custos monitor` reports every key's W). The keys tracked are bounded
(`max_keys`, least recently seen dropped)."""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from custos.accesslog.stats import shapiro_w

INPUT_FIELDS = ("input", "inputs", "instances", "features", "data", "x")
MAX_DIM = 4096


@dataclass(frozen=True, slots=True)
class ExtractionSettings:
    delta: float = 0.80  # the threshold on W (PRADA: 0.90 offline; see above)
    min_queries: int = 100  # distances needed before testing
    warmup: int = 16  # a key's first inputs: their distances are to too few others
    window: int = 256  # recent inputs per key
    max_distances: int = 512  # recent distances per key
    every: int = 16  # test every this many new distances
    max_keys: int = 10_000


@dataclass(frozen=True, slots=True)
class Verdict:
    shapiro_w: float
    distances: int


@dataclass(slots=True)
class _Key:
    inputs: np.ndarray  # a ring of the last `window` inputs
    distances: deque[float]
    count: int = 0  # inputs seen since the last (re)start
    since_test: int = 0
    flagged: bool = False


def vector(value: Any) -> list[float] | None:
    """The numeric input of a request body: a list of numbers, an object of named numbers
    (sorted by name), or either under a usual field (`input`, `instances`, ...; of a batch,
    the first row). None when there is none."""
    if isinstance(value, dict):
        for name in INPUT_FIELDS:
            if name in value:
                return vector(value[name])
        items = sorted(value.items())
        if items and all(_num(v) for _, v in items):
            return [float(v) for _, v in items][:MAX_DIM]
        return None
    if isinstance(value, list) and value:
        if all(_num(v) for v in value):
            return [float(v) for v in value][:MAX_DIM]
        return vector(value[0]) if isinstance(value[0], list | dict) else None
    return None


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


class Detector:
    def __init__(self, settings: ExtractionSettings | None = None) -> None:
        self.settings = settings or ExtractionSettings()
        self._keys: OrderedDict[str, _Key] = OrderedDict()

    def observe(self, key: str, x: list[float]) -> Verdict | None:
        """Record key's input; a Verdict when this input makes the key's window a detection
        (once per key; `reset` re-arms it)."""
        s = self.settings
        state = self._keys.get(key)
        if state is None or state.inputs.shape[1] != len(x):  # new, or another input shape
            state = _Key(np.empty((s.window, len(x))), deque(maxlen=s.max_distances))
            self._keys[key] = state
            if len(self._keys) > s.max_keys:
                self._keys.popitem(last=False)
        else:
            self._keys.move_to_end(key)
        v = np.array(x, dtype=np.float64)
        held = min(state.count, s.window)
        if held >= s.warmup:
            diff = state.inputs[:held] - v
            d = math.sqrt(float(np.einsum("ij,ij->i", diff, diff).min()))
            if d > 0.0 and math.isfinite(d):
                state.distances.append(d)
                state.since_test += 1
        state.inputs[state.count % s.window] = v
        state.count += 1
        if (state.flagged or len(state.distances) < s.min_queries
                or state.since_test < s.every):  # fmt: skip
            return None
        state.since_test = 0
        d_all = np.fromiter(state.distances, dtype=np.float64)
        spread = float(d_all.std())
        w = 0.0 if spread <= 1e-9 * max(1.0, float(d_all.mean())) else shapiro_w(d_all)
        if w < s.delta:
            state.flagged = True
            return Verdict(w, int(d_all.size))
        return None

    def reset(self, key: str) -> None:
        self._keys.pop(key, None)
