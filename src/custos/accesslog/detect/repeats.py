"""Repeated identical queries: at least `repeat_min` requests of a key, and `repeat_share` of
those whose input is logged, repeat an input the key sent before (hammering one input:
timing or membership probes, scraping a fixed answer, a broken retry loop). A detection
(medium); the most repeated input is named by a digest only."""

from __future__ import annotations

import numpy as np

from custos.accesslog.features import Keys
from custos.accesslog.report import Detection, mask_key
from custos.accesslog.settings import Settings
from custos.findings import Severity


def repeats(k: Keys, settings: Settings) -> tuple[list[Detection], np.ndarray]:
    """Detections, and every key's share of repeats (0 without logged inputs)."""
    repeated = k.hashed_inputs - k.distinct_inputs
    share = np.where(k.hashed_inputs > 0, repeated / np.maximum(k.hashed_inputs, 1), 0.0)
    out: list[Detection] = []
    for i in np.flatnonzero((repeated >= settings.repeat_min)
                            & (share >= settings.repeat_share)).tolist():  # fmt: skip
        out.append(Detection(
            "repeated-queries", Severity.medium,
            f"{int(repeated[i]):,} of {int(k.hashed_inputs[i]):,} requests ({share[i]:.0%}) "
            f"repeat an earlier input; {int(k.distinct_inputs[i]):,} distinct inputs, the most "
            f"repeated sent {int(k.top_repeat[i]):,} times",
            float(share[i]), float(k.first[i]), float(k.last[i]), mask_key(k.api_key[i]), None,
            {"repeats": int(repeated[i]), "requests_with_input": int(k.hashed_inputs[i]),
             "distinct_inputs": int(k.distinct_inputs[i]), "share": round(float(share[i]), 4),
             "top_input_count": int(k.top_repeat[i]),
             "top_input_digest": f"{int(k.top_hash[i]):016x}"},
        ))  # fmt: skip
    return out, share
