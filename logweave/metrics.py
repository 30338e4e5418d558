"""logweave-consumer-metrics: parse each event and keep the hourly and daily metrics in SQL.

One statement per batch: the parsed records go into ``parsed_events``, keyed by event id, and
only the rows that insert actually added are summed into the metric tables. An event delivered
again adds no row there, so it adds nothing to any count.
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

import psycopg2.extras

from logweave import db
from logweave.config import Settings
from logweave.consume import Maintenance, run_service
from logweave.contract import ContractError, Event
from logweave.parsers import line_from_event, parse
from logweave.parsers.base import PROBLEM_KINDS
from logweave.service import RateLimitedLog

log = logging.getLogger("logweave.metrics")
_bad_records = RateLimitedLog(log, 10)

GROUP = "logweave-metrics"

_PROBLEMS = ", ".join(f"'{kind.value}'" for kind in sorted(PROBLEM_KINDS))

# All of this runs as one statement, so every CTE sees the same ``fresh`` rows.
APPLY_BATCH = f"""
WITH fresh AS (
    INSERT INTO parsed_events (event_id, received_at, reported_at, router, kind, family,
                               parse_ok, mac, ip, hostname, iface, ssid, band, severity,
                               program, detail)
    VALUES %s
    ON CONFLICT DO NOTHING
    RETURNING *
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
    FROM fresh WHERE kind LIKE 'wifi\\_%%'
    GROUP BY 1, 2, 3, 4, 5
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
    FROM fresh WHERE kind LIKE 'dhcp\\_%%'
    GROUP BY 1, 2
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
    FROM fresh
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (hour, router, program, severity) DO UPDATE
    SET events = m.events + EXCLUDED.events,
        errors = m.errors + EXCLUDED.errors,
        unparsed = m.unparsed + EXCLUDED.unparsed,
        wan_up = m.wan_up + EXCLUDED.wan_up,
        wan_down = m.wan_down + EXCLUDED.wan_down
    RETURNING 1
),
device AS (
    INSERT INTO metrics_device_daily AS m (day, mac, router, hostname, ip, first_seen,
                                           last_seen, events, problems)
    SELECT (received_at AT TIME ZONE 'UTC')::date, mac,
           (array_agg(router ORDER BY received_at DESC))[1],
           (array_agg(hostname ORDER BY received_at DESC)
                FILTER (WHERE hostname IS NOT NULL))[1],
           (array_agg(ip ORDER BY received_at DESC) FILTER (WHERE ip IS NOT NULL))[1],
           min(received_at), max(received_at), count(*),
           count(*) FILTER (WHERE kind IN ({_PROBLEMS}))
    FROM fresh WHERE mac IS NOT NULL
    GROUP BY 1, 2
    ON CONFLICT (day, mac) DO UPDATE
    SET first_seen = LEAST(m.first_seen, EXCLUDED.first_seen),
        last_seen = GREATEST(m.last_seen, EXCLUDED.last_seen),
        events = m.events + EXCLUDED.events,
        problems = m.problems + EXCLUDED.problems,
        router = CASE WHEN EXCLUDED.last_seen >= m.last_seen
                      THEN EXCLUDED.router ELSE m.router END,
        hostname = CASE WHEN EXCLUDED.last_seen >= m.last_seen
                        THEN coalesce(EXCLUDED.hostname, m.hostname)
                        ELSE coalesce(m.hostname, EXCLUDED.hostname) END,
        ip = CASE WHEN EXCLUDED.last_seen >= m.last_seen
                  THEN coalesce(EXCLUDED.ip, m.ip) ELSE coalesce(m.ip, EXCLUDED.ip) END
    RETURNING 1
)
SELECT (SELECT count(*) FROM fresh),
       (SELECT count(*) FROM fresh WHERE NOT parse_ok)
"""  # noqa: S608 -- only the fixed kind names are formatted in


def write(cur: Any, records: list[Any]) -> Counter[str]:
    counts: Counter[str] = Counter()
    rows = []
    days = set()
    for record in records:
        try:
            event = Event.from_json(record.value)
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
            continue
        rows.append(parsed_row(event))
        days.add(event.timegenerated.date())
    if not rows:
        return counts
    db.ensure_partitions_for(cur.connection, "parsed_events", days)
    template = "(%s::uuid, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    psycopg2.extras.execute_values(cur, APPLY_BATCH, rows, template=template, page_size=len(rows))
    fresh, unparsed = cur.fetchone()
    counts["parsed"] += fresh
    counts["unparsed"] += unparsed
    counts["duplicates"] += len(rows) - fresh
    return counts


def parsed_row(event: Event) -> tuple[Any, ...]:
    parsed = parse(line_from_event(event))
    return (
        event.id,
        event.timegenerated,
        event.timereported,
        event.fromhost_ip,
        parsed.kind.value,
        parsed.family,
        parsed.parse_ok,
        parsed.mac,
        parsed.ip,
        _clean(parsed.hostname),
        _clean(parsed.iface),
        _clean(parsed.ssid),
        parsed.band,
        event.severity,
        _clean(parsed.program or event.programname or None),
        _clean(parsed.detail),
    )


def _clean(text: str | None) -> str | None:
    return text.replace("\x00", "\ufffd") if text is not None else None


def maintain(settings: Settings) -> Maintenance:
    """Partitions of parsed_events ahead of time, and retention by dropping whole old days."""

    def run(cur: Any) -> Counter[str]:
        created, dropped = db.maintain_partitions(
            cur,
            "parsed_events",
            settings.postgres.partitions_ahead_days,
            settings.postgres.retention_days,
        )
        if created or dropped:
            log.info(
                "partitions_maintained table=parsed_events created=%s dropped=%s",
                ",".join(created) or "-",
                ",".join(dropped) or "-",
            )
        return Counter(partitions_dropped=len(dropped))

    return run


def main(argv: Sequence[str] | None = None) -> int:
    return run_service(
        GROUP,
        argv,
        batch=lambda s: s.metrics,
        topics=lambda s: [s.kafka.topic],
        maintain=maintain,
        writer=lambda s: write,
    )


if __name__ == "__main__":
    sys.exit(main())
