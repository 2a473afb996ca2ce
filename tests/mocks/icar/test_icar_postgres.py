"""Two `icarflex serve` processes on one PostgreSQL database (a shared sandbox behind a load
balancer), one of them with two workers, concurrent physical entries through every ICAR fake:
one livre de police per site, gapless, no number twice, each entry booked once with the same
number in both systems."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from icar_processes import LIFE, Client, check_register, serving, take_in

ENTRIES, CLIENTS = 24, 8


def test_two_serve_processes_keep_one_gapless_police_register(postgres_url: str) -> None:
    with serving(postgres_url, "--workers", "2") as (_, first), serving(postgres_url) as (_, second):
        pairs = take_in(Client(first), 0, ENTRIES)
        start = threading.Barrier(CLIENTS)

        def enter(index: int) -> list[tuple[str, int, str | None]]:
            client = Client(first if index % 2 else second)  # both processes, at once
            start.wait()
            answers = []
            for _, record_id in pairs[index::CLIENTS]:
                reply = client.icar("POST", f"/vehicles/{record_id}/physical-entry", {"mileage": 30_000})
                answers.append((record_id, reply.status_code, reply.json().get("police_number")))
            return answers

        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = [a for batch in pool.map(enter, range(CLIENTS)) for a in batch]
        assert [status for _, status, _ in answers] == [200] * ENTRIES, answers
        client = Client(second)
        booked = check_register(client, "PARIS16")
        assert len(booked) == ENTRIES
        assert {record_id: number for record_id, _, number in answers} == booked
        for openflex_id, record_id in pairs:
            vehicle = client.openflex("GET", f"/vehicles/{openflex_id}").json()
            assert (vehicle["status"], vehicle[LIFE.police_field]) == (LIFE.physical_entry, booked[record_id])
