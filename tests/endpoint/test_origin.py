"""Probes send traffic to the scheme, host and port of the URL given, and nowhere else: every
socket the probe opens is recorded, the servers log every request, a redirect to another port
is not followed (that port's server must see nothing), proxies from the environment are not
used, and a request to another origin is refused before it is sent."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from custos.endpoint.model import Origin
from custos.endpoint.probe import OffOrigin, Settings, _OriginOnly
from custos.endpoint.scan import probe_endpoint
from tests.endpoint.servers import KEY, leaky_handler, secure_handler, serving


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every address any socket of this process connects to, from now on."""
    seen: list[Any] = []
    original = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        seen.append(address)
        original(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


def test_every_request_goes_to_the_given_origin(
    connections: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving(secure_handler()) as decoy:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{decoy.port}")
        monkeypatch.setenv("ALL_PROXY", f"http://127.0.0.1:{decoy.port}")
        with serving(leaky_handler("any-key", decoy_port=decoy.port)) as server:
            report = probe_endpoint(Settings(server.url(), KEY, owned=True))
            hits = list(server.hits)
        assert decoy.hits == []  # neither the redirect target nor the "proxy" saw anything
    assert connections, "the probe opened no socket?"
    assert {(host, port) for host, port in connections} == {("127.0.0.1", server.port)}
    burst = report.recording.burst
    assert len(hits) == len(report.recording.exchanges) + (burst.sent if burst else 0)
    assert {hit.host for hit in hits} == {f"127.0.0.1:{server.port}"}
    redoc = report.recording.exchange("known:/redoc")
    assert redoc is not None
    assert redoc.response is not None
    assert redoc.response.status == 302  # recorded, not followed


def test_a_request_to_another_origin_is_refused_before_it_is_sent() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    transport = _OriginOnly(httpx.MockTransport(handler), Origin("https", "models.example", 443))
    with httpx.Client(transport=transport) as client:
        assert client.get("https://models.example/v1/models").status_code == 200
        for elsewhere in ("https://evil.example/", "http://models.example/",
                          "https://models.example:8443/"):  # fmt: skip
            with pytest.raises(OffOrigin):
                client.get(elsewhere)
    assert [str(r.url) for r in sent] == ["https://models.example/v1/models"]
