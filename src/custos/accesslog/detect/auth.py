"""Authentication-failure sprays: 401/403 responses from one address in consecutive windows.
A spray (high) is at least `spray_failures` failures with at least `spray_keys` distinct keys
in one window (guessing or replaying keys); a burst (medium) is `spray_burst` failures when the
log does not record the keys tried; fewer keys with many failures is a client with a revoked
key (low)."""

from __future__ import annotations

import numpy as np

from custos.accesslog.features import Failures
from custos.accesslog.report import Detection, mask_key
from custos.accesslog.settings import Settings
from custos.findings import Severity

LISTED = 10


def sprays(f: Failures, settings: Settings) -> list[Detection]:
    out: list[Detection] = []
    episodes: list[list[int]] = []
    for j in range(len(f.ip)):
        if episodes and f.ip[episodes[-1][-1]] == f.ip[j] and f.b[j] == f.b[episodes[-1][-1]] + 1:
            episodes[-1].append(j)
        else:
            episodes.append([j])
    for rows in episodes:
        counts, keys, keyless = f.count[rows], f.keys[rows], f.keyless[rows]
        spray = (counts >= settings.spray_failures) & (keys >= settings.spray_keys)
        burst = (counts >= settings.spray_burst) & (keys < settings.spray_keys)
        if not spray.any() and not burst.any():
            continue
        tried = sorted({key for j in rows for key in f.tried[j]})
        unlogged = bool(burst.any() and int(keyless.sum()) >= int(counts.sum()) // 2)
        if spray.any():
            kind, severity = "auth-spray", Severity.high
            what = f"{len(tried)} distinct keys"
        elif unlogged:
            kind, severity = "auth-spray", Severity.medium
            what = "keys not logged"
        else:
            kind, severity = "auth-failures", Severity.low
            what = f"{len(tried)} key(s)"
        total = int(counts.sum())
        out.append(Detection(
            kind, severity,
            f"{total:,} authentication failures (401/403) from one address in {len(rows)} "
            f"window(s) of {settings.window_seconds} s, {what}",
            float(total), float(np.min(f.first[rows])), float(np.max(f.last[rows])), None,
            f.ip[rows[0]],
            {"failures": total, "windows": len(rows), "distinct_keys": len(tried),
             "without_key": int(keyless.sum()), "peak_window_failures": int(counts.max()),
             "keys_tried": [mask_key(key) for key in tried[:LISTED]]},
        ))  # fmt: skip
    return out
