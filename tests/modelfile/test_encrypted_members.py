"""Password-protected zip members: "not analysed" (medium), never a false CRC mismatch (high);
the 'encrypted' bit over readable bytes is still the trick torch.load falls for (high)."""

from __future__ import annotations

import io
import zipfile

import pytest

from custos.checks.model import Severity
from tests.modelfile.conftest import Scan, rules, worst
from tests.modelfile.zipcrypto import (
    PASSWORD,
    aes_member,
    build_zip,
    plain_member,
    zipcrypto_member,
)
from tests.modelfile.zips import BENIGN, EVIL, set_flags, torch_zip

DATA = b"archive/data.pkl"


@pytest.mark.parametrize("deflate", [False, True])
def test_zipcrypto_member_is_not_analysed_not_a_crc_mismatch(
    scan_bytes: Scan, deflate: bool
) -> None:
    data = build_zip([zipcrypto_member("model.pkl", EVIL, deflate=deflate)])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # really password-protected
        assert archive.read("model.pkl", pwd=PASSWORD) == EVIL
    report = scan_bytes(data, "model.zip")
    found = rules(report)
    assert "zip/encrypted-member" in found
    assert not found & {
        "zip/crc-mismatch",
        "zip/size-mismatch",
        "zip/malformed",
        "zip/encrypted-flag",
    }
    assert worst(report) == Severity.medium


def test_aes_member_is_not_analysed(scan_bytes: Scan) -> None:
    report = scan_bytes(build_zip([aes_member("model.pkl", EVIL)]), "model.zip")
    assert "zip/encrypted-member" in rules(report)
    assert "zip/unsupported-method" not in rules(report)
    assert worst(report) == Severity.medium


def test_encrypted_member_beside_plain_ones_keeps_their_findings(scan_bytes: Scan) -> None:
    data = build_zip([zipcrypto_member("a.pkl", BENIGN, deflate=True), plain_member("b.pkl", EVIL)])
    report = scan_bytes(data, "model.zip")
    locations = {f.location.rsplit("!", 1)[1].split("@")[0] for f in report.findings}
    assert "zip/encrypted-member" in rules(report)
    assert {"a.pkl", "b.pkl"} <= locations
    assert worst(report) == Severity.critical


def test_flag_over_plain_bytes_is_still_the_torch_trick(scan_bytes: Scan) -> None:
    report = scan_bytes(set_flags(torch_zip(EVIL), DATA, 0x1), "model.pt")
    assert "zip/encrypted-flag" in rules(report)
    assert "zip/encrypted-member" not in rules(report)
    assert worst(report) == Severity.critical


def test_flag_over_plain_pickle_with_wrong_crc_is_not_excused(scan_bytes: Scan) -> None:
    # Bit set AND a wrong CRC: the bytes are still a readable pickle, so neither is explained
    # away as encryption.
    archive = bytearray(build_zip([plain_member("archive/data.pkl", EVIL, flags=0x1)]))
    crc_at = [archive.find(b"PK\x03\x04") + 14, archive.find(b"PK\x01\x02") + 16]
    for at in crc_at:
        archive[at : at + 4] = b"\xde\xad\xbe\xef"
    report = scan_bytes(bytes(archive), "model.pt")
    assert {"zip/encrypted-flag", "zip/crc-mismatch"} <= rules(report)
    assert worst(report) == Severity.critical
