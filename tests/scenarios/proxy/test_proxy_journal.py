"""The proxy's journal: one whole JSON line per call, under concurrent calls, appended across runs."""
from __future__ import annotations

import json
import threading

import requests
from icarflex.scenarios.proxy.journal import JsonLinesJournal
from proxy_helpers import key


def test_concurrent_calls_give_one_whole_line_each_numbered_once(start_openflex, start_proxy):
    target = start_openflex()
    proxy = start_proxy(target.url)
    barrier = threading.Barrier(8)

    def client() -> None:
        with requests.Session() as session:
            barrier.wait()  # all at once
            for _ in range(20):
                assert session.get(f"{proxy.url}/api/v1/vehicles", headers=key("openflex"), timeout=30).ok

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    with open(proxy.options.journal, encoding="utf-8") as handle:
        entries = [json.loads(line) for line in handle]
    assert sorted(e["seq"] for e in entries) == list(range(1, 161))
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)  # file order is seq order


def test_a_journal_reopened_goes_on_after_its_last_seq(tmp_path):
    path = tmp_path / "proxy.jsonl"
    for _ in range(2):
        journal = JsonLinesJournal(path)
        with journal.lock:
            journal.write({"seq": journal.next_seq(), "method": "GET", "path": "/", "status": 200})
        journal.close()
    assert [json.loads(line)["seq"] for line in path.read_text().splitlines()] == [1, 2]
