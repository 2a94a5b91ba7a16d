"""The outbox: every message to deliver, written in the same transaction as the event (or
digest) it announces, so an alert is never lost between "decided" and "sent". Delivery
claims due rows with a lease, so two deliverers never send the same row at once and a
deliverer that dies leaves its rows to be retried."""

import json
from dataclasses import dataclass
from typing import Any

from storage.repository import Repository, Row, where


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    channel: str
    idempotency_key: str
    subject: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: str
    last_error: str | None
    created_at: str
    sent_at: str | None
    event_id: int | None = None
    digest: str | None = None
    retry_since: str | None = None  # the first failure since it was queued or requeued


class Outbox(Repository):
    def enqueue(
        self,
        *,
        channel: str,
        key: str,
        subject: str,
        payload: dict[str, Any],
        at: str,
        event_id: int | None = None,
        digest: str | None = None,
    ) -> int | None:
        """Add a message due now; None if a message with this key already exists."""
        cursor = self.db.execute(
            """INSERT OR IGNORE INTO outbox (event_id, digest, channel, idempotency_key,
                   subject, payload, next_attempt_at, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (event_id, digest, channel, key, subject, json.dumps(payload, default=str), at, at),
        )
        return cursor.lastrowid if cursor.rowcount == 1 else None

    def claim_due(self, *, now: str, lease_until: str, limit: int = 100) -> list[OutboxMessage]:
        """Take pending messages that are due: count the attempt and push their next
        attempt to `lease_until`, so nobody else takes them while they are being sent."""
        with self.transaction():
            rows = self._rows(
                """SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?
                   ORDER BY next_attempt_at, id LIMIT ?""",
                [now, limit],
            )
            self.db.conn.executemany(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
                [(lease_until, row["id"]) for row in rows],
            )
        return [_message({**row, "attempts": row["attempts"] + 1}) for row in rows]

    def defer(self, message_id: int, *, until: str) -> None:
        """Put a claimed message back, unsent and its attempt uncounted, until `until`
        (a group still gathering its alerts)."""
        self.db.execute(
            "UPDATE outbox SET attempts = attempts - 1, next_attempt_at = ? WHERE id = ?",
            [until, message_id],
        )

    def mark_sent(self, message_id: int, *, at: str) -> None:
        self.db.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
            [at, message_id],
        )

    def mark_failed(self, message_id: int, *, error: str, retry_at: str, at: str) -> None:
        self.db.execute(
            """UPDATE outbox SET last_error = ?, next_attempt_at = ?,
                   retry_since = COALESCE(retry_since, ?) WHERE id = ?""",
            [error, retry_at, at, message_id],
        )

    def requeue(self, message_ids: list[int], *, at: str) -> int:
        """Make pending and due at `at` the given messages that were not sent (dead, or
        pending and waiting for their next try); their retry time starts over."""
        with self.transaction():
            cursor = self.db.conn.executemany(
                """UPDATE outbox SET status = 'pending', next_attempt_at = ?, retry_since = NULL
                   WHERE id = ? AND status IN ('pending', 'dead')""",
                [(at, message_id) for message_id in message_ids],
            )
        return cursor.rowcount

    def ids(self, *, status: str) -> list[int]:
        return [row["id"] for row in self._rows("SELECT id FROM outbox WHERE status = ?", [status])]

    def mark_dead(self, message_id: int, *, error: str) -> None:
        self.db.execute(
            "UPDATE outbox SET status = 'dead', last_error = ? WHERE id = ?", [error, message_id]
        )

    def get(self, message_id: int) -> OutboxMessage | None:
        row = self._one("SELECT * FROM outbox WHERE id = ?", [message_id])
        return _message(row) if row else None

    def recent(self, *, status: str | None = None, limit: int = 50) -> list[OutboxMessage]:
        """Newest first, optionally of one status (pending ones: the next due first)."""
        clause, params = where(("status = ?", status))
        order = "next_attempt_at, id" if status == "pending" else "id DESC"
        rows = self._rows(
            f"SELECT * FROM outbox {clause} ORDER BY {order} LIMIT ?", [*params, limit]
        )
        return [_message(row) for row in rows]

    def counts(self) -> dict[str, int]:
        """Messages per status (pending, sent, dead), zeros included: for /metrics."""
        found = dict.fromkeys(("pending", "sent", "dead"), 0)
        for row in self._rows("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status"):
            found[row["status"]] = row["n"]
        return found

    def sent_by_channel(self) -> dict[str, int]:
        """Messages sent, per channel name."""
        rows = self._rows(
            "SELECT channel, COUNT(*) AS n FROM outbox WHERE status = 'sent' GROUP BY channel"
        )
        return {row["channel"]: row["n"] for row in rows}

    def last_digest_at(self, digest: str) -> str | None:
        """When a digest was last queued: the next one covers what came after."""
        row = self._one("SELECT MAX(created_at) AS at FROM outbox WHERE digest = ?", [digest])
        return row["at"] if row else None


def _message(row: Row) -> OutboxMessage:
    return OutboxMessage(**{**row, "payload": json.loads(row["payload"])})
