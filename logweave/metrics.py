"""logweave-consumer-metrics: read each event and keep the hourly and daily metrics in SQL.

Each event is read in its router's context (logweave.reader): parsed, timed in the router's
zone, and marked as an event of its own or as a line that repeats or continues one. One
statement per batch then writes the readings into ``parsed_events``, keyed by event id, and sums
only the rows that insert added and that are events (``counted``) into the metric tables. An
event delivered again adds no row there, so it adds nothing to any count; it is also left out
of the reading, so it cannot disturb the context that later lines are read in.
"""

from __future__ import annotations

import json
import logging
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from logweave import db
from logweave.config import Settings
from logweave.consume import BatchWriter, run_service
from logweave.contract import ContractError, Event
from logweave.correlate import Amendment, Stream
from logweave.identity import OUI_FILES, Vendors
from logweave.parsers.base import PROBLEM_KINDS
from logweave.reader import EventReader, EventReading
from logweave.service import RateLimitedLog

log = logging.getLogger("logweave.metrics")
_bad_records = RateLimitedLog(log, 10)

GROUP = "logweave-metrics"

_PROBLEMS = ", ".join(f"'{kind.value}'" for kind in sorted(PROBLEM_KINDS))

# The columns of a reading, in the order of the rows ``write`` builds; ``vendor`` is not stored
# in parsed_events but goes on to the device tables.
_BATCH_COLUMNS = (
    "event_id, received_at, reported_at, device_time, clock_skew, router, kind, family, parse_ok,"
    " mac, ip, hostname, iface, ssid, band, severity, program, detail, counted, dup_of, part_of,"
    " dst_ip, proto, dport"
)
_BATCH_ROW = (
    "(%s::uuid, %s::timestamptz, %s::timestamptz, %s::timestamptz, %s::boolean, %s, %s, %s,"
    " %s::boolean, %s, %s, %s, %s, %s, %s, %s::smallint, %s, %s, %s::boolean, %s::uuid,"
    " %s::uuid, %s, %s, %s::int, %s)"
)
_AMENDMENT_ROW = "(%s::uuid, %s::timestamptz, %s, %s, %s, %s::uuid, %s)"
_ROUTER_ROW = "(%s, %s, %s, %s::timestamptz, %s::timestamptz)"
_STREAM_ROW = "(%s, %s::jsonb)"

# All of this runs as one statement, so every CTE sees the same ``fresh`` rows and the same
# snapshot of parsed_events from before the statement (``before``).
APPLY_BATCH = f"""
WITH batch ({_BATCH_COLUMNS}, vendor) AS ({{batch}}),
fresh AS (
    INSERT INTO parsed_events ({_BATCH_COLUMNS})
    SELECT {_BATCH_COLUMNS} FROM batch
    ON CONFLICT DO NOTHING
    RETURNING *
),
counted AS (
    SELECT fresh.*, batch.vendor
    FROM fresh JOIN batch USING (event_id, received_at)
    WHERE fresh.counted
),
amendment (event_id, received_at, mac, ip, hostname, part_of, vendor) AS ({{amendments}}),
before AS (
    SELECT p.event_id, p.received_at, p.mac
    FROM parsed_events p JOIN amendment a USING (event_id, received_at)
),
amended AS (
    UPDATE parsed_events p
    SET mac = coalesce(a.mac, p.mac),
        ip = coalesce(a.ip, p.ip),
        hostname = coalesce(a.hostname, p.hostname),
        part_of = coalesce(a.part_of, p.part_of)
    FROM amendment a
    WHERE p.event_id = a.event_id AND p.received_at = a.received_at
    RETURNING p.*, a.vendor
),
-- The device rows: this batch's events that name a client, and earlier record lines that now
-- know theirs (an event for the device only when it did not know the MAC before).
device_rows AS (
    SELECT received_at, mac, router, hostname, ip, kind, vendor, 1 AS events
    FROM counted WHERE mac IS NOT NULL
    UNION ALL
    SELECT a.received_at, a.mac, a.router, a.hostname, a.ip, a.kind, a.vendor,
           CASE WHEN b.mac IS NULL THEN 1 ELSE 0 END
    FROM amended a JOIN before b USING (event_id, received_at)
    WHERE a.counted AND a.mac IS NOT NULL
),
wifi AS (
    INSERT INTO metrics_wifi_hourly AS m (hour, router, iface, band, ssid,
                                          assoc, disassoc, deauth, auth_fail)
    SELECT date_trunc('hour', received_at, 'UTC'), router, coalesce(iface, ''), coalesce(band, ''),
           coalesce(ssid, ''),
           count(*) FILTER (WHERE kind = 'wifi_assoc'),
           count(*) FILTER (WHERE kind = 'wifi_disassoc'),
           count(*) FILTER (WHERE kind = 'wifi_deauth'),
           count(*) FILTER (WHERE kind = 'wifi_auth_fail')
    FROM counted WHERE kind LIKE 'wifi\\_%'
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (hour, router, iface, band, ssid) DO UPDATE
    SET assoc = m.assoc + EXCLUDED.assoc,
        disassoc = m.disassoc + EXCLUDED.disassoc,
        deauth = m.deauth + EXCLUDED.deauth,
        auth_fail = m.auth_fail + EXCLUDED.auth_fail
    RETURNING 1
),
dhcp AS (
    INSERT INTO metrics_dhcp_hourly AS m (hour, router, discover, offer, request, ack, nak,
                                          release)
    SELECT date_trunc('hour', received_at, 'UTC'), router,
           count(*) FILTER (WHERE kind = 'dhcp_discover'),
           count(*) FILTER (WHERE kind = 'dhcp_offer'),
           count(*) FILTER (WHERE kind = 'dhcp_request'),
           count(*) FILTER (WHERE kind = 'dhcp_ack'),
           count(*) FILTER (WHERE kind = 'dhcp_nak'),
           count(*) FILTER (WHERE kind = 'dhcp_release')
    FROM counted WHERE kind LIKE 'dhcp\\_%'
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (hour, router) DO UPDATE
    SET discover = m.discover + EXCLUDED.discover,
        offer = m.offer + EXCLUDED.offer,
        request = m.request + EXCLUDED.request,
        ack = m.ack + EXCLUDED.ack,
        nak = m.nak + EXCLUDED.nak,
        release = m.release + EXCLUDED.release
    RETURNING 1
),
system AS (
    INSERT INTO metrics_system_hourly AS m (hour, router, program, severity, events, errors,
                                            unparsed, wan_up, wan_down)
    SELECT date_trunc('hour', received_at, 'UTC'), router, coalesce(program, ''), severity,
           count(*),
           count(*) FILTER (WHERE kind = 'system_error'),
           count(*) FILTER (WHERE NOT parse_ok),
           count(*) FILTER (WHERE kind = 'wan_up'),
           count(*) FILTER (WHERE kind = 'wan_down')
    FROM counted
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (hour, router, program, severity) DO UPDATE
    SET events = m.events + EXCLUDED.events,
        errors = m.errors + EXCLUDED.errors,
        unparsed = m.unparsed + EXCLUDED.unparsed,
        wan_up = m.wan_up + EXCLUDED.wan_up,
        wan_down = m.wan_down + EXCLUDED.wan_down
    RETURNING 1
),
firewall AS (
    INSERT INTO metrics_firewall_hourly AS m (hour, router, proto, dport, drops)
    SELECT date_trunc('hour', received_at, 'UTC'), router, coalesce(proto, ''),
           coalesce(dport, -1), count(*)
    FROM counted WHERE kind = 'firewall_drop'
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (hour, router, proto, dport) DO UPDATE
    SET drops = m.drops + EXCLUDED.drops
    RETURNING 1
),
device AS (
    INSERT INTO metrics_device_daily AS m (day, mac, router, hostname, ip, vendor, first_seen,
                                           last_seen, events, problems)
    SELECT (received_at AT TIME ZONE 'UTC')::date, mac,
           (array_agg(router ORDER BY received_at DESC))[1],
           (array_agg(hostname ORDER BY received_at DESC)
                FILTER (WHERE hostname IS NOT NULL))[1],
           (array_agg(ip ORDER BY received_at DESC) FILTER (WHERE ip IS NOT NULL))[1],
           (array_agg(vendor) FILTER (WHERE vendor IS NOT NULL))[1],
           min(received_at), max(received_at), sum(events),
           coalesce(sum(events) FILTER (WHERE kind IN ({_PROBLEMS})), 0)
    FROM device_rows
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (day, mac) DO UPDATE
    SET first_seen = LEAST(m.first_seen, EXCLUDED.first_seen),
        last_seen = GREATEST(m.last_seen, EXCLUDED.last_seen),
        events = m.events + EXCLUDED.events,
        problems = m.problems + EXCLUDED.problems,
        vendor = coalesce(EXCLUDED.vendor, m.vendor),
        router = CASE WHEN EXCLUDED.last_seen >= m.last_seen
                      THEN EXCLUDED.router ELSE m.router END,
        hostname = CASE WHEN EXCLUDED.last_seen >= m.last_seen
                        THEN coalesce(EXCLUDED.hostname, m.hostname)
                        ELSE coalesce(m.hostname, EXCLUDED.hostname) END,
        ip = CASE WHEN EXCLUDED.last_seen >= m.last_seen
                  THEN coalesce(EXCLUDED.ip, m.ip) ELSE coalesce(m.ip, EXCLUDED.ip) END
    RETURNING 1
),
-- A device's hostname is the latest one a DHCP line gave; other lines' names do not replace it.
known_devices AS (
    INSERT INTO devices AS d (mac, vendor, hostname, hostname_seen, ip, router, first_seen,
                              last_seen)
    SELECT mac,
           (array_agg(vendor) FILTER (WHERE vendor IS NOT NULL))[1],
           (array_agg(hostname ORDER BY received_at DESC)
                FILTER (WHERE hostname IS NOT NULL AND kind LIKE 'dhcp\\_%'))[1],
           max(received_at) FILTER (WHERE hostname IS NOT NULL AND kind LIKE 'dhcp\\_%'),
           (array_agg(ip ORDER BY received_at DESC) FILTER (WHERE ip IS NOT NULL))[1],
           (array_agg(router ORDER BY received_at DESC))[1],
           min(received_at), max(received_at)
    FROM device_rows
    GROUP BY mac
    ORDER BY mac
    ON CONFLICT (mac) DO UPDATE
    SET vendor = coalesce(EXCLUDED.vendor, d.vendor),
        hostname = CASE WHEN EXCLUDED.hostname_seen >= coalesce(d.hostname_seen, '-infinity')
                        THEN EXCLUDED.hostname ELSE d.hostname END,
        hostname_seen = GREATEST(d.hostname_seen, EXCLUDED.hostname_seen),
        ip = CASE WHEN EXCLUDED.last_seen >= d.last_seen
                  THEN coalesce(EXCLUDED.ip, d.ip) ELSE coalesce(d.ip, EXCLUDED.ip) END,
        router = CASE WHEN EXCLUDED.last_seen >= d.last_seen
                      THEN EXCLUDED.router ELSE d.router END,
        first_seen = LEAST(d.first_seen, EXCLUDED.first_seen),
        last_seen = GREATEST(d.last_seen, EXCLUDED.last_seen)
    RETURNING 1
),
router_row (address, name, hostname, first_seen, last_seen) AS ({{routers}}),
known_routers AS (
    INSERT INTO routers AS r (address, name, hostname, first_seen, last_seen)
    SELECT address, name, hostname, first_seen, last_seen FROM router_row ORDER BY address
    ON CONFLICT (address) DO UPDATE
    SET name = EXCLUDED.name,
        hostname = CASE WHEN EXCLUDED.last_seen >= r.last_seen
                        THEN coalesce(EXCLUDED.hostname, r.hostname)
                        ELSE coalesce(r.hostname, EXCLUDED.hostname) END,
        first_seen = LEAST(r.first_seen, EXCLUDED.first_seen),
        last_seen = GREATEST(r.last_seen, EXCLUDED.last_seen)
    RETURNING 1
),
stream_row (router, state) AS ({{streams}}),
streams AS (
    INSERT INTO router_streams AS s (router, state, updated_at)
    SELECT router, state, now() FROM stream_row ORDER BY router
    ON CONFLICT (router) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at
    RETURNING 1
)
SELECT (SELECT count(*) FROM fresh),
       (SELECT count(*) FROM fresh WHERE NOT parse_ok),
       (SELECT count(*) FROM fresh WHERE NOT counted)
"""  # noqa: S608 -- only fixed kind names and rows rendered by the driver are formatted in

# An empty relation of each shape, for a batch that has none of those rows.
_NONE = {
    "amendments": "SELECT NULL::uuid, NULL::timestamptz, NULL::text, NULL::text, NULL::text,"
    " NULL::uuid, NULL::text WHERE false",
    "routers": "SELECT NULL::text, NULL::text, NULL::text, NULL::timestamptz, NULL::timestamptz"
    " WHERE false",
    "streams": "SELECT NULL::text, NULL::jsonb WHERE false",
}


class MetricsWriter:
    """The consumer's batch writer: the readers' context lives in router_streams between
    batches, so each batch continues each router's stream where the previous one ended.
    """

    def __init__(self, settings: Settings, vendors: Vendors) -> None:
        self.settings = settings
        self.vendors = vendors

    def __call__(self, cur: Any, records: list[Any]) -> Counter[str]:
        counts: Counter[str] = Counter()
        events = _events(records, counts)
        if not events:
            return counts
        routers = sorted({event.fromhost_ip for event in events})
        reader = EventReader(self.settings, _load_streams(cur, routers))
        stored = _stored_ids(cur, events)

        batch = _Batch()
        for event in events:
            if event.id in stored or event.id in batch.rows:
                counts["duplicates"] += 1  # its reading is in parsed_events already
                continue
            read, amendments = reader.read(event)
            batch.add(read, amendments, self.vendors)
        if not batch.rows:
            return counts

        days = {row.event.timegenerated.date() for row in batch.rows.values()}
        db.ensure_partitions_for(cur.connection, "parsed_events", days)
        cur.execute(self._statement(cur, batch, reader.streams, routers))
        fresh, unparsed, not_counted = cur.fetchone()
        counts["parsed"] += fresh
        counts["unparsed"] += unparsed
        counts["repeats_and_parts"] += not_counted
        counts["duplicates"] += len(batch.rows) - fresh
        return counts

    def _statement(
        self, cur: Any, batch: _Batch, streams: dict[str, Stream], routers: list[str]
    ) -> str:
        rows = [row.values() for row in batch.rows.values()]
        amendments = [
            (
                a.ref,
                a.received,
                a.mac,
                a.ip,
                db.without_nul(a.hostname),
                a.part_of,
                self.vendors.of(a.mac),
            )
            for a in batch.amendments.values()
        ]
        names = self.settings.routers
        router_rows = [
            (address, names[address].name or None if address in names else None, *seen)
            for address, seen in sorted(batch.seen.items())
        ]
        stream_rows = [
            (router, json.dumps(_without_nul(streams[router].to_json())))
            for router in routers
            if router in streams and router in batch.seen
        ]
        return APPLY_BATCH.format(
            batch="VALUES " + _values(cur, _BATCH_ROW, rows),
            amendments=_relation(cur, _AMENDMENT_ROW, amendments, "amendments"),
            routers=_relation(cur, _ROUTER_ROW, router_rows, "routers"),
            streams=_relation(cur, _STREAM_ROW, stream_rows, "streams"),
        )


@dataclass
class _Row:
    event: Event
    read: EventReading
    vendor: str | None

    def values(self) -> tuple[Any, ...]:
        event, reading, parsed = self.event, self.read.reading, self.read.reading.parsed
        return (
            event.id,
            event.timegenerated,
            event.timereported,
            self.read.time.at,
            self.read.time.clock_skew,
            event.fromhost_ip,
            parsed.kind.value,
            parsed.family,
            parsed.parse_ok,
            parsed.mac,
            parsed.ip,
            db.without_nul(parsed.hostname),
            db.without_nul(parsed.iface),
            db.without_nul(parsed.ssid),
            parsed.band,
            event.severity,
            db.without_nul(self.read.program),
            db.without_nul(parsed.detail),
            reading.counted,
            reading.dup_of,
            reading.part_of,
            parsed.dst,
            db.without_nul(parsed.proto),
            parsed.dport,
            self.vendor,
        )


class _Batch:
    """The readings of one batch, with the amendments to lines of earlier batches apart."""

    def __init__(self) -> None:
        self.rows: dict[str, _Row] = {}
        self.amendments: dict[str, Amendment] = {}
        self.seen: dict[str, tuple[str | None, datetime, datetime]] = {}

    def add(self, read: EventReading, amendments: list[Amendment], vendors: Vendors) -> None:
        event = read.event
        self.rows[event.id] = _Row(event, read, vendors.of(read.reading.parsed.mac))
        for amendment in amendments:
            row = self.rows.get(amendment.ref)
            if row is not None:
                row.read = _amend(row.read, amendment)
                row.vendor = vendors.of(row.read.reading.parsed.mac)
            else:
                earlier = self.amendments.get(amendment.ref)
                self.amendments[amendment.ref] = _merge(earlier, amendment)
        before = self.seen.get(event.fromhost_ip)
        since = event.timegenerated if before is None else min(before[1], event.timegenerated)
        # The HOSTNAME a line carried; rsyslog puts the sender's address where it has none.
        hostname = event.hostname if event.hostname not in ("", event.fromhost_ip) else None
        if hostname is None and before is not None:
            hostname = before[0]
        self.seen[event.fromhost_ip] = (db.without_nul(hostname), since, event.timegenerated)


def _amend(read: EventReading, amendment: Amendment) -> EventReading:
    reading = read.reading
    parsed = replace(
        reading.parsed,
        mac=amendment.mac or reading.parsed.mac,
        ip=amendment.ip or reading.parsed.ip,
        hostname=amendment.hostname or reading.parsed.hostname,
    )
    part_of = amendment.part_of or reading.part_of
    return replace(read, reading=replace(reading, parsed=parsed, part_of=part_of))


def _merge(earlier: Amendment | None, later: Amendment) -> Amendment:
    if earlier is None:
        return later
    return replace(
        later,
        mac=later.mac or earlier.mac,
        ip=later.ip or earlier.ip,
        hostname=later.hostname or earlier.hostname,
        part_of=later.part_of or earlier.part_of,
    )


def _events(records: list[Any], counts: Counter[str]) -> list[Event]:
    events = []
    for record in records:
        try:
            events.append(Event.from_json(record.value))
        except (ContractError, ValueError) as exc:
            # The raw archiver keeps such a record in dead_letters; here it has no metrics.
            _bad_records.warning(
                "bad_event",
                "bad_kafka_record topic=%s offset=%d error=%s",
                record.topic,
                record.offset,
                exc,
            )
            counts["bad_records"] += 1
    return events


def _load_streams(cur: Any, routers: list[str]) -> dict[str, Stream]:
    """Each router's context, locked until the batch commits (a replaying consumer waits)."""
    cur.execute(
        "SELECT router, state FROM router_streams WHERE router = ANY(%s) ORDER BY router"
        " FOR UPDATE",
        (routers,),
    )
    return {router: Stream.from_json(state) for router, state in cur.fetchall()}


def _stored_ids(cur: Any, events: list[Event]) -> set[str]:
    cur.execute(
        "SELECT p.event_id::text FROM parsed_events p"
        " JOIN unnest(%s::uuid[], %s::timestamptz[]) AS b(event_id, received_at)"
        " USING (event_id, received_at)",
        ([event.id for event in events], [event.timegenerated for event in events]),
    )
    return {event_id for (event_id,) in cur.fetchall()}


def _values(cur: Any, template: str, rows: list[tuple[Any, ...]]) -> str:
    return ",".join(cur.mogrify(template, row).decode() for row in rows)


def _relation(cur: Any, template: str, rows: list[tuple[Any, ...]], name: str) -> str:
    return "VALUES " + _values(cur, template, rows) if rows else _NONE[name]


def _without_nul(value: Any) -> Any:
    """A router's context as jsonb takes it: jsonb text cannot hold NUL either."""
    if isinstance(value, str):
        return db.without_nul(value)
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def writer(settings: Settings) -> BatchWriter:
    paths = [Path(settings.parsing.oui_file)] if settings.parsing.oui_file else list(OUI_FILES)
    return MetricsWriter(settings, Vendors.load(paths))


def main(argv: Sequence[str] | None = None) -> int:
    return run_service(
        GROUP,
        argv,
        batch=lambda s: s.metrics,
        topics=lambda s: [s.kafka.topic],
        partitioned_table="parsed_events",
        writer=writer,
    )


if __name__ == "__main__":
    sys.exit(main())
