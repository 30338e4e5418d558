"""The metrics writer on a real PostgreSQL: the same rows and counts however the batches fall,
and nothing changed by a batch delivered again.

Three corpus files go in as three routers, one line per millisecond, in batches of one line, of
seven and of everything: multi-line records, duplicate reports and Fritz!Box date lines cross
batch boundaries in the first two, so the context kept in router_streams and the amendments to
rows of earlier batches are what keeps the outcome equal.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg2
import pytest

from logweave.config import Settings, load
from logweave.contract import Event
from logweave.identity import Vendors
from logweave.metrics import MetricsWriter
from logweave.migrate import migrate
from logweave.parse_cli import event_of
from logweave.syslog_header import frame_pasted_line, read_header
from tests.harness.postgres import PostgresServer

pytestmark = pytest.mark.integration

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
FILES = ("mikrotik", "openwrt", "fritzbox")
SNAPSHOTS = {
    "parsed_events": "SELECT event_id, kind, mac, ip, hostname, counted, dup_of, part_of,"
    " device_time, clock_skew FROM parsed_events ORDER BY event_id",
    "wifi": "SELECT * FROM metrics_wifi_hourly ORDER BY 1, 2, 3, 4, 5",
    "dhcp": "SELECT * FROM metrics_dhcp_hourly ORDER BY 1, 2",
    "system": "SELECT * FROM metrics_system_hourly ORDER BY 1, 2, 3, 4",
    "firewall": "SELECT * FROM metrics_firewall_hourly ORDER BY 1, 2, 3, 4",
    "device": "SELECT * FROM metrics_device_daily ORDER BY 1, 2",
    "devices": "SELECT * FROM devices ORDER BY 1",
    "routers": "SELECT address, name, hostname FROM routers ORDER BY 1",
}


def settings(tmp_path: Path) -> Settings:
    path = tmp_path / "logweave.toml"
    path.write_text(
        '[parsing]\ntimezone = "UTC"\nreceiver_timezone = "UTC"\n'
        '[routers."127.0.0.11"]\nname = "office-gw"\n'
    )
    return load(path, environ={})


def records(start: datetime) -> list[Any]:
    """The corpus lines as the producer publishes them, one router per file, in order."""
    out = []
    for n, file in enumerate(FILES):
        router = f"127.0.0.{10 + n}"
        for raw in (CORPUS / f"{file}.log").read_bytes().split(b"\n")[:-1]:
            received = start + timedelta(milliseconds=len(out))
            header = read_header(frame_pasted_line(raw), received=received, fromhost=router)
            event = event_of(header, received, router)
            out.append(SimpleNamespace(topic="t", partition=n, offset=len(out), value=_json(event)))
    return out


def _json(event: Event) -> bytes:
    return Event.from_json(event.to_json()).to_json()


def write_in_batches(dsn: str, writer: MetricsWriter, lines: list[Any], size: int) -> None:
    conn = psycopg2.connect(dsn)
    try:
        for start in range(0, len(lines), size):
            with conn, conn.cursor() as cur:
                writer(cur, lines[start : start + size])
    finally:
        conn.close()


def snapshot(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            out = {}
            for name, sql in SNAPSHOTS.items():
                cur.execute(sql)
                out[name] = cur.fetchall()
            return out
    finally:
        conn.close()


def test_rows_and_metrics_are_the_same_whatever_the_batches_and_a_replay_adds_nothing(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    writer = MetricsWriter(settings(tmp_path), Vendors({}))
    lines = records(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5))
    outcomes = {}
    for size in (1, 7, 10_000):
        dsn = postgres.create_database(f"logweave_batches_{size}")
        migrate(dsn)
        write_in_batches(dsn, writer, lines, size)
        outcomes[size] = snapshot(dsn)
        if size == 7:
            write_in_batches(dsn, writer, lines, 5)  # everything again, cut elsewhere
            assert snapshot(dsn) == outcomes[7]

    assert outcomes[1] == outcomes[7] == outcomes[10_000]
    rows = outcomes[1]
    # MikroTik's two DHCP records learnt their clients from their field lines.
    macs = {row[0] for row in rows["devices"]}
    assert {"02:00:00:1c:00:01", "02:00:00:1d:00:02"} <= macs
    assert ("127.0.0.11", "office-gw", "ap-2") in rows["routers"]  # its last HOSTNAME
    assert sum(row[5] for row in rows["parsed_events"]) == 6 + 111 + 4  # counted lines


def test_vendor_of_a_device_comes_from_the_oui_list(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    dsn = postgres.create_database("logweave_vendors")
    migrate(dsn)
    writer = MetricsWriter(settings(tmp_path), Vendors({"00:22:72": "Acme Devices"}))
    received = datetime.now(UTC)
    raws = [
        b"<30>Jun  1 11:59:58 gw dnsmasq-dhcp[1]: DHCPACK(br-lan) 10.0.0.5 00:22:72:00:00:05 tv",
        b"<30>Jun  1 11:59:59 gw dnsmasq-dhcp[1]: DHCPACK(br-lan) 10.0.0.6 02:00:00:00:00:06",
    ]
    lines = []
    for n, raw in enumerate(raws):
        header = read_header(raw, received=received + timedelta(milliseconds=n))
        event = event_of(header, received + timedelta(milliseconds=n), "127.0.0.1")
        lines.append(SimpleNamespace(topic="t", partition=0, offset=n, value=_json(event)))
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            writer(cur, lines)
            cur.execute("SELECT mac, vendor, hostname FROM devices ORDER BY mac")
            assert cur.fetchall() == [
                ("00:22:72:00:00:05", "Acme Devices", "tv"),
                ("02:00:00:00:00:06", None, None),
            ]
            cur.execute("SELECT mac, vendor FROM metrics_device_daily ORDER BY mac")
            assert cur.fetchall() == [
                ("00:22:72:00:00:05", "Acme Devices"),
                ("02:00:00:00:00:06", None),
            ]
    finally:
        conn.close()
