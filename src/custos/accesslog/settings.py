"""Every threshold of the access-log monitor, in one frozen dataclass (docs/runtime.md lists
them with their reasons). The json output states the values used (`thresholds`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

LogFormat = Literal["auto", "jsonl", "nginx", "alb", "otel"]
FORMATS: tuple[LogFormat, ...] = ("auto", "jsonl", "nginx", "alb", "otel")
# The canonical fields of a request; a JSON Lines log names them so, or the manifest maps them.
FIELDS = ("ts", "api_key", "client_ip", "endpoint", "method", "status", "latency_ms", "input",
          "output", "user_agent")  # fmt: skip


@dataclass(frozen=True)
class Settings:
    window_seconds: int = 300  # the aggregation window (rates, sprays, windows in the model)

    # rate against the key's own baseline: a window far above the key's usual active window
    rate_min_windows: int = 6  # active windows a key needs before its own baseline counts
    rate_z: float = 6.0  # robust z of the window count over the key's median
    rate_ratio: float = 5.0  # and this multiple of the key's median window count
    rate_min_requests: int = 50  # and at least this many requests in the window
    # volume against peers: total requests or peak window far above the other keys'
    peer_min_keys: int = 8  # keys needed before peers are a baseline
    peer_z: float = 4.0  # robust z of log10(requests) or log10(peak window) across keys
    peer_min_requests: int = 200

    # extraction by synthetic probing (PRADA): normality of the minimum L2 distances between
    # a key's successive inputs (quantile-normalised features), Shapiro-Wilk W below delta;
    # or their scale far below the other keys' (inputs synthesised around a few seeds)
    prada_min_queries: int = 100  # distances needed (fewer: not tested)
    prada_delta: float = 0.90
    prada_ratio: float = 0.5  # median distance <= this share of the keys' median of medians
    prada_warmup: int = 16  # first distances of each segment left out (few neighbours yet)
    sequence_max: int = 1024  # inputs examined per key: at most this many ...
    sequence_segments: int = 2  # ... in this many contiguous segments spread over its history

    # near-duplicate and boundary probing: inputs whose nearest earlier input differs in
    # exactly one feature, by a small step
    probe_min: int = 20
    probe_share: float = 0.20  # above natural traffic's share
    probe_step: float = 0.10  # largest step, in quantile units of the feature (0..1)

    # systematic sweeps: features with far fewer distinct values than a sample of the same size
    # from all traffic would have, and arithmetic progressions among them
    sweep_min_queries: int = 50
    sweep_low_ratio: float = 0.2  # distinct values <= this share of the expected number
    sweep_low_share: float = 0.5  # of the features that vary in all traffic
    sweep_progression: int = 5  # values in an arithmetic progression to count as a sweep

    # repeated identical queries
    repeat_min: int = 50
    repeat_share: float = 0.5

    # one key from many addresses (sharing or a leaked key)
    sharing_min_ips: int = 10
    sharing_min_networks: int = 5  # distinct /16 (IPv4) or /48 (IPv6) networks
    # many keys from one address, used one after the other (rotation)
    rotation_min_keys: int = 5
    rotation_sequential: float = 0.6  # share of hand-overs where the next key starts after
    # authentication-failure sprays: 401/403 from one address across keys, in one window
    spray_failures: int = 10
    spray_keys: int = 3
    spray_burst: int = 30  # failures in one window when keys are not logged

    # the unsupervised model: an isolation forest over per-key features
    model_min_keys: int = 8
    model_min_requests: int = 20
    model_z: float = 3.5  # robust z of the anomaly score across keys
    model_score: float = 0.6  # and at least this anomaly score (0..1; 0.5 is unremarkable)
    model_driver_z: float = 3.0  # and one feature at least this robust z from the peers

    # drift of the served model's inputs and outputs against a reference
    reference_share: float = 0.2  # the first share of rows (by time) without a baseline file
    drift_sample: int = 50_000  # rows sampled per side
    drift_bins: int = 10  # quantile bins of the reference
    psi: float = 0.2  # population stability index: >= drifted
    psi_high: float = 0.25  # >= significant (medium)
    js: float = 0.15  # Jensen-Shannon distance (base 2, 0..1): >= drifted
    wasserstein: float = 0.25  # Wasserstein-1 over the reference's standard deviation

    broken_shown: int = 20  # broken lines listed with their numbers (all are counted)
    examples: int = 3  # example rows per detection
    memory_limit: str = "2GB"  # DuckDB's; beyond it, aggregation spills to a temporary folder
    threads: int = 0  # DuckDB's threads (0: one per core); the report does not depend on it

    def thresholds(self) -> dict[str, Any]:
        return asdict(self)
