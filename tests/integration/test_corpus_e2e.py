"""Every corpus line, sent as its router sends it, through rsyslog and the whole pipeline.

Each line goes to a real rsyslogd running the project's template (alternately over UDP and TCP),
which forwards JSON to the producer; the test then checks that every line is in ``raw_logs``
exactly once (or, where rsyslog's JSON cannot be read, in ``dead_letters`` with its reason) and
that the parse the metrics consumer stored matches the corpus expectation. It prints the share of
lines whose kind, MAC and IP match, per file.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from logweave.syslog_header import frame_pasted_line, read_header
from tests.integration.pipeline import Pipeline

pytestmark = pytest.mark.integration

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def corpus_lines() -> list[tuple[str, int, bytes, dict[str, Any]]]:
    cases = []
    for log in sorted(CORPUS.glob("*.log")):
        expectations = [
            json.loads(line) for line in log.with_suffix(".expect.jsonl").read_text().splitlines()
        ]
        raw_lines = log.read_bytes().split(b"\n")
        for expect in expectations:
            cases.append((log.stem, expect["line"], raw_lines[expect["line"] - 1], expect))
    return cases


def test_corpus_reaches_raw_logs_once_and_metrics_with_the_expected_parse(
    pipeline: Pipeline, rsyslog: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline.start_all()
    daemon = rsyslog(pipeline.port)
    cases = corpus_lines()
    received = datetime.now(UTC)

    expected_msgs: Counter[str] = Counter()
    expected_dead: Counter[str] = Counter()
    # Lines are told apart by their message; the few identical ones are taken in turn.
    by_msg: dict[str, list[tuple[str, int, dict[str, Any]]]] = {}
    for n, (name, number, raw, expect) in enumerate(cases):
        framed = frame_pasted_line(raw)
        header = read_header(framed, received=received)
        if header.dead_letter:
            expected_dead[header.dead_letter] += 1
        else:
            expected_msgs[header.msg] += 1
            by_msg.setdefault(header.msg, []).append((name, number, expect))
        if n % 2:
            daemon.send_udp(framed)
            time.sleep(0.002)  # UDP has no flow control; do not outrun the socket buffer
        else:
            daemon.send_tcp(framed)

    total = len(cases)
    dead = sum(expected_dead.values())
    pipeline.wait_until("SELECT count(*) FROM raw_logs", total - dead, timeout=120)
    pipeline.wait_until("SELECT count(*) FROM dead_letters", dead)
    pipeline.wait_until("SELECT count(*) FROM parsed_events", total - dead)
    time.sleep(1)  # anything counted twice would show up now
    assert pipeline.scalar("SELECT count(*) FROM raw_logs") == total - dead
    assert (
        Counter(dict(pipeline.query("SELECT reason, count(*) FROM dead_letters GROUP BY 1")))
        == expected_dead
    )

    # Every line exactly once: the stored messages are the rsyslog-read messages, as a multiset.
    stored = Counter(msg for (msg,) in pipeline.query("SELECT msg FROM raw_logs"))
    assert stored == expected_msgs

    rows = pipeline.query(
        "SELECT r.msg, p.kind, p.mac, p.ip FROM raw_logs r "
        "JOIN parsed_events p USING (event_id, received_at)"
    )
    matched: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for msg, kind, mac, ip in rows:
        name, _number, expect = by_msg[msg].pop()
        seen[name] += 1
        if (kind, mac, ip) == (expect["kind"], expect["mac"], expect["ip"]):
            matched[name] += 1

    # The metric tables count what parsed_events holds, each event once.
    kinds = Counter(dict(pipeline.query("SELECT kind, count(*) FROM parsed_events GROUP BY 1")))
    dhcp = pipeline.query(
        "SELECT sum(discover), sum(offer), sum(request), sum(ack), sum(nak), sum(release) "
        "FROM metrics_dhcp_hourly"
    )[0]
    assert [int(v or 0) for v in dhcp] == [
        kinds[k]
        for k in (
            "dhcp_discover",
            "dhcp_offer",
            "dhcp_request",
            "dhcp_ack",
            "dhcp_nak",
            "dhcp_release",
        )
    ]
    wifi = pipeline.query(
        "SELECT sum(assoc), sum(disassoc), sum(deauth), sum(auth_fail) FROM metrics_wifi_hourly"
    )[0]
    assert [int(v or 0) for v in wifi] == [
        kinds[k] for k in ("wifi_assoc", "wifi_disassoc", "wifi_deauth", "wifi_auth_fail")
    ]
    system = pipeline.query(
        "SELECT sum(events), sum(errors), sum(wan_up), sum(wan_down) FROM metrics_system_hourly"
    )[0]
    assert [int(v or 0) for v in system] == [
        total - dead,
        kinds["system_error"],
        kinds["wan_up"],
        kinds["wan_down"],
    ]
    devices = pipeline.scalar("SELECT count(DISTINCT mac) FROM parsed_events WHERE mac IS NOT NULL")
    assert pipeline.scalar("SELECT count(*) FROM metrics_device_daily") == devices

    with capsys.disabled():
        print("\ncorpus end to end, kind+mac+ip matching per file:")
        for name in sorted(seen):
            print(
                f"  {name:<14} {matched[name]:>4}/{seen[name]:<4} "
                f"{100 * matched[name] / seen[name]:5.1f}%"
            )
        share = 100 * sum(matched.values()) / max(1, sum(seen.values()))
        print(
            f"  {'all':<14} {sum(matched.values()):>4}/{sum(seen.values()):<4} {share:5.1f}%"
            f"  (dead letters: {dict(expected_dead)})"
        )
