"""One reader per log format (`jsonl`, `nginx`, `alb`, `otel`), each a SELECT of the canonical
columns over its file; `sniff` finds the format and the shape of JSON fields; `load` fills the
DuckDB table of requests and numbers the broken lines."""
