"""Vehicles (module « Véhicules »): create, list, get, and the JSON merge patch.

Every write goes through the contract's rule engine (`icarflex.contracts.evaluate`) before anything
of it is stored: a refusal stores nothing (rule R6: refused whole), and the journal gets the
vehicle before and the verdict. A creation is one store transaction; a PATCH is judged on a
state known current and stored in one compare-and-swap statement, now or, when this process
knows the vehicle current, a few milliseconds after its answer (`patch_vehicle`). The
reference match (rule R2) is recomputed whenever the VIN or registration change.
"""
from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from icarflex.contracts import ApiVoSettings, evaluate, is_published
from icarflex.mocks.common.combining import Job
from icarflex.mocks.common.errors import ApiError, NotFound, PreconditionFailed
from icarflex.mocks.common.store import dumps, loads
from icarflex.mocks.openflex import events
from icarflex.mocks.openflex.base import BackendBase
from icarflex.mocks.openflex.reference import IDENTITY_FIELDS
from icarflex.mocks.openflex.tables import as_utc, next_id, now, placeholders

PUBLISHED = "published"           # computed from status and reservations, never stored
FILTER_COLUMNS = ("status", "vin", "registration", "police_number")
INDEXED_COLUMNS = FILTER_COLUMNS  # vehicle fields kept in their own (indexed) column beside the doc
log = logging.getLogger(__name__)


def version_tag(version: int) -> str:
    return f"v{version}"


def version_of(vehicle: Mapping[str, Any]) -> int:
    """The version counter behind a vehicle's `version_tag`."""
    return int(str(vehicle["version_tag"]).lstrip("v"))


def etag(vehicle: Mapping[str, Any]) -> str:
    """The strong ETag of a vehicle's representation."""
    return f'"{vehicle["version_tag"]}"'


def etag_matches(if_match: str | None, tag: str) -> bool:
    """RFC 9110 If-Match with strong comparison; `*` matches; an unquoted tag is tolerated."""
    if if_match is None:
        return True
    candidates = [c.strip() for c in if_match.split(",")]
    return any(c in ("*", f'"{tag}"', tag) for c in candidates)


@dataclass(frozen=True)
class PatchRequest:
    dealer: str
    actor: str
    patch: Mapping[str, Any]
    if_match: str | None


@dataclass
class Unsaved:
    """A vehicle's answered writes not yet in the store: its stored state, the last state, the events."""

    stored: dict[str, Any]
    overlay: str | None
    after: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)


class VehiclesMixin(BackendBase):
    # -- reads -------------------------------------------------------------------
    def get_vehicle(self, dealer: str, vehicle_id: str) -> dict[str, Any]:
        current = self._current(dealer, vehicle_id)
        return current if current is not None else self._load(self.store.connection(), dealer, vehicle_id)

    def list_vehicles(self, dealer: str, limit: int = 100, cursor: str | None = None,
                      updated_since: datetime | None = None, **filters: Any) -> dict[str, Any]:
        """A page of the dealer's vehicles, oldest first; filters are exact (FILTER_COLUMNS)."""
        unknown = set(filters) - set(FILTER_COLUMNS)
        if unknown:
            raise TypeError(f"unknown vehicle filters {sorted(unknown)}")
        sql, params = "SELECT * FROM openflex_vehicles WHERE dealer = ?", [dealer]
        for column in FILTER_COLUMNS:
            if filters.get(column) is not None:
                sql += f" AND {column} = ?"
                params.append(filters[column])
        if updated_since is not None:
            sql += " AND updated_at >= ?"
            params.append(as_utc(updated_since))
        if cursor is not None:
            sql += " AND seq > ?"
            params.append(int(cursor))
        rows = self.store.query(sql + " ORDER BY seq LIMIT ?", (*params, limit + 1))
        page = rows[:limit]
        items = self._assemble(self.store.connection(), dealer, page)
        return {"items": items, "next_cursor": str(page[-1]["seq"]) if len(rows) > limit else None}

    # -- writes ------------------------------------------------------------------
    def create_vehicle(self, dealer: str, actor: str, data: Mapping[str, Any]) -> dict[str, Any]:
        with self.store.transaction() as conn:
            return self._create(conn, dealer, actor, data)

    def patch_vehicle(self, dealer: str, actor: str, vehicle_id: str, patch: Mapping[str, Any],
                      if_match: str | None = None) -> dict[str, Any]:
        """Judged on a state known current (If-Match, the rule engine, the merge), each write on
        the state the previous one left.

        When this process knows the vehicle's current state (its cached state and the dealer's
        settings overlay stamped at the store's generation: nothing else was written since), the
        write is judged on it and answered at once, queued under the store's state lock (which
        keeps every other writer out) only if nothing was written meanwhile, else judged again;
        its store write is deferred (`Store.defer`: one statement a few milliseconds later for
        every write of the vehicle answered meanwhile). Otherwise the concurrent writes of the
        vehicle are grouped (`icarflex.mocks.common.combining`): judged in arrival order on a snapshot
        (this process's last view, or the store's) and stored in one compare-and-swap statement
        on the version and on the settings judged with. A refusal (404, 412, a rule) or a write
        that changes nothing is only ever answered on a state known current when it was read.
        """
        job = Job(PatchRequest(dealer, actor, patch, if_match))
        if not self._patch_known(vehicle_id, [job]):  # known current: no queue to wait in
            self.writes.submit(vehicle_id, job, lambda batch: self._patch_batch(vehicle_id, batch))
        self.audit(**job.notes)
        if job.error is not None:
            raise job.error
        return job.result

    def _patch_batch(self, vehicle_id: str, batch: list[Job]) -> None:
        if self._patch_known(vehicle_id, batch):
            return
        stored = False  # is the snapshot just read from the store (else: this process's last view)?
        while True:
            snapshot = None if stored else self._last_seen(vehicle_id)
            if snapshot is None:
                snapshot, stored = self._snapshot(vehicle_id), True
            if snapshot is None:
                for job in batch:
                    job.error = NotFound("Véhicule", vehicle_id)
                return
            before, overlay = snapshot
            stamp = now()
            judged = self._judge(vehicle_id, batch, before, overlay, stamp, stored)
            if judged is None:
                stored = True  # judge a refusal again on the stored state, never on a remembered one
                continue
            after, pending_events = judged
            if after is before:
                return  # nothing to write
            generation = self._save(after, before, overlay, dumps(events.pending(pending_events)))
            if generation is None:
                stored = True  # another write landed since the snapshot: judge again on the new state
                continue
            self._remember(after, generation)
            self.overlay_seen.put(after["dealer"], (overlay, generation))  # the write proved it current
            return

    def _patch_known(self, vehicle_id: str, batch: list[Job]) -> bool:
        """Judge and answer the batch on the state this process knows current, the store write
        deferred; False (the batch to judge again) when it does not know it, or when another
        write came in while it judged. Judged outside the state lock (on a state that never
        changes: a new version is a new entry), then checked and queued under it: a lock held
        only for that is never waited on for long."""
        store = self.store
        generation = store.generation
        entry = self.vehicle_cache.get(vehicle_id)
        if entry is None or entry[2] != generation:
            return False
        seen = self.overlay_seen.get(entry[1]["dealer"])
        if seen is None or seen[1] != generation:
            return False
        before, overlay = entry[1], seen[0]
        judged = self._judge(vehicle_id, batch, before, overlay, now(), stored=True)
        assert judged is not None  # judged on a state known current: refusals are answered
        after, pending_events = judged
        if after is before:
            return True  # refused or unchanged, on the state current when it was read
        written = events.pending(pending_events)
        with store.state_lock:
            if store.generation != generation or self.vehicle_cache.get(vehicle_id) is not entry:
                return False
            unsaved = self._unsaved.get(vehicle_id)
            if unsaved is None:
                unsaved = self._unsaved[vehicle_id] = Unsaved(before, overlay)
                store.defer(("vehicle", vehicle_id), lambda: self._take_unsaved(vehicle_id))
            unsaved.after = after
            unsaved.events += written
            self.vehicle_cache.put(vehicle_id, (version_of(after), after, generation))
        return True

    def _take_unsaved(self, vehicle_id: str) -> Callable[[sqlite3.Connection], None]:
        """Under the state lock: the vehicle's answered writes, taken (later ones start a new
        `Unsaved`), as the one statement storing them (built outside the lock)."""
        unsaved = self._unsaved.pop(vehicle_id)

        def write(conn: sqlite3.Connection) -> None:
            sql, params = self._update(unsaved.after, unsaved.stored, unsaved.overlay, dumps(unsaved.events))
            if conn.execute(sql, params).rowcount != 1:  # cannot be: every other writer waited for it
                log.error("écriture différée du véhicule %s perdue : version %s changée entre-temps",
                          vehicle_id, version_of(unsaved.stored))
                self.vehicle_cache.discard(vehicle_id)
        return write

    def _judge(self, vehicle_id: str, batch: list[Job], before: dict[str, Any], overlay: str | None,
               stamp: str, stored: bool) -> tuple[dict[str, Any], list[tuple[str, str, Any]]] | None:
        """Each write of the batch judged on the state the previous ones left: the last state and
        the events to write, each job's result or error set; None to judge again on the store."""
        current, pending_events = before, []
        for job in batch:
            request: PatchRequest = job.payload
            job.result, job.error = None, None
            job.notes = {"vehicle_before": current, "vehicle_id": vehicle_id}
            try:
                if current["dealer"] != request.dealer:
                    raise NotFound("Véhicule", vehicle_id)  # another dealer's vehicle (isolation)
                if not etag_matches(request.if_match, current["version_tag"]):
                    raise PreconditionFailed(f"If-Match {request.if_match} ≠ ETag {etag(current)} : "
                                             "relire le véhicule")
                self._enforce(request.dealer, request.actor, current, request.patch,
                              self.settings_of(overlay), audit=job.notes.update)
            except ApiError as exc:
                if not stored:
                    return None
                job.error = exc
                continue
            after = self._merged(current, request.patch)
            changes = {k: after[k] for k in self.contract.vehicle.fields if after.get(k) != current.get(k)}
            if not changes:
                if not stored:
                    return None
                job.result = current
                continue
            data = {"changes": changes, "before": {k: current.get(k) for k in changes}}
            pending_events += [(request.actor, type_, event) for type_, event
                               in self._update_events(current, after, data)]
            after.update(updated_at=stamp, version_tag=version_tag(version_of(current) + 1))
            after[PUBLISHED] = is_published(self.contract, after["status"], after["reservations"])
            job.result = current = after
        return current, pending_events

    @staticmethod
    def _update_events(before: Mapping[str, Any], after: Mapping[str, Any],
                       data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        out = [(events.VEHICLE_UPDATED, data)]
        if "status" in data["changes"]:
            out.append((events.STATUS_CHANGED, {"from": before["status"], "to": after["status"]}))
        return out

    # -- shared with trade-ins, reservations and orders --------------------------
    def _enforce(self, dealer: str, actor: str, before: Mapping[str, Any] | None,
                 change: Mapping[str, Any], settings: ApiVoSettings | None = None,
                 audit: Callable[..., None] | None = None) -> None:
        """The rule engine's verdict, journaled; any violation refuses the write whole."""
        verdict = evaluate(self.contract, settings or self.settings_for(dealer), actor, before, change)
        (audit or self.audit)(verdict=[v.to_json() for v in verdict])
        if verdict:
            raise ApiError.from_violations(verdict)

    def _create(self, conn: sqlite3.Connection, dealer: str, actor: str, data: Mapping[str, Any],
                opportunity_id: str | None = None) -> dict[str, Any]:
        change = {k: v for k, v in data.items() if v is not None}
        self.audit(vehicle_before=None)
        self._enforce(dealer, actor, None, change)
        vehicle = {name: None for name in self.contract.vehicle.fields}
        vehicle.update(change, status=self.contract.entry_status)
        vehicle.update(self.reference.match(vehicle.get("vin"), vehicle.get("registration")).to_json())
        vehicle_id = self._insert(conn, dealer, vehicle, opportunity_id)
        self.audit(vehicle_id=vehicle_id)
        created = {k: v for k, v in vehicle.items() if v is not None}
        events.record(conn, dealer, events.VEHICLE_CREATED, actor, vehicle_id,
                      {**created, **({"opportunity_id": opportunity_id} if opportunity_id else {})})
        return self._load(conn, dealer, vehicle_id)

    def _insert(self, conn: sqlite3.Connection, dealer: str, vehicle: Mapping[str, Any],
                opportunity_id: str | None = None) -> str:
        vehicle_id, stamp = next_id(conn, "vehicle"), now()
        conn.execute("INSERT INTO openflex_vehicles (id, dealer, status, vin, registration, police_number, "
                     "opportunity_id, created_at, updated_at, version, doc) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                     (vehicle_id, dealer, vehicle["status"], vehicle.get("vin"), vehicle.get("registration"),
                      vehicle.get("police_number"), opportunity_id, stamp, stamp, 1,
                      dumps(self._doc(vehicle))))
        return vehicle_id

    def _merged(self, before: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
        """RFC 7396 on the flat vehicle (null unsets), then the reference match if identity moved."""
        after = {**before, **patch}
        if any(after.get(f) != before.get(f) for f in IDENTITY_FIELDS):
            after.update(self.reference.match(after.get("vin"), after.get("registration")).to_json())
        return after

    def _save(self, after: Mapping[str, Any], before: Mapping[str, Any], overlay: str | None,
              pending_events: str) -> int | None:
        """Write `after` and its events over `before` (`_update`) now, in one round trip to SQLite.

        Returns the store's generation just after the write, or None when another write changed
        the version or the settings overlay since.
        """
        written = self.store.write(*self._update(after, before, overlay, pending_events))
        return written.generation if written.rowcount == 1 else None

    def _update(self, after: Mapping[str, Any], before: Mapping[str, Any], overlay: str | None,
                pending_events: str) -> tuple[str, tuple[Any, ...]]:
        """The statement writing `after` and its events over `before` if the stored version is still
        before's and the dealer's stored settings overlay is still `overlay` (the settings `after`
        was judged with): one statement (tables.TRIGGERS moves the events to the feed).

        Only the indexed columns that changed are set: SQLite rewrites the index entries of
        every column an UPDATE sets, changed or not (3.5× the cost of the write when all are).
        """
        moved = [c for c in INDEXED_COLUMNS if after.get(c) != before.get(c)]
        return (f"UPDATE openflex_vehicles SET {''.join(f'{c} = ?, ' for c in moved)}updated_at = ?, "
                "version = ?, doc = ?, pending_events = ? WHERE id = ? AND version = ? "
                "AND (SELECT overlay FROM openflex_settings WHERE dealer = openflex_vehicles.dealer) IS ?",
                (*(after.get(c) for c in moved), after["updated_at"], version_of(after),
                 dumps(self._doc(after)), pending_events, before["id"], version_of(before), overlay))

    def _touch(self, conn: sqlite3.Connection, vehicle_id: str) -> None:
        """A change of the vehicle's representation outside its fields (its reservations)."""
        conn.execute("UPDATE openflex_vehicles SET updated_at = ?, version = version + 1 WHERE id = ?",
                     (now(), vehicle_id))

    def _doc(self, vehicle: Mapping[str, Any]) -> dict[str, Any]:
        return {k: vehicle.get(k) for k in self.contract.vehicle.fields if k != PUBLISHED}

    def _current(self, dealer: str, vehicle_id: str) -> dict[str, Any] | None:
        """The cached state if it is confirmed at the store's current generation: nothing was
        written since but by this process's deferred writes, which keep it up to date (this
        process is the store's only writer). No SQLite call."""
        entry = self.vehicle_cache.get(vehicle_id)
        if entry is not None and entry[2] == self.store.generation and entry[1]["dealer"] == dealer:
            return dict(entry[1])
        return None

    def _load(self, conn: sqlite3.Connection, dealer: str, vehicle_id: str) -> dict[str, Any]:
        """The vehicle's JSON; 404 for an unknown id and for another dealer's (isolation).

        A cached state known current (`_current`) is served as is; otherwise its version is asked.
        """
        current = self._current(dealer, vehicle_id)
        if current is not None:
            return current
        entry = self.vehicle_cache.get(vehicle_id)
        if entry is not None:
            version, vehicle, _ = entry
            generation = self.store.generation  # before the read: a write after it moves it on
            row = conn.execute("SELECT version FROM openflex_vehicles WHERE id = ? AND dealer = ?",
                               (vehicle_id, dealer)).fetchone()
            if row is None:
                raise NotFound("Véhicule", vehicle_id)
            if row[0] == version:
                if not conn.in_transaction:
                    self._remember(vehicle, generation)
                return dict(vehicle)
        return self._read(conn, dealer, vehicle_id)

    def _snapshot(self, vehicle_id: str) -> tuple[dict[str, Any], str | None] | None:
        """The vehicle and its dealer's settings overlay as stored (one query when the JSON is
        cached); None for an unknown vehicle."""
        conn = self.store.connection()
        generation = self.store.generation  # before the read: a write after it moves it on
        row = conn.execute("SELECT v.version, v.dealer, s.overlay FROM openflex_vehicles v "
                           "LEFT JOIN openflex_settings s ON s.dealer = v.dealer WHERE v.id = ?",
                           (vehicle_id,)).fetchone()
        if row is None:
            return None
        version, dealer, overlay = row
        self.overlay_seen.put(dealer, (overlay, generation))
        entry = self.vehicle_cache.get(vehicle_id)
        cached = dict(entry[1]) if entry is not None and entry[0] == version else None
        return cached or self._read(conn, dealer, vehicle_id), overlay

    def _last_seen(self, vehicle_id: str) -> tuple[dict[str, Any], str | None] | None:
        """The vehicle and its dealer's settings overlay as this process last saw them, if it did."""
        entry = self.vehicle_cache.get(vehicle_id)
        overlay = None if entry is None else self.overlay_seen.get(entry[1]["dealer"])
        if entry is None or overlay is None:
            return None
        return dict(entry[1]), overlay[0]

    def _remember(self, vehicle: Mapping[str, Any], generation: int) -> None:
        """Keep a committed state of a vehicle, current at the store's `generation`: (id, version)
        names one content forever (ids are never reused, every change of the representation
        takes a new version). Never over a newer state (a write answered meanwhile), so under
        the state lock: never call it inside a transaction, which holds it."""
        version = version_of(vehicle)
        with self.store.state_lock:
            entry = self.vehicle_cache.get(vehicle["id"])
            if entry is None or entry[0] <= version:
                self.vehicle_cache.put(vehicle["id"], (version, dict(vehicle), generation))

    def _read(self, conn: sqlite3.Connection, dealer: str, vehicle_id: str) -> dict[str, Any]:
        generation = self.store.generation  # before the read: a write after it moves it on
        row = conn.execute("SELECT * FROM openflex_vehicles WHERE id = ? AND dealer = ?",
                           (vehicle_id, dealer)).fetchone()
        if row is None:
            raise NotFound("Véhicule", vehicle_id)
        vehicle = self._assemble(conn, dealer, [row])[0]
        if not conn.in_transaction:  # inside one, what is read may still be rolled back
            self._remember(vehicle, generation)
        return vehicle

    def _assemble(self, conn: sqlite3.Connection, dealer: str,
                  rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
        ids = [row["id"] for row in rows]
        reservations: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            for r in conn.execute(f"SELECT doc FROM openflex_reservations WHERE dealer = ? AND vehicle_id IN "
                                  f"({placeholders(ids)}) ORDER BY seq", (dealer, *ids)):
                doc = loads(r["doc"])
                reservations[doc["vehicle_id"]].append(doc)
        return [self._vehicle_json(row, reservations[row["id"]]) for row in rows]

    def _vehicle_json(self, row: sqlite3.Row, reservations: list[dict[str, Any]]) -> dict[str, Any]:
        doc = loads(row["doc"])
        fields = {name: doc.get(name) for name in self.contract.vehicle.fields}
        fields["status"] = row["status"]
        fields[PUBLISHED] = is_published(self.contract, row["status"], reservations)
        return {"id": row["id"], "dealer": row["dealer"], **fields, "reservations": reservations,
                "opportunity_id": row["opportunity_id"], "created_at": row["created_at"],
                "updated_at": row["updated_at"], "version_tag": version_tag(row["version"])}
