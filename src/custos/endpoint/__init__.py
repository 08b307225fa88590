"""Endpoint probes: deterministic checks against a running inference endpoint (docs/runtime.md).

Layout: `model` (what a probe recorded: exchanges, the TLS handshakes, the burst; pure data),
`rules` (the rules, evaluated on a recording: pure, no I/O), `known` (the unauthenticated paths
of well-known model servers and AI tools, read from `data/known_paths.yaml`), `probe` (the
adapter: httpx and the stdlib `ssl`, which only ever talks to the origin of the URL given, and
masks the key before anything is recorded), `scan` (probe, evaluate, report) and `sarif`.
"""
