"""Object arrays: a pickle that imports only NumPy's own reconstruction (np.save of strings,
numbers, lists) is low; any other global keeps the array medium, and the pickle's findings
(a critical os.system) stand."""

from __future__ import annotations

import collections
import io
import os
from typing import Any

import pytest

from custos.checks.model import Severity
from custos.modelfile.formats.numpy_scan import RECONSTRUCTION
from custos.modelfile.policy import Policy
from tests.modelfile.conftest import Scan, rules, worst

np = pytest.importorskip("numpy")


class Shell:
    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, ("echo pwned",))


def save(array: object) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=True)
    return out.getvalue()


def objects(*items: object) -> Any:
    array = np.empty(len(items), dtype=object)
    array[:] = list(items)
    return array


PLAIN = {
    "strings": objects("cat", "dog", "ünïcode"),
    "ints": objects(1, 2**70, -3),
    "nested-lists": objects([1, [2, 3]], ["a", None], []),
    "mixed": objects("x", 1.5, None, True, (1, 2), {"k": [1]}),
    "numpy-values": objects(np.float32(1.5), np.arange(3), np.array(["a", "b"])),
    "2d": np.array([["a", 1], [None, 2.0]], dtype=object),
}


@pytest.mark.parametrize("label", sorted(PLAIN))
def test_object_array_of_plain_values_is_low(scan_bytes: Scan, label: str) -> None:
    report = scan_bytes(save(PLAIN[label]), "x.npy", Policy.default())
    assert rules(report) == {"npy/object-array-numpy-only"}
    assert worst(report) == Severity.low


def test_npz_of_object_arrays_is_low(scan_bytes: Scan) -> None:
    out = io.BytesIO()
    np.savez(out, labels=PLAIN["strings"], ids=np.arange(4))
    report = scan_bytes(out.getvalue(), "x.npz", Policy.default())
    assert report.format == "npz"
    assert worst(report) == Severity.low


def test_object_array_calling_os_system_is_critical(scan_bytes: Scan) -> None:
    report = scan_bytes(save(objects("fine", Shell())), "x.npy", Policy.default())
    assert "npy/object-array" in rules(report)
    assert "npy/object-array-numpy-only" not in rules(report)
    assert worst(report) == Severity.critical


def test_object_array_with_another_allowed_global_stays_medium(scan_bytes: Scan) -> None:
    # An allow-listed name that is not NumPy's reconstruction: allowed, but not "numpy only".
    report = scan_bytes(save(objects(collections.OrderedDict(a=1))), "x.npy", Policy.default())
    found = [f for f in report.findings if f.rule == "npy/object-array"]
    assert len(found) == 1
    assert "collections.OrderedDict" in found[0].message
    assert worst(report) == Severity.medium


def test_reconstruction_names_are_on_the_allow_list() -> None:
    policy = Policy.default()
    for name in RECONSTRUCTION:
        module, _, attr = name.rpartition(".")
        assert policy.classify(module, attr).allowed, name
