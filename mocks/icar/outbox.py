"""Running the ICAR outbox: record an operation, push it, settle it once; push again what is open.

The three steps of every ICAR operation that pushes to OpenFlex (`icarflex.mocks.icar.service`
says why): `begin` records it in the unit of work that checks the record (its police number
taken there), `drive` pushes it and settles it by a compare-and-swap on its state (the DMS
change applied by whoever wins, once), `finish` raises what the client must hear.
`settle_open` settles a record's open operation before anything else is done to the record;
`resume` pushes again every open one (the recovery call, and after a start); `replay` pushes a
FAILED sync entry's write again with the values it carried. No Flask, no SQL.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from icarflex.mocks.common.errors import NotFound
from icarflex.mocks.common.store import Row, Store, Transaction, UniqueViolation
from icarflex.mocks.icar.connector import OpenFlexConnector, Outcome
from icarflex.mocks.icar.errors import (
    NotReplayable,
    RecordBusy,
    UpstreamRefused,
    UpstreamUnavailable,
    WrongDmsStatus,
    accepted,
)
from icarflex.mocks.icar.repositories import (
    DONE,
    FAILED,
    OPEN,
    PENDING,
    REFUSED,
    Operation,
    Outbox,
    PoliceRegister,
    Records,
)
from icarflex.mocks.icar.synclog import CallContext, SyncLog, now

Json = dict[str, Any]
log = logging.getLogger(__name__)
# Operations a record has once: a second request for it while it is open is its retry, and is
# answered with its outcome (never a second police number, never a second invoice).
ONCE = frozenset({"physical_entry", "invoice"})
# A refused operation replayed once its cause is fixed (the match corrected, R10): the entry
# booked in the livre de police keeps its police number, which the replay pushes again.
REPLAYABLE_REFUSALS = frozenset({"physical_entry"})
RECORD_ATTEMPTS = 3  # another request began an operation meanwhile: settle it, try again


@dataclass(frozen=True)
class Intent:
    """What an operation pushes (`change`), what shows it landed, and what the DMS then applies."""

    change: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)
    landed: dict[str, Any] | None = None
    etag: str | None = None
    register_id: int | None = None
    police_number: str | None = None


Prepare = Callable[[Transaction, Row], Intent]
Apply = Callable[[Transaction, Operation], None]


class Operations:
    def __init__(self, store: Store, outbox: Outbox, sync_log: SyncLog, connector: OpenFlexConnector,
                 appliers: Mapping[str, Apply]) -> None:
        self.store, self.outbox, self.sync_log, self.connector = store, outbox, sync_log, connector
        self.appliers = dict(appliers)  # operation → what the DMS applies once OpenFlex accepted

    def begin(self, dealer: str, record_id: str, operation: str, statuses: tuple[str, ...],
               prepare: Prepare) -> Operation | None:
        """Step 1, in one unit of work. None: a request for the same once-only operation, begun
        meanwhile by another caller, has just been settled (its outcome is this one's)."""
        for _ in range(RECORD_ATTEMPTS):
            try:
                with self.store.transaction() as unit:
                    record = Records.locked(unit, dealer, record_id)
                    if record is None:
                        raise NotFound("VEH ICAR", record_id)
                    if record["status"] not in statuses:
                        raise WrongDmsStatus(record["status"], statuses, operation)
                    intent = prepare(unit, record)
                    op_id = Outbox.add(unit, {
                        "dealer": dealer, "record_id": record_id, "openflex_id": record["openflex_id"],
                        "operation": operation, "change": intent.change,
                        "landed": intent.landed if intent.landed is not None else intent.change,
                        "data": intent.data, "etag": intent.etag, "register_id": intent.register_id,
                        "police_number": intent.police_number, "last_sync_id": None,
                        "created_at": now(), "updated_at": now()})
            except UniqueViolation:  # the record's open operation, begun by another request
                if self.settle_open(dealer, record_id, operation):
                    return None
                continue
            op = self.outbox.get(op_id)
            assert op is not None
            return op
        raise RecordBusy(record_id, operation)

    def drive(self, op: Operation, *, resume: bool) -> tuple[Operation, Outcome]:
        """Steps 2 and 3: push the operation and settle it by its outcome (once, whoever wins)."""
        ctx = CallContext(op.dealer, op.operation, op.record_id, op.openflex_id, op.id)
        out = self.connector.patch_vehicle(ctx, op.openflex_id, op.change, None if resume else op.etag,
                                           landed=op.landed, resume=resume)
        state = DONE if out.ok else REFUSED if out.refused else FAILED
        with self.store.transaction() as unit:
            if Outbox.settle(unit, op.id, state, out.entry.id, now()) and state != FAILED:
                if state == DONE:
                    self.appliers[op.operation](unit, op)
                else:
                    PoliceRegister.set_state(unit, op.register_id, "REFUSED")  # a struck line, kept
        final = self.outbox.get(op.id)
        assert final is not None
        return final, out

    def finish(self, op: Operation, out: Outcome) -> None:
        """Raise what the client must hear unless the operation is DONE."""
        if op.state == DONE:
            return
        if op.state == REFUSED:  # by this push, or by another caller's (its entry then tells)
            entry = self.sync_log.get(op.last_sync_id or 0) or {}
            problem = entry.get("problem")
            problem = problem if isinstance(problem, Mapping) else {"detail": str(problem)}
            raise UpstreamRefused(entry.get("status"), problem, op.last_sync_id or 0, op.id)
        entry = out.entry
        raise UpstreamUnavailable(entry.error or "", entry.status, entry.attempts, entry.id or 0, op.id)

    def settle_open(self, dealer: str, record_id: str, operation: str) -> bool:
        """Settle the record's open operation, if any, before anything else is done to it (its
        order kept). True: it was this same once-only operation, and it is DONE. Raises while
        OpenFlex stays unreachable, and the refusal of the same once-only operation."""
        op = self.outbox.open_for(dealer, record_id)
        if op is None:
            return False
        final, out = self.drive(op, resume=True)
        same = final.operation == operation and operation in ONCE
        if final.state == FAILED or (same and final.state == REFUSED):
            self.finish(final, out)
        return same and final.state == DONE

    def resume(self, dealer: str | None) -> list[Operation]:
        """Push again every open operation (of the dealer; all for None), oldest first."""
        settled: list[Operation] = []
        after = 0
        while batch := self.outbox.page(dealer, OPEN, after, 100):
            for op in batch:
                settled.append(self.drive(op, resume=True)[0])
            after = batch[-1].id
        return settled

    def resume_in_background(self) -> None:
        if self.outbox.has_open():
            threading.Thread(target=self._resume_quietly, name="icarflex:icar-outbox", daemon=True).start()

    def _resume_quietly(self) -> None:
        try:
            self.resume(None)
        except Exception:  # noqa: BLE001 - after a start, in the background: the next call retries
            log.exception("reprise des opérations ICAR en attente")

    def replay(self, dealer: str | None, entry_id: int) -> tuple[Operation | None, Outcome, Json]:
        """Push a FAILED write of the sync log again, with the same values (the same police
        number): its operation, still open, is settled by it. (operation, outcome, the entry)"""
        entry = self.sync_log.get(entry_id, dealer)
        if entry is None:
            raise NotFound("Entrée du journal de synchro", str(entry_id))
        refused = entry["outcome"] == REFUSED and entry["operation"] in REPLAYABLE_REFUSALS
        if entry["outcome"] != FAILED and not refused:
            raise NotReplayable(f"L'entrée {entry_id} est {entry['outcome']} : seule une entrée FAILED "
                                "(ou une entrée physique refusée) se rejoue", "outcome")
        if entry["method"] != "PATCH":
            raise NotReplayable(f"L'entrée {entry_id} est une lecture ({entry['method']}) : seule une "
                                "écriture se rejoue", "method")
        if entry["outbox_id"] is None:  # a raw write (openflex-writes): pushed again as it was
            ctx = CallContext(entry["dealer"], entry["operation"], entry["record_id"], entry["openflex_id"])
            out = self.connector.patch_vehicle(ctx, entry["openflex_id"], entry["body"])
            accepted(out)
            return None, out, entry
        op = self.outbox.get(entry["outbox_id"])
        if refused and op is not None and op.state == REFUSED:
            op = self._reopen(op, entry_id)
        if op is None or not op.open:
            state = op.state if op else "effacée"
            raise NotReplayable(f"L'opération {entry['outbox_id']} de l'entrée {entry_id} est déjà {state}",
                                "outbox_id")
        final, out = self.drive(op, resume=True)
        self.finish(final, out)
        return final, out, entry

    def _reopen(self, op: Operation, entry_id: int) -> Operation | None:
        """Open a refused physical entry again, with its police number, if it is still the
        record's last one (a later entry took another number: this one stays struck)."""
        if self.outbox.latest(op.dealer, op.record_id, op.operation) != op.id:
            raise NotReplayable(f"L'entrée {entry_id} n'est plus la dernière {op.operation} du VEH "
                                f"{op.record_id}", "outbox_id")
        try:
            with self.store.transaction() as unit:
                if Outbox.reopen(unit, op.id, now()):
                    PoliceRegister.set_state(unit, op.register_id, PENDING)
        except UniqueViolation:
            busy = f"Une opération est en cours sur le VEH {op.record_id}"
            raise NotReplayable(busy, "outbox_id") from None
        return self.outbox.get(op.id)
