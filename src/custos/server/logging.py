"""Structured JSON logs, one object per line on stderr.

Log calls pass fields, never free text built from request data: `log_event("login.failed",
username=...)`. Keys that could carry secrets are refused outright (a programming error), so a
password, token, cookie or session id cannot reach a log by accident.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

LOGGER_NAME = "custos.server"
FORBIDDEN_KEYS = frozenset(
    {"password", "token", "secret", "cookie", "session", "session_id", "csrf", "authorization"}
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry, default=str, separators=(",", ":"))


def logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)


def configure(level: int = logging.INFO) -> None:
    """Send the server's logs to stderr as JSON (once; idempotent)."""
    log = logger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    bad = FORBIDDEN_KEYS.intersection(k.lower() for k in fields)
    if bad:
        raise ValueError(f"log fields {sorted(bad)} could carry secrets")
    logger().log(level, event, extra={"fields": fields})
