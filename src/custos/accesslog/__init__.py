"""Access-log monitoring (docs/runtime.md, "Access logs"): who calls the served model, how, and
whether the calls look like abuse. Reads JSON Lines access logs (field names mapped in the
manifest), nginx combined, AWS ALB and OpenTelemetry GenAI spans exported as JSON, gzip and
stdin too, through DuckDB (parsing, per-key window aggregation, out of core beyond the memory
limit). Every detection is a review item with its evidence (counts, windows, scores, example
rows, masked keys), never a verdict; no API key is ever printed whole.

Layout: `extra` (the optional DuckDB, NumPy, threadpoolctl), `settings` (every threshold),
`stats` (robust z, Shapiro-Wilk), `report` (detections, drift, the json contract, masking),
`readers/` (one module per format, the table they fill), `features` (per-key and per-window
aggregates, input sequences), `detect/` (one module per detection family), `drift`, `model`
(the key scores and their explanations), `forest` (the isolation forest), and `monitor`
(the pipeline).
"""
