"""The one HTTP transport (urllib3 PoolManager + Retry) against a real waitress server on loopback."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask import Flask, Response, request
from icarflex.mocks.common.server import LiveServer
from icarflex.mocks.common.transport import Transport, TransportError

POSTS: list[bytes] = []


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
        POSTS.append(request.get_data())
        time.sleep(float(request.args.get("s", "0")))
        return Response(request.get_data(), mimetype="application/json", headers={"ETag": '"v1"'})

    return app


@pytest.fixture
def server() -> Iterator[LiveServer]:
    POSTS.clear()
    with LiveServer(make_app()) as live:
        yield live


def test_a_chunked_answer_is_read_whole(server: LiveServer) -> None:
    answer = Transport(server.url, timeout=5).request("GET", "/chunked")
    assert answer.status == 200
    assert answer.content.decode() == "".join(f"part{i};" for i in range(50))


def test_a_body_and_its_headers_come_back(server: LiveServer) -> None:
    answer = Transport(server.url, timeout=5).request("POST", "/echo", body=b'{"a": "\xc3\xa9"}')
    assert (answer.status, answer.content, answer.header("etag")) == (200, b'{"a": "\xc3\xa9"}', '"v1"')


def test_connections_are_kept_alive_and_pooled(server: LiveServer) -> None:
    transport = Transport(server.url, timeout=5)
    for i in range(20):
        assert transport.request("POST", "/echo", body=str(i).encode()).status == 200
    assert transport.pool.connection_from_url(server.url).num_connections == 1


def test_a_timeout_is_a_transport_error_and_the_client_goes_on(server: LiveServer) -> None:
    transport = Transport(server.url, timeout=0.2)
    with pytest.raises(TransportError) as caught:
        transport.request("GET", "/slow", params={"s": "1"})
    assert caught.value.timed_out
    assert transport.request("GET", "/slow", params={"s": "0"}).content == b"late"


def test_a_post_whose_answer_timed_out_is_not_sent_twice(server: LiveServer) -> None:
    with pytest.raises(TransportError) as caught:
        Transport(server.url, timeout=0.2).request("POST", "/echo", body=b"once", params={"s": "0.6"})
    assert caught.value.timed_out
    time.sleep(0.8)
    assert POSTS == [b"once"]


def test_a_server_restarted_on_the_same_port_is_reached_again(server: LiveServer) -> None:
    transport = Transport(server.url, timeout=5)
    assert transport.request("POST", "/echo", body=b"1").content == b"1"
    port = server.port
    server.stop()
    with LiveServer(make_app(), port=port):
        assert transport.request("POST", "/echo", body=b"2").content == b"2"


def test_nobody_listening_is_a_transport_error_not_a_timeout(server: LiveServer) -> None:
    url = server.url
    server.stop()
    with pytest.raises(TransportError) as caught:
        Transport(url, timeout=1).request("GET", "/chunked")
    assert not caught.value.timed_out
