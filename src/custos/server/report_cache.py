"""The latest assessment's report, decoded once per process and assessment.

A stored report runs to tens of megabytes of JSON on a large estate; decoding it per request
cost about a second. Each request still asks the database which assessment is newest (one
indexed row), so every app process serves a new assessment as soon as any process stores it:
processes stay stateless. The cached dict is shared between requests and must not be changed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar, cast

from custos.store.store import Store

T = TypeVar("T")


DERIVED_MAX = 64  # views per assessment (one per set of visible systems and day)


class LatestReport:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: tuple[int, dict[str, Any]] | None = None
        self._derived: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._flights: dict[tuple[Any, ...], threading.Lock] = {}

    def derived(self, report_id: int, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """A value computed from assessment `report_id` (a dashboard's figures), kept until
        another assessment is the newest; `key` says what else it depends on. Computed once
        when many requests want it together: the others wait for it rather than each
        spending the same CPU (which, under the GIL, made every one of them slow)."""
        full = (report_id, *key)
        with self._lock:
            if full in self._derived:
                self._derived.move_to_end(full)
                return cast(T, self._derived[full])
            flight = self._flights.setdefault(full, threading.Lock())
        with flight:
            with self._lock:
                if full in self._derived:
                    return cast(T, self._derived[full])
            try:
                value = compute()
            except BaseException:
                with self._lock:
                    self._flights.pop(full, None)
                raise
            with self._lock:  # stored before the flight ends, so no one computes it twice
                for old in [k for k in self._derived if k[0] != report_id]:
                    del self._derived[old]
                self._derived[full] = value
                while len(self._derived) > DERIVED_MAX:
                    self._derived.popitem(last=False)
                self._flights.pop(full, None)
        return value

    def drop(self, stale: Callable[[tuple[Any, ...]], bool]) -> None:
        """Forget the derived values whose key (without the assessment id) is `stale`: large
        ones (a report download) must not pile up until the next assessment."""
        with self._lock:
            for full in [k for k in self._derived if stale(k[1:])]:
                del self._derived[full]

    def get(self, store: Store) -> tuple[int, dict[str, Any]] | None:
        """(assessment id, report) of the newest assessment, or None before the first."""
        newest = store.latest_assessment_id()
        if newest is None:
            return None
        held = self._held
        if held is not None and held[0] == newest:
            return held
        with self._lock:  # one decode when many requests see a new assessment together
            held = self._held
            if held is None or held[0] != newest:
                report = store.report_of(newest)
                if report is None:  # removed between the two reads
                    return None
                held = self._held = (newest, report)
        return held
