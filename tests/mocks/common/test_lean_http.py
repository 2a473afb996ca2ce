"""The lean loopback HTTP client the runner and the ICAR connector use: real waitress servers."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask import Flask, Response, request
from icarflex.mocks.common.lean_http import LeanHttp, TransportError
from icarflex.mocks.common.server import LiveServer


def make_app() -> Flask:
    app = Flask(__name__)

    @app.get("/chunked")
    def chunked() -> Response:
        return Response((f"part{i};" for i in range(50)), mimetype="text/plain")  # no length: chunked

    @app.get("/slow")
    def slow() -> str:
        time.sleep(float(request.args.get("s", "0.5")))
        return "late"

    @app.post("/echo")
    def echo() -> Response:
        return Response(request.get_data(), mimetype="application/json", headers={"ETag": '"v1"'})

    return app


@pytest.fixture
def server() -> Iterator[LiveServer]:
    with LiveServer(make_app()) as live:
        yield live


def test_a_chunked_answer_is_read_whole(server: LiveServer) -> None:
    answer = LeanHttp(server.url, timeout=5).request("GET", "/chunked")
    assert answer.status == 200
    assert answer.content.decode() == "".join(f"part{i};" for i in range(50))


def test_a_body_and_its_headers_come_back(server: LiveServer) -> None:
    answer = LeanHttp(server.url, timeout=5).request("POST", "/echo", body=b'{"a": "\xc3\xa9"}')
    assert (answer.status, answer.content, answer.header("etag")) == (200, b'{"a": "\xc3\xa9"}', '"v1"')


def test_a_timeout_is_a_transport_error_and_the_client_goes_on(server: LiveServer) -> None:
    client = LeanHttp(server.url, timeout=0.2)
    with pytest.raises(TransportError) as caught:
        client.request("GET", "/slow", params={"s": "1"})
    assert caught.value.timed_out
    assert client.request("GET", "/slow", params={"s": "0"}).content == b"late"


def test_a_server_restarted_on_the_same_port_is_reached_again(server: LiveServer) -> None:
    client = LeanHttp(server.url, timeout=5)
    assert client.request("POST", "/echo", body=b"1").content == b"1"
    port = server.port
    server.stop()
    with LiveServer(make_app(), port=port):
        assert client.request("POST", "/echo", body=b"2").content == b"2"


def test_nobody_listening_is_a_transport_error(server: LiveServer) -> None:
    url = server.url
    server.stop()
    with pytest.raises(TransportError):
        LeanHttp(url, timeout=1).request("GET", "/chunked")
