"""Request bodies are bounded before any route reads them: 413 by Content-Length and for
streamed bodies, larger limits only for attestation files and CI pushes; metric labels stay
bounded whatever method a client sends."""

from __future__ import annotations

from collections.abc import Iterator

from tests.server.conftest import Running


def test_large_bodies_are_refused_before_authentication(server: Running) -> None:
    client = server.client()
    big = b"x" * (2 * 1024 * 1024)
    answer = client.post("/api/v1/risks", content=big, headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert "larger than" in answer.json()["error"]
    # A body within an upload route's larger limit reaches the guard (401 without a login).
    upload = client.post("/api/v1/attestations/x/file", content=big)
    assert upload.status_code == 401


def test_streamed_bodies_are_counted(server: Running) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"y" * 65536  # 2.5 MiB without a Content-Length

    form = {"content-type": "application/x-www-form-urlencoded"}
    answer = server.client().post("/login", content=chunks(), headers=form)
    assert answer.status_code == 413


def test_unknown_methods_share_one_metric_label(server: Running) -> None:
    client = server.client()
    for method in ("X0ZZ", "BREW", "PROPFIND"):
        client.request(method, "/healthz")
    metrics = client.get("/metrics").text
    assert 'method="other"' in metrics
    assert "X0ZZ" not in metrics
    # And every answer still carries the security headers.
    assert client.get("/healthz").headers["content-security-policy"].startswith("default-src")
