"""Every corpus line, sent as its router sends it, through rsyslog and the whole pipeline.

Each corpus file is one router: its lines go, in order, from a loopback address of their own to a
real rsyslogd running the project's template (alternately a file over TCP and a file over UDP),
which forwards JSON to the producer. The test then checks that every line is in ``raw_logs``
exactly once (or, where rsyslog's JSON cannot be read, in ``dead_letters`` with its reason), that
the reading the metrics consumer stored for every line is the one ``logweave parse --json``
prints for the same file, that every line has the kind, MAC and IP its expectation names, and
that the metric tables count each event of the corpus once: the expectations' lines less those
that repeat (``dup_of``) or continue (``part_of``) another.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from logweave.syslog_header import frame_pasted_line, read_header
from tests.integration.pipeline import Pipeline
from tests.test_parsers_corpus import DISPUTED

pytestmark = pytest.mark.integration

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
# rsyslogd in the harness runs in UTC; the consumer and `logweave parse` are told so.
ZONE_FLAGS = ["--set", "parsing.receiver_timezone=UTC", "--set", "parsing.timezone=UTC"]
# The fields of a reading that the pipeline stores and `logweave parse --json` prints.
COMPARED = (
    "kind", "mac", "ip", "hostname", "iface", "ssid", "band", "severity", "program", "parse_ok",
    "family", "counted", "dup_of", "part_of", "device_time", "clock_skew",
)  # fmt: skip
ROWS = """
SELECT p.router, p.event_id::text, r.msg, p.kind, p.mac, p.ip, p.hostname, p.iface, p.ssid,
       p.band, p.severity, p.program, p.parse_ok, p.family, p.counted, p.dup_of::text,
       p.part_of::text, p.device_time, p.clock_skew
FROM parsed_events p JOIN raw_logs r USING (event_id, received_at)
ORDER BY p.router, r.kafka_offset
"""
SEVERITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")


class Router:
    """One corpus file as one router: its lines, their expectations, what rsyslog reads."""

    def __init__(self, log: Path, address: str, received: datetime) -> None:
        self.name = log.stem
        self.path = log
        self.address = address
        raw_lines = log.read_bytes().split(b"\n")
        if raw_lines[-1] == b"":
            raw_lines.pop()
        self.framed = [frame_pasted_line(raw) for raw in raw_lines]
        headers = [read_header(f, received=received, fromhost=address) for f in self.framed]
        self.dead = Counter(h.dead_letter for h in headers if h.dead_letter)
        # The lines that reach the metrics consumer, by line number, with rsyslog's msg.
        self.delivered = [(n, h.msg) for n, h in enumerate(headers, 1) if not h.dead_letter]
        # Expectations we hold to be wrong are replaced as the corpus test replaces them.
        self.expected = {
            e["line"]: {**e, **DISPUTED.get((self.name, e["line"]), ({}, ""))[0]}
            for e in map(json.loads, log.with_suffix(".expect.jsonl").read_text().splitlines())
        }

    def expected_events(self) -> list[dict[str, Any]]:
        """The expectations of the lines that are events of their own and reach the pipeline."""
        lines = {number for number, _ in self.delivered}
        return [
            e
            for number, e in self.expected.items()
            if number in lines and "dup_of" not in e and "part_of" not in e
        ]


def parse_command(router: Router, received: datetime) -> dict[int, dict[str, Any]]:
    """What `logweave parse --json` prints for the router's file, by line number."""
    command = [sys.executable, "-m", "logweave.cli", "parse", "--json", *ZONE_FLAGS]
    command += ["--router", router.address, "--received", received.isoformat(), str(router.path)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    printed = [json.loads(line) for line in done.stdout.splitlines()]
    return {p["line"]: p for p in printed if "dead_letter" not in p}


def send_corpus(daemon: Any, received: datetime) -> list[Router]:
    """Every corpus file as one router (127.0.0.10 and up) sending to ``daemon``, every other one
    over UDP; the routers, to compare what arrived with what was sent."""
    routers = [
        Router(log, f"127.0.0.{10 + n}", received)
        for n, log in enumerate(sorted(CORPUS.glob("*.log")))
    ]
    for n, router in enumerate(routers):
        if n % 2:
            for framed in router.framed:
                daemon.send_udp(framed, source=router.address)
                time.sleep(0.002)  # UDP has no flow control; do not outrun the socket buffer
        else:
            daemon.send_tcp(router.framed, source=router.address)
    return routers


def test_corpus_through_the_pipeline_reads_as_logweave_parse_and_counts_each_event_once(
    pipeline: Pipeline, rsyslog: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline.start("producer")
    pipeline.start("raw")
    pipeline.start("metrics", extra=ZONE_FLAGS)
    daemon = rsyslog(pipeline.port)
    received = datetime.now(UTC)
    routers = send_corpus(daemon, received)

    delivered = sum(len(r.delivered) for r in routers)
    dead = sum((r.dead for r in routers), Counter())
    pipeline.wait_until("SELECT count(*) FROM raw_logs", delivered, timeout=120)
    pipeline.wait_until("SELECT count(*) FROM dead_letters", sum(dead.values()))
    pipeline.wait_until("SELECT count(*) FROM parsed_events", delivered)
    time.sleep(1)  # anything counted twice would show up now
    assert pipeline.scalar("SELECT count(*) FROM raw_logs") == delivered
    assert (
        Counter(dict(pipeline.query("SELECT reason, count(*) FROM dead_letters GROUP BY 1")))
        == dead
    )

    # Every line once and in its router's order, read as `logweave parse` reads it.
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for row in pipeline.query(ROWS):
        rows.setdefault(row[0], []).append(row[1:])
    matched: Counter[str] = Counter()
    for router in routers:
        stored = rows.get(router.address, [])
        assert [msg for _, msg, *_ in stored] == [msg for _, msg in router.delivered], router.name
        pairs = list(zip(stored, router.delivered, strict=True))
        line_of = {event_id: number for (event_id, *_), (number, _) in pairs}
        printed = parse_command(router, received)
        for (_event_id, _msg, *values), (number, _) in pairs:
            reading = dict(zip(COMPARED, values, strict=True))
            reading["severity"] = SEVERITIES[reading["severity"]]
            for link in ("dup_of", "part_of"):
                reading[link] = line_of.get(reading[link]) if reading[link] else None
            command = {name: printed[number].get(name) for name in COMPARED}
            if command["device_time"] is not None:
                command["device_time"] = datetime.fromisoformat(command["device_time"])
            assert reading == command, f"{router.name}:{number}"
            expect = router.expected[number]
            matched[router.name] += (reading["kind"], reading["mac"], reading["ip"]) == (
                expect["kind"],
                expect["mac"],
                expect["ip"],
            )

    # The metric tables count each event of the corpus once.
    events = [e for router in routers for e in router.expected_events()]
    kinds = Counter(e["kind"] for e in events)
    dhcp = pipeline.query(
        "SELECT sum(discover), sum(offer), sum(request), sum(ack), sum(nak), sum(release) "
        "FROM metrics_dhcp_hourly"
    )[0]
    dhcp_kinds = ("discover", "offer", "request", "ack", "nak", "release")
    assert [int(v or 0) for v in dhcp] == [kinds[f"dhcp_{k}"] for k in dhcp_kinds]
    wifi = pipeline.query(
        "SELECT sum(assoc), sum(disassoc), sum(deauth), sum(auth_fail) FROM metrics_wifi_hourly"
    )[0]
    wifi_kinds = ("wifi_assoc", "wifi_disassoc", "wifi_deauth", "wifi_auth_fail")
    assert [int(v or 0) for v in wifi] == [kinds[k] for k in wifi_kinds]
    system = pipeline.query(
        "SELECT sum(events), sum(errors), sum(wan_up), sum(wan_down) FROM metrics_system_hourly"
    )[0]
    assert [int(v or 0) for v in system] == [
        len(events),
        kinds["system_error"],
        kinds["wan_up"],
        kinds["wan_down"],
    ]
    drops = pipeline.scalar("SELECT coalesce(sum(drops), 0) FROM metrics_firewall_hourly")
    assert drops == kinds["firewall_drop"]
    devices = pipeline.query("SELECT count(*), sum(events) FROM metrics_device_daily")[0]
    with_mac = [e for e in events if e["mac"]]
    assert (devices[0], int(devices[1])) == (len({e["mac"] for e in with_mac}), len(with_mac))
    assert pipeline.scalar("SELECT count(*) FROM routers") == len(routers)

    with capsys.disabled():
        print("\ncorpus end to end, kind+mac+ip matching the expectations per file:")
        for router in routers:
            total = len(router.delivered)
            print(
                f"  {router.name:<14} {matched[router.name]:>4}/{total:<4} "
                f"{100 * matched[router.name] / total:5.1f}%"
            )
        share = 100 * sum(matched.values()) / max(1, delivered)
        print(f"  {'all':<14} {sum(matched.values()):>4}/{delivered:<4} {share:5.1f}%")
        print(f"  events {len(events)} of {delivered} lines (dead letters: {dict(dead)})")
    assert {r.name: matched[r.name] for r in routers} == {r.name: len(r.delivered) for r in routers}
