"""Benchmark: how long each dashboard panel's and alert rule's query takes on a month of events.

Loads 30 days of a simulated home network (three routers, a few dozen client devices) into a
throwaway PostgreSQL, about five million raw events in all, then runs every provisioned query
as Grafana would (macros expanded by logweave.grafana_sql, over the last 30 days, All routers
and devices selected), as a login in the read-only logweave_reader role, and prints each one's
time: the best of a few runs after a warm-up. Each should be under 500 ms. Figures, not
assertions: run it by hand with `make bench-dashboards`.

How the events get in. The whole pipeline (rsyslog, producer, Kafka, consumers) would take
hours for five million lines on two cores, so:

- the simulator's month (WiFi, DHCP, WAN outages, faults; every line of it) goes through the
  consumers' own batch code, ``archive.write`` and the metrics consumer's ``MetricsWriter``,
  fed directly with the events the producer would publish;
- the bulk, the firewall drops that internet background scanning makes a router log all day
  (most of what a home router sends), is COPYed into raw_logs and parsed_events as the metrics
  consumer reads such a line (checked against the real reader on a sample first), and its rows
  in the metric tables are summed in SQL the way the consumer sums them. raw_logs' own trigger
  fills metrics_ingest_hourly, as it does for the consumer.

The run is bounded: loading stops at --load-minutes, and each query at a statement timeout.
"""

from __future__ import annotations

import argparse
import io
import random
import secrets
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg2

from logweave import archive, config, db
from logweave.contract import Event, normalise
from logweave.dashboards import ALERT_RULES
from logweave.grafana_sql import TimeRange
from logweave.identity import OUI_FILES, Vendors
from logweave.metrics import MetricsWriter
from logweave.migrate import migrate
from logweave.reader import EventReader
from logweave.simulate import generate
from logweave.syslog_header import read_header
from tests.dashboards import provisioned
from tests.harness.postgres import start_server

DAYS = 30
ROUTERS = {"OpenWrt-1": "127.0.1.1", "RT-AX86U-2": "127.0.1.2", "gw-3": "127.0.1.3"}
BATCH = 2000
BUDGET_MS = 500
TOPIC, DLQ = "router.logs", "router.logs.dlq"
# Destination ports that scanners knock on, most often first (telnet, ssh, http, smb, rdp, ...).
SCANNED = [23, 22, 80, 443, 445, 3389, 8080, 2323, 5555, 1433, 3306, 5900, 8443, 81, 8291]


@dataclass(frozen=True)
class Record:
    """What the consumers read of a Kafka record."""

    topic: str
    partition: int
    offset: int
    value: bytes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000_000, help="raw events in all")
    parser.add_argument("--clients", type=int, default=36, help="client devices")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per query")
    parser.add_argument("--load-minutes", type=float, default=40.0, help="give up loading after")
    args = parser.parse_args()

    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=DAYS)
    deadline = time.monotonic() + args.load_minutes * 60
    server = start_server()
    try:
        admin_dsn = server.create_database("logweave")
        migrate(admin_dsn)
        reader_dsn = reader_login(server, admin_dsn)
        conn = psycopg2.connect(admin_dsn)
        try:
            with conn, conn.cursor() as cur:
                days = {start.date() + timedelta(days=n) for n in range(DAYS + 2)}
                db.ensure_partitions_for(conn, "raw_logs", days)
                db.ensure_partitions_for(conn, "parsed_events", days)
            simulated = load_simulated(conn, start, args.clients, args.seed, deadline)
            noise = max(0, args.events - simulated)
            load_noise(conn, start, end, noise, args.seed, deadline)
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("VACUUM ANALYZE")
                cur.execute("SELECT count(*) FROM raw_logs")
                print(f"raw events: {cur.fetchone()[0]:,}", flush=True)
        finally:
            conn.close()
        return time_queries(reader_dsn, start, end, args.runs)
    finally:
        server.close()


def reader_login(server: Any, admin_dsn: str) -> str:
    password = secrets.token_urlsafe(16)
    conn = psycopg2.connect(admin_dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "CREATE ROLE grafana LOGIN PASSWORD %s IN ROLE logweave_reader", (password,)
            )
    finally:
        conn.close()
    return server.dsn(dbname="logweave", user="grafana") + f" password={password}"


# --- the simulated month, through the consumers' batch code --------------------------------------


def simulated_events(start: datetime, clients: int, seed: int) -> Iterator[Event]:
    """The simulator's lines as the producer would publish them, received when they were said."""
    for moment, raw in generate(routers=3, clients=clients, span=DAYS * 86400.0,
                                start=start.timestamp(), seed=seed):  # fmt: skip
        received = datetime.fromtimestamp(moment, UTC)
        header = read_header(raw, received=received)
        fields = {k: v for k, v in header.event_fields().items() if v is not None}
        fields["timegenerated"] = received.isoformat()
        fields["fromhost-ip"] = ROUTERS.get(str(fields.get("hostname")), "127.0.1.9")
        yield normalise(fields, received=received)


def load_simulated(conn: Any, start: datetime, clients: int, seed: int, deadline: float) -> int:
    settings = config.load(
        "/dev/null",
        {"parsing.timezone": "UTC", "parsing.receiver_timezone": "UTC"},
        environ={},
    )
    writer = MetricsWriter(settings, Vendors.load(list(OUI_FILES)))
    began, count, batch = time.monotonic(), 0, []
    for event in simulated_events(start, clients, seed):
        batch.append(Record(TOPIC, 0, count, event.to_json()))
        count += 1
        if len(batch) == BATCH:
            write_batch(conn, writer, batch)
            batch = []
            check(deadline, "the simulated month")
    if batch:
        write_batch(conn, writer, batch)
    took = time.monotonic() - began
    print(f"simulated month: {count:,} events through the consumers' batch code in {took:.0f} s",
          flush=True)  # fmt: skip
    return count


def write_batch(conn: Any, writer: MetricsWriter, batch: list[Record]) -> None:
    with conn, conn.cursor() as cur:
        archive.write(cur, batch, DLQ)
    with conn, conn.cursor() as cur:
        writer(cur, batch)


# --- background scanning, bulk-loaded -------------------------------------------------------------


def scan_line(rng: random.Random, hostname: str, moment: datetime) -> tuple[bytes, dict[str, Any]]:
    """One OpenWrt-style netfilter reject of an inbound probe, and the fields it carries."""
    port = SCANNED[min(int(rng.expovariate(0.35)), len(SCANNED) - 1)]
    if rng.random() < 0.2:
        port = rng.randrange(1, 65536)
    proto = "udp" if port in (5060, 1900, 123) or rng.random() < 0.1 else "tcp"
    fields = {
        "src": f"203.0.113.{rng.randrange(1, 255)}",
        "dst": "198.51.100.7",
        "proto": proto,
        "dport": port,
    }
    stamp = moment.strftime("%b %e %H:%M:%S")
    line = (
        f"<4>{stamp} {hostname} kernel: [{rng.uniform(1e3, 1e6):.6f}] reject wan in: IN=wan "
        f"OUT= MAC=02:00:00:aa:bb:cc:02:00:00:dd:ee:ff:08:00 SRC={fields['src']} "
        f"DST={fields['dst']} LEN=44 TOS=0x00 PREC=0x00 TTL=241 ID=54321 "
        f"PROTO={proto.upper()} SPT={rng.randrange(1024, 65536)} DPT={port} "
        + ("LEN=24" if proto == "udp" else "WINDOW=1024 RES=0x00 SYN URGP=0")
    )
    return line.encode(), fields


def check_reading(start: datetime) -> None:
    """The bulk rows say what the metrics consumer's reader says of such a line."""
    settings = config.load("/dev/null", {"parsing.timezone": "UTC"}, environ={})
    reader = EventReader(settings, {})
    rng = random.Random(0)
    for _ in range(50):
        raw, fields = scan_line(rng, "OpenWrt-1", start)
        header = read_header(raw, received=start)
        event_fields = {k: v for k, v in header.event_fields().items() if v is not None}
        event_fields["fromhost-ip"] = "127.0.1.1"
        event = normalise({**event_fields, "timegenerated": start.isoformat()}, received=start)
        parsed = reader.read(event)[0].reading.parsed
        got = (parsed.kind.value, parsed.ip, parsed.dst, parsed.proto, parsed.dport)
        want = ("firewall_drop", fields["src"], fields["dst"], fields["proto"], fields["dport"])
        if got != want:
            raise SystemExit(f"the reader reads {raw!r} as {got}, the bulk load says {want}")


def load_noise(
    conn: Any, start: datetime, end: datetime, count: int, seed: int, deadline: float
) -> None:
    check_reading(start)
    rng = random.Random(seed)
    began, span = time.monotonic(), (end - start).total_seconds()
    routers = list(ROUTERS.items())
    chunk = 250_000
    for first in range(0, count, chunk):
        raw_rows, parsed_rows = io.StringIO(), io.StringIO()
        moments = sorted(rng.uniform(0, span) for _ in range(min(chunk, count - first)))
        for offset in moments:
            moment = start + timedelta(seconds=offset)
            hostname, address = routers[rng.randrange(len(routers))]
            raw, fields = scan_line(rng, hostname, moment)
            event_id, at = str(uuid.uuid4()), moment.isoformat()
            msg = raw.decode().split("kernel: ", 1)[1]
            raw_rows.write(f"{event_id}\t{at}\t{at}\t{address}\t{hostname}\tkernel\tkernel:\t"
                           f"4\t0\t{msg}\n")  # fmt: skip
            parsed_rows.write(f"{event_id}\t{at}\t{at}\t{address}\tfirewall_drop\tgeneric\tt\t"
                              f"{fields['src']}\twan\t4\tkernel\tt\t{fields['dst']}\t"
                              f"{fields['proto']}\t{fields['dport']}\n")  # fmt: skip
        raw_rows.seek(0)
        parsed_rows.seek(0)
        with conn, conn.cursor() as cur:
            cur.copy_expert(
                "COPY raw_logs (event_id, received_at, reported_at, router, hostname, program,"
                " syslogtag, severity, facility, msg) FROM STDIN",
                raw_rows,
            )
            cur.execute(
                "CREATE TEMP TABLE scan (LIKE parsed_events INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            cur.copy_expert(
                "COPY scan (event_id, received_at, reported_at, router, kind, family, parse_ok,"
                " ip, iface, severity, program, counted, dst_ip, proto, dport) FROM STDIN",
                parsed_rows,
            )
            cur.execute(DERIVE)
        done = first + len(moments)
        print(f"  scanning noise: {done:,}/{count:,} rows in {time.monotonic() - began:.0f} s",
              flush=True)  # fmt: skip
        check(deadline, "the scanning noise")


# The metrics consumer's sums (logweave/metrics.py) for rows that are all counted firewall drops.
DERIVE = """
WITH stored AS (INSERT INTO parsed_events SELECT * FROM scan RETURNING 1),
firewall AS (
    INSERT INTO metrics_firewall_hourly AS m (hour, router, proto, dport, drops)
    SELECT date_trunc('hour', received_at, 'UTC'), router, proto, dport, count(*)
    FROM scan GROUP BY 1, 2, 3, 4
    ON CONFLICT (hour, router, proto, dport) DO UPDATE SET drops = m.drops + EXCLUDED.drops
    RETURNING 1
)
INSERT INTO metrics_system_hourly AS m (hour, router, program, severity, events)
SELECT date_trunc('hour', received_at, 'UTC'), router, program, severity, count(*)
FROM scan GROUP BY 1, 2, 3, 4
ON CONFLICT (hour, router, program, severity) DO UPDATE SET events = m.events + EXCLUDED.events
"""


def check(deadline: float, what: str) -> None:
    if time.monotonic() > deadline:
        raise SystemExit(f"loading {what} passed --load-minutes; no figures")


# --- the queries ---------------------------------------------------------------------------------


def time_queries(reader_dsn: str, start: datetime, end: datetime, runs: int) -> int:
    rules = alert_rules()
    queries = [
        *provisioned.panel_queries(),
        *provisioned.variable_queries(),
        *provisioned.alert_queries(rules),
    ]
    conn = psycopg2.connect(reader_dsn)
    conn.set_session(readonly=True, autocommit=True)
    slow = []
    print(f"\n{'query':<62} {'rows':>6} {'best ms':>8}")
    try:
        with conn.cursor() as cur:
            cur.execute("SET statement_timeout = '30s'")
            for query in queries:
                if query.window is not None:
                    span = TimeRange(end - query.window, end, timedelta(seconds=1))
                else:
                    span = provisioned.time_range(start, end, query)
                result = provisioned.run(cur, query, span, provisioned.selection())  # warm-up
                times = []
                for _ in range(runs):
                    began = time.perf_counter()
                    provisioned.run(cur, query, span, provisioned.selection())
                    times.append((time.perf_counter() - began) * 1000)
                best = min(times)
                flag = "  SLOW" if best > BUDGET_MS else ""
                print(f"{query.name:<62} {len(result.rows):>6} {best:>8.1f}{flag}", flush=True)
                if flag:
                    slow.append(query.name)
    finally:
        conn.close()
    print(
        f"\n{len(queries)} queries, {len(slow)} over {BUDGET_MS} ms" + (f": {slow}" if slow else "")
    )
    return 1 if slow else 0


def alert_rules() -> dict[str, Any]:
    """The generated rules; their SQL holds no template expression, only the thresholds do."""
    return {
        "groups": [
            {
                "rules": [
                    {"title": r.title, "data": rule_data(r.to_json()["data"])} for r in ALERT_RULES
                ]
            }
        ]
    }


def rule_data(data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**q, "datasourceUid": str(q["datasourceUid"])} for q in data]


if __name__ == "__main__":
    sys.exit(main())
