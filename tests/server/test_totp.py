"""TOTP codes and recovery codes (custos.server.auth.totp): pure functions, no server."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from custos.server.auth import totp

# RFC 6238 appendix B: the SHA-1 test seed "12345678901234567890" and its code at 59 s.
RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # noqa: S105  (the published test seed)
NOW = dt.datetime(2026, 6, 1, 9, 0, 15, tzinfo=dt.UTC)  # 15 s into its 30-second step
OTHER_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105  (an arbitrary fixed seed)


def code_at(secret: str, when: dt.datetime) -> str:
    return pyotp.TOTP(secret).at(when)


def step_of(when: dt.datetime) -> int:
    return int(when.timestamp()) // 30


def test_the_rfc_6238_vector() -> None:
    at_59 = dt.datetime.fromtimestamp(59, dt.UTC)
    assert code_at(RFC_SECRET, at_59) == "287082"  # the vector's last 6 of 94287082
    assert totp.verify(RFC_SECRET, "287082", at_59, None) == 1


def test_new_secrets_are_random_base32_of_160_bits() -> None:
    first, second = totp.new_secret(), totp.new_secret()
    assert first != second
    assert re.fullmatch(r"[A-Z2-7]{32}", first)


def test_provisioning_uri_names_issuer_and_account() -> None:
    uri = urlparse(totp.provisioning_uri(RFC_SECRET, "alice"))
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/Custos:alice")
    query = parse_qs(uri.query)
    assert query["secret"] == [RFC_SECRET]
    assert query["issuer"] == ["Custos"]


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_one_step_of_drift_either_way_is_accepted(offset: int) -> None:
    code = code_at(RFC_SECRET, NOW + dt.timedelta(seconds=30 * offset))
    assert totp.verify(RFC_SECRET, code, NOW, None) == step_of(NOW) + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_codes_outside_the_drift_window_are_refused(offset: int) -> None:
    code = code_at(RFC_SECRET, NOW + dt.timedelta(seconds=30 * offset))
    # Fixed secret and time: the codes inside the window are known not to include this one.
    assert code not in {code_at(RFC_SECRET, NOW + dt.timedelta(seconds=30 * k)) for k in (-1, 0, 1)}
    assert totp.verify(RFC_SECRET, code, NOW, None) is None


def test_a_code_is_accepted_once_and_earlier_steps_never_after() -> None:
    now_code = code_at(RFC_SECRET, NOW)
    step = totp.verify(RFC_SECRET, now_code, NOW, None)
    assert step == step_of(NOW)
    assert totp.verify(RFC_SECRET, now_code, NOW, step) is None  # replayed
    earlier = code_at(RFC_SECRET, NOW - dt.timedelta(seconds=30))
    assert totp.verify(RFC_SECRET, earlier, NOW, step) is None  # older than the last one used
    later = code_at(RFC_SECRET, NOW + dt.timedelta(seconds=30))
    assert totp.verify(RFC_SECRET, later, NOW, step) == step + 1  # the next step still works


@pytest.mark.parametrize("typed", ["287 082", " 287082 ", "287-082"])
def test_codes_may_be_typed_with_spaces(typed: str) -> None:
    at_59 = dt.datetime.fromtimestamp(59, dt.UTC)
    assert totp.verify(RFC_SECRET, typed, at_59, None) == 1


@pytest.mark.parametrize("typed", ["", "28708", "2870821", "abcdef", "28708x"])
def test_malformed_codes_are_refused(typed: str) -> None:
    at_59 = dt.datetime.fromtimestamp(59, dt.UTC)
    assert totp.verify(RFC_SECRET, typed, at_59, None) is None


def test_a_code_for_another_secret_is_refused() -> None:
    other = OTHER_SECRET  # fixed, so no random collision can make this test flaky
    code = code_at(other, NOW)
    assert code not in {code_at(RFC_SECRET, NOW + dt.timedelta(seconds=30 * k)) for k in (-1, 0, 1)}
    assert totp.verify(RFC_SECRET, code, NOW, None) is None


def test_recovery_codes_are_ten_distinct_readable_codes() -> None:
    codes = totp.new_recovery_codes()
    assert len(codes) == 10
    assert len(set(codes)) == 10
    for code in codes:
        assert re.fullmatch(r"[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}", code)
        assert not totp.looks_like_totp(code)  # never mistaken for a TOTP code at sign-in


def test_recovery_hash_is_sha256_of_the_normalised_code() -> None:
    expected = hashlib.sha256(b"abcdefghjkmn").digest()
    for typed in ("abcd-efgh-jkmn", "ABCD-EFGH-JKMN", "abcd efgh jkmn", " abcdefghjkmn\n"):
        assert totp.recovery_hash(typed) == expected
    assert totp.recovery_hash("abcd-efgh-jkmp") != expected


def test_what_counts_as_a_totp_code() -> None:
    assert totp.looks_like_totp("123456")
    assert totp.looks_like_totp("123 456")
    assert not totp.looks_like_totp("12345")
    assert not totp.looks_like_totp("abcd-efgh-jkmn")
