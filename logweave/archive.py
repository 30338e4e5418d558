"""logweave-consumer-raw: every event into ``raw_logs``, every rejected line into ``dead_letters``.

A batch is one multi-row INSERT per table. ``raw_logs`` is keyed by the event id (with the
partition day), so an event delivered again inserts nothing.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg2.extras

from logweave import db
from logweave.consume import run_service
from logweave.contract import ContractError, Event
from logweave.service import RateLimitedLog

log = logging.getLogger("logweave.archive")
_bad_records = RateLimitedLog(log, 10)

GROUP = "logweave-raw"


def write(cur: Any, records: list[Any], dlq_topic: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    events, dead = [], []
    for record in records:
        if record.topic == dlq_topic:
            dead.append(_dead_letter_row(record))
            continue
        try:
            events.append((Event.from_json(record.value), record))
        except (ContractError, ValueError) as exc:
            # Not something our producer wrote; keep it where people look for rejects.
            _bad_records.warning(
                "bad_event",
                "bad_kafka_record topic=%s offset=%d error=%s",
                record.topic,
                record.offset,
                exc,
            )
            dead.append(_dead_letter_row(record, reason="bad_event", detail=str(exc)))
    if events:
        db.ensure_partitions_for(
            cur.connection, "raw_logs", {e.timegenerated.date() for e, _ in events}
        )
        inserted = psycopg2.extras.execute_values(
            cur,
            """INSERT INTO raw_logs (event_id, received_at, reported_at, router, hostname,
                                     program, syslogtag, severity, facility, msg, extra,
                                     kafka_partition, kafka_offset)
               VALUES %s ON CONFLICT DO NOTHING RETURNING 1""",
            [_raw_row(event, record) for event, record in events],
            page_size=len(events),
            fetch=True,
        )
        counts["archived"] += len(inserted)
        counts["duplicates"] += len(events) - len(inserted)
    if dead:
        inserted = psycopg2.extras.execute_values(
            cur,
            """INSERT INTO dead_letters (received_at, reason, detail, payload, payload_text,
                                         kafka_topic, kafka_partition, kafka_offset)
               VALUES %s ON CONFLICT DO NOTHING RETURNING 1""",
            dead,
            page_size=len(dead),
            fetch=True,
        )
        counts["dead_letters"] += len(inserted)
    return counts


def set_aside(cur: Any, record: Any, error: str) -> None:
    """A record that no batch could write: kept in dead_letters with the database's reason."""
    row = _dead_letter_row(record, reason="unwritable", detail=f"{record.topic}: {error}")
    cur.execute(
        """INSERT INTO dead_letters (received_at, reason, detail, payload, payload_text,
                                     kafka_topic, kafka_partition, kafka_offset)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING""",
        row,
    )


def _raw_row(event: Event, record: Any) -> tuple[Any, ...]:
    return (
        event.id,
        event.timegenerated,
        event.timereported,
        event.fromhost_ip,
        db.without_nul(event.hostname),
        db.without_nul(event.programname),
        db.without_nul(event.syslogtag),
        event.severity,
        event.facility,
        db.without_nul(event.msg),
        json.dumps(event.extra).replace("\\u0000", "\\ufffd") if event.extra else None,
        record.partition,
        record.offset,
    )


def _dead_letter_row(
    record: Any, reason: str | None = None, detail: str | None = None
) -> tuple[Any, ...]:
    """A dead-letter row from the producer's JSON record, or from any other bytes on the topic."""
    raw: bytes = record.value or b""
    data: dict[str, Any] = {}
    try:
        parsed = json.loads(raw)
        if isinstance(parsed, dict):
            data = parsed
    except ValueError:
        pass
    payload = raw
    if "payload" in data:
        text = str(data["payload"])
        if data.get("payload_encoding") == "base64":
            try:
                payload = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                payload = text.encode()
        else:
            payload = text.encode()
    received = _time(data.get("received_at")) or _record_time(record)
    return (
        received,
        db.without_nul(reason or str(data.get("reason") or "unknown")),
        db.without_nul(detail or str(data.get("detail") or "")),
        psycopg2.Binary(payload),
        db.without_nul(payload.decode("utf-8", errors="replace")),
        record.topic,
        record.partition,
        record.offset,
    )


def _record_time(record: Any) -> datetime:
    """The Kafka timestamp, or now when whoever wrote the record gave an impossible one."""
    try:
        return datetime.fromtimestamp(record.timestamp / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main(argv: Sequence[str] | None = None) -> int:
    return run_service(
        GROUP,
        argv,
        batch=lambda s: s.archive,
        topics=lambda s: [s.kafka.topic, s.kafka.dlq_topic],
        partitioned_table="raw_logs",
        writer=lambda s: functools.partial(write, dlq_topic=s.kafka.dlq_topic),
        set_aside=set_aside,
    )


if __name__ == "__main__":
    sys.exit(main())
