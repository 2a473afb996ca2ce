"""Forwarding: request and answer unchanged (hop-by-hop headers aside), an optional correlation
header, large answers streamed in bounded memory, and the `icarflex proxy` command as a process."""
from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from icarflex.mocks.common.server import LiveServer
from icarflex.scenarios.cli import main
from icarflex.scenarios.proxy.upstream import HOP_BY_HOP
from proxy_helpers import free_port

BIG = 64 * 1024 * 1024   # bytes of the large answer
SENT = {"X-Forwarded-For": "10.1.2.3", "X-Custom": "un été", "Accept": "application/json",
        "Authorization": "Bearer demo-dms-key"}


def echo(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    """A target that answers what it received, with headers of its own."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    seen = {"method": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"],
            "target": environ["REQUEST_URI"],
            "query": environ.get("QUERY_STRING"), "body": environ["wsgi.input"].read(length).decode(),
            "headers": sorted((k, v) for k, v in environ.items() if k.startswith("HTTP_")
                              and k[5:].replace("_", "-").lower() not in HOP_BY_HOP)}
    body = json.dumps(seen).encode()
    start_response("207 Multi-Status", [("Content-Type", "application/json"), ("Server", "echo/1"),
                                        ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-Echo", "oui"),
                                        ("Content-Length", str(len(body)))])
    return [body]


def big(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    chunk = b"x" * (1024 * 1024)
    start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(BIG))])
    return (chunk for _ in range(BIG // len(chunk)))


def _answer(url: str) -> tuple[int, list[tuple[str, str]], Any]:
    reply = requests.post(f"{url}/api/v1/any%2Fthing/%C3%A9t%C3%A9?x=1&y=%C3%A9", data=b'{"a": 1}',
                          headers=SENT, timeout=10)
    headers = sorted((k, v) for k, v in reply.raw.headers.items() if k.lower() not in ("date", *HOP_BY_HOP))
    return reply.status_code, headers, reply.json()


def test_request_and_answer_cross_unchanged(start_proxy, servers):
    target = servers.enter_context(LiveServer(echo, clear_untrusted_proxy_headers=False))
    proxy = start_proxy(target.url)

    direct, proxied = _answer(target.url), _answer(proxy.url)

    assert proxied == direct and proxied[2]["target"] == "/api/v1/any%2Fthing/%C3%A9t%C3%A9?x=1&y=%C3%A9"
    assert ["HTTP_X_FORWARDED_FOR", "10.1.2.3"] in proxied[2]["headers"]
    assert [v for k, v in proxied[1] if k == "Server"] == ["echo/1"]  # no Via, no Server of its own


def test_a_large_request_body_is_streamed_through_whole(start_proxy, servers):
    target = servers.enter_context(LiveServer(echo))
    proxy = start_proxy(target.url)
    body = b'{"filler": "' + b"y" * (3 * 1024 * 1024) + b'"}'   # over what the proxy reads to judge

    reply = requests.post(f"{proxy.url}/api/v1/vehicles", data=body, headers=SENT, timeout=30)

    assert reply.json()["body"] == body.decode()
    with open(proxy.options.journal, encoding="utf-8") as handle:
        entry = json.loads(handle.readlines()[-1])
    assert entry["request"] is None and "transmis sans être lu" in entry["unjudged"]


def test_the_correlation_header_is_the_only_one_added(start_proxy, servers):
    target = servers.enter_context(LiveServer(echo, clear_untrusted_proxy_headers=False))
    proxy = start_proxy(target.url, correlation_header="X-Icarflex-Call")

    reply = requests.get(f"{proxy.url}/api/v1/vehicles", headers=SENT, timeout=10)

    received = dict(tuple(h) for h in reply.json()["headers"])
    call = reply.headers["X-Icarflex-Call"]
    assert received["HTTP_X_ICARFLEX_CALL"] == call
    direct = requests.get(f"{target.url}/api/v1/vehicles", headers=SENT, timeout=10)
    assert set(reply.headers) - set(direct.headers) == {"X-Icarflex-Call"}
    with open(proxy.options.journal, encoding="utf-8") as handle:
        assert json.loads(handle.readlines()[-1])["correlation"] == call


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.fixture
def proxy_process(servers, tmp_path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    """`icarflex proxy` as its own process, in front of a target answering BIG bytes."""
    target = servers.enter_context(LiveServer(big))
    journal = tmp_path / "proxy.jsonl"
    port = free_port()
    command = [sys.executable, "-m", "icarflex.scenarios.cli", "proxy", "--target", target.url,
               "--listen", f"127.0.0.1:{port}", "--journal", str(journal)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = process.stdout.readline()
        assert banner.startswith("icarflex proxy http://127.0.0.1:"), banner + process.stderr.read()
        yield process, f"http://127.0.0.1:{port}", journal
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_a_large_answer_streams_through_in_bounded_memory(proxy_process):
    process, url, journal = proxy_process
    requests.get(f"{url}/warm-up", timeout=30).close()
    before = _peak_rss_kib(process.pid)

    received = 0
    with requests.get(f"{url}/big", stream=True, timeout=60) as reply:
        for chunk in reply.iter_content(256 * 1024):
            received += len(chunk)

    assert received == BIG
    grown_mib = (_peak_rss_kib(process.pid) - before) / 1024
    print(f"peak RSS grew by {grown_mib:.1f} MiB relaying {BIG >> 20} MiB")
    assert grown_mib < 16, f"the proxy grew by {grown_mib:.0f} MiB relaying {BIG >> 20} MiB"
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0
    out = process.stdout.read()
    assert "openflex GET /big - 200" in out
    entry = json.loads(journal.read_text(encoding="utf-8").splitlines()[-1])
    assert entry["path"] == "/big" and "non journalisée" in entry["response"]["_raw"]


@pytest.mark.parametrize("flags, message", [
    (["--target", "ftp://x"], "URL http:// ou https:// attendue"),
    (["--target", "http://127.0.0.1:1", "--listen", "nowhere"], "HOST:PORT attendu"),
    (["--target", "http://127.0.0.1:1", "--profile", "/nonexistent.yaml"], "nonexistent.yaml"),
    (["--target", "http://127.0.0.1:1", "--timeout", "0"], "--timeout"),
])
def test_bad_flags_exit_2_with_one_line(flags, message, capsys):
    assert main(["proxy", *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.splitlines()) == 1, err


def sized(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    """An answer of a few hundred KiB (waitress sends it while the app still runs)."""
    body = json.dumps({"path": environ["PATH_INFO"], "filler": "x" * 300_000}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body[i:i + 65536] for i in range(0, len(body), 65536)]


def test_a_call_is_journaled_before_its_client_has_the_whole_answer(start_proxy, servers):
    target = servers.enter_context(LiveServer(sized))
    proxy = start_proxy(target.url)
    app = proxy.app
    record = app._record

    def slow_record(exchange: Any, *args: Any, **kwargs: Any) -> None:
        if exchange.call.path == "/first":
            time.sleep(0.3)  # a loaded machine: the first call's entry is slow to write
        record(exchange, *args, **kwargs)

    app._record = slow_record
    with requests.Session() as client:
        for path in ("/first", "/second"):
            assert client.get(f"{proxy.url}{path}", timeout=10).json()["path"] == path

    with open(proxy.options.journal, encoding="utf-8") as handle:
        assert [json.loads(line)["path"] for line in handle] == ["/first", "/second"]


def gzipped(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    """A target that compresses its JSON answer (as a real one does for `Accept-Encoding: gzip`)."""
    vehicle = {"id": "V1", "status": "PRE_RENTREE", "vin": "VF1RFB00X12345678"}
    body = gzip.compress(json.dumps(vehicle).encode())
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Encoding", "gzip"),
                              ("Content-Length", str(len(body)))])
    return [body]


def test_a_compressed_answer_is_relayed_as_sent_and_journaled_decoded(start_proxy, servers):
    target = servers.enter_context(LiveServer(gzipped))
    proxy = start_proxy(target.url)

    reply = requests.get(f"{proxy.url}/api/v1/vehicles/V1", headers=SENT, stream=True, timeout=10)

    raw = reply.raw.read(decode_content=False)
    assert reply.headers["Content-Encoding"] == "gzip" and json.loads(gzip.decompress(raw))["id"] == "V1"
    with open(proxy.options.journal, encoding="utf-8") as handle:
        entry = json.loads(handle.readlines()[-1])
    assert entry["response"] == {"id": "V1", "status": "PRE_RENTREE", "vin": "VF1RFB00X12345678"}
