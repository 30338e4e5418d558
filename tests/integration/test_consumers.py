"""Both consumers on real Kafka and PostgreSQL: exactly once through outages and replays."""

from __future__ import annotations

import os
import random
import signal
import string
import threading
import time
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaProducer

from tests.integration.helpers import event_line, send_tcp
from tests.integration.pipeline import Pipeline

pytestmark = pytest.mark.integration

METRIC_SNAPSHOTS = {
    "raw_logs": "SELECT count(*), count(DISTINCT event_id), md5(string_agg(event_id::text, ',' "
    "ORDER BY event_id)) FROM raw_logs",
    "parsed_events": "SELECT kind, count(*) FROM parsed_events GROUP BY 1 ORDER BY 1",
    "metrics_wifi_hourly": "SELECT * FROM metrics_wifi_hourly ORDER BY 1, 2, 3, 4, 5",
    "metrics_dhcp_hourly": "SELECT * FROM metrics_dhcp_hourly ORDER BY 1, 2",
    "metrics_system_hourly": "SELECT * FROM metrics_system_hourly ORDER BY 1, 2, 3, 4",
    "metrics_device_daily": "SELECT * FROM metrics_device_daily ORDER BY 1, 2",
}


def snapshot(pipeline: Pipeline) -> dict[str, list[tuple[Any, ...]]]:
    return {name: pipeline.query(sql) for name, sql in METRIC_SNAPSHOTS.items()}


def test_events_reach_raw_logs_and_metrics_exactly_once(pipeline: Pipeline) -> None:
    pipeline.start_all()
    send_tcp(pipeline.port, [event_line(n) for n in range(300)])

    pipeline.wait_until("SELECT count(*) FROM raw_logs", 300)
    pipeline.wait_until("SELECT coalesce(sum(ack), 0) FROM metrics_dhcp_hourly", 300)
    assert pipeline.scalar("SELECT count(DISTINCT event_id) FROM raw_logs") == 300
    assert pipeline.scalar("SELECT count(*) FROM metrics_device_daily") == 300
    assert pipeline.query(
        "SELECT mac, ip, hostname, events FROM metrics_device_daily WHERE mac = %s",
        ("02:00:00:00:00:07",),
    ) == [("02:00:00:00:00:07", "192.168.101.9", "host-7", 1)]
    assert (
        pipeline.scalar(
            "SELECT sum(events) FROM metrics_system_hourly WHERE program = 'dnsmasq-dhcp'"
        )
        == 300
    )
    # Both consumers record their progress and lag beside the data.
    pipeline.wait_until(
        "SELECT sum(end_offset - committed_offset) FROM consumer_progress "
        f"WHERE topic = '{pipeline.topic}'",
        0,
    )


def test_bad_lines_are_kept_in_dead_letters_with_their_reason(pipeline: Pipeline) -> None:
    pipeline.start_all()
    send_tcp(pipeline.port, [b"not json\n", b'{"msg": "caf\xe9"}\n', event_line(1)])
    pipeline.wait_until("SELECT count(*) FROM dead_letters", 2)
    rows = pipeline.query(
        "SELECT reason, payload, payload_text FROM dead_letters ORDER BY kafka_offset"
    )
    assert [(reason, bytes(payload), text) for reason, payload, text in rows] == [
        ("not_json", b"not json", "not json"),
        ("not_utf8", b'{"msg": "caf\xe9"}', '{"msg": "caf\ufffd"}'),
    ]
    pipeline.wait_until("SELECT count(*) FROM raw_logs", 1)


def test_postgres_restart_mid_stream_loses_and_doubles_nothing(pipeline: Pipeline) -> None:
    pipeline.start_all()
    total = 3000

    def send() -> None:
        for start in range(0, total, 100):
            send_tcp(pipeline.port, [event_line(n) for n in range(start, start + 100)])
            time.sleep(0.05)

    sender = threading.Thread(target=send)
    sender.start()
    pipeline.wait_until("SELECT count(*) > 0 FROM raw_logs", True)
    pipeline.postgres.stop()
    time.sleep(4)
    pipeline.postgres.start()
    sender.join(60)

    pipeline.wait_until("SELECT count(*) FROM raw_logs", total, timeout=120)
    pipeline.wait_until("SELECT coalesce(sum(ack), 0) FROM metrics_dhcp_hourly", total)
    assert pipeline.scalar("SELECT count(*) FROM parsed_events") == total
    assert pipeline.scalar("SELECT sum(events) FROM metrics_device_daily") == total
    for which in ("raw", "metrics"):
        log = pipeline.running[which].log_path.read_text()
        assert "postgres_unavailable" in log, log[-3000:]


def test_consuming_the_topic_again_changes_nothing(pipeline: Pipeline) -> None:
    pipeline.start_all()
    send_tcp(pipeline.port, [event_line(n) for n in range(500)])
    pipeline.wait_until("SELECT count(*) FROM parsed_events", 500)
    pipeline.wait_until("SELECT count(*) FROM raw_logs", 500)
    before = snapshot(pipeline)

    # A second pair of consumers in new groups reads the whole topic from the start.
    pipeline.start("raw", group=f"replay-raw-{pipeline.suffix}")
    pipeline.start("metrics", group=f"replay-metrics-{pipeline.suffix}")
    for which in ("raw", "metrics"):
        pipeline.wait_until(
            "SELECT coalesce(sum(committed_offset), 0) FROM consumer_progress "
            f"WHERE consumer = 'replay-{which}-{pipeline.suffix}' AND topic = '{pipeline.topic}'",
            500,
        )
    assert snapshot(pipeline) == before
    pipeline.running["metrics"].wait_for("duplicates=500", timeout=10)
    pipeline.running["raw"].wait_for("duplicates=500", timeout=10)


def test_sigterm_commits_what_is_written_and_exits(pipeline: Pipeline) -> None:
    pipeline.start_all()
    send_tcp(pipeline.port, [event_line(n) for n in range(200)])
    pipeline.wait_until("SELECT count(*) FROM raw_logs", 200)
    pipeline.wait_until("SELECT count(*) FROM parsed_events", 200)

    raw = pipeline.running["raw"]
    assert raw.terminate() == 0
    assert any("STOPPING=1" in m for _, m in raw.messages)
    admin = KafkaAdminClient(bootstrap_servers=pipeline.kafka.bootstrap)
    try:
        group = f"raw-{pipeline.suffix}"
        committed = admin.list_group_offsets(group)[group]
    finally:
        admin.close()
    assert sum(o.offset for tp, o in committed.items() if tp.topic == pipeline.topic) == 200
    assert "consumer_stopped" in raw.log_path.read_text()


def test_watchdog_pings_stop_while_a_database_call_hangs(pipeline: Pipeline) -> None:
    pipeline.start("producer")
    raw = pipeline.start("raw", watchdog_s=1.0)
    time.sleep(2)
    assert len(raw.watchdog_times()) >= 3  # every half interval while the loop runs

    pids = pipeline.postgres.pids()
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        send_tcp(pipeline.port, [event_line(n) for n in range(10)])
        time.sleep(2)  # the consumer is now inside an INSERT that cannot return
        stuck_since = time.monotonic()
        time.sleep(3)
        assert [t for t in raw.watchdog_times() if t > stuck_since] == []
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    pipeline.wait_until("SELECT count(*) FROM raw_logs", 10)
    resumed = time.monotonic()
    time.sleep(1.5)
    assert [t for t in raw.watchdog_times() if t > resumed] != []


def test_a_record_the_database_refuses_is_set_aside_and_the_rest_go_on(
    pipeline: Pipeline,
) -> None:
    pipeline.start_all()
    # An interface name of random two-byte letters, short enough to be read but past
    # PostgreSQL's index row limit: the metric tables key on it, so no retry could ever write it.
    letters = [chr(code) for code in range(0x3B1, 0x3CA)] + list(string.ascii_letters)
    rng = random.Random(3)
    iface = "".join(rng.choice(letters) for _ in range(3000))
    poison = event_line(
        1,
        programname="syslog",
        syslogtag="syslog:",
        msg=f" WLCEVENTD wlceventd_proc_event(449): {iface}: Assoc 02:00:00:0E:00:01, status: 0,"
        " reason: d11 RC reserved (0)",
    )
    send_tcp(pipeline.port, [event_line(n) for n in range(2, 40)] + [poison])

    pipeline.wait_until("SELECT count(*) FROM raw_logs", 39)
    pipeline.wait_until("SELECT count(*) FROM parsed_events", 38)
    send_tcp(pipeline.port, [event_line(40)])
    pipeline.wait_until("SELECT count(*) FROM parsed_events", 39)
    assert pipeline.scalar("SELECT count(*) FROM metrics_wifi_hourly") == 0
    metrics = pipeline.running["metrics"]
    deadline = time.monotonic() + 30
    while "set_aside=1" not in metrics.last_status():
        assert time.monotonic() < deadline, metrics.last_status()
        time.sleep(0.1)
    assert pipeline.running["metrics"].proc.poll() is None  # type: ignore[union-attr]


def test_a_bad_line_does_not_end_its_connection(pipeline: Pipeline) -> None:
    pipeline.start_all()
    send_tcp(
        pipeline.port,
        [
            event_line(1),
            event_line(2, timereported="0001-01-01T00:00:00+14:00"),
            b'{"msg": "lone \\ud800 surrogate"}\n',
            b'{"msg": "deep", "x": ' + b"[" * 20000 + b"]" * 20000 + b"}\n",
            event_line(3),
        ],
    )
    pipeline.wait_until("SELECT count(*) FROM raw_logs", 2)
    pipeline.wait_until("SELECT count(*) FROM dead_letters", 3)
    assert pipeline.query("SELECT reason FROM dead_letters ORDER BY kafka_offset") == [
        ("bad_field",),
        ("bad_field",),
        ("not_json",),
    ]


def test_a_dead_letter_with_nul_and_no_usable_time_is_archived(pipeline: Pipeline) -> None:
    pipeline.start("raw")
    producer = KafkaProducer(bootstrap_servers=pipeline.kafka.bootstrap)
    try:
        # Written by hand or by another tool: a NUL in the reason, a timestamp before year 1.
        producer.send(
            pipeline.dlq,
            value=b'{"reason": "odd\\u0000reason", "payload": "line"}',
            timestamp_ms=-(10**14),
        ).get(30)
    finally:
        producer.close()
    pipeline.wait_until("SELECT count(*) FROM dead_letters", 1)
    assert pipeline.query(
        "SELECT reason, payload_text, received_at > now() - interval '1 hour' FROM dead_letters"
    ) == [("odd\ufffdreason", "line", True)]


def test_a_record_without_a_value_stops_neither_consumer(pipeline: Pipeline) -> None:
    pipeline.start_all()
    producer = KafkaProducer(bootstrap_servers=pipeline.kafka.bootstrap)
    try:
        producer.send(pipeline.topic, key=b"192.168.101.1", value=None).get(30)
    finally:
        producer.close()
    send_tcp(pipeline.port, [event_line(1)])
    pipeline.wait_until("SELECT count(*) FROM parsed_events", 1)
    pipeline.wait_until("SELECT count(*) FROM dead_letters", 1)
    assert pipeline.query("SELECT reason, detail, payload_text FROM dead_letters") == [
        ("bad_event", "not_an_event: Kafka record without a value", "")
    ]
    assert pipeline.running["raw"].proc.poll() is None  # type: ignore[union-attr]
    assert pipeline.running["metrics"].proc.poll() is None  # type: ignore[union-attr]


def test_a_nul_in_a_line_the_router_context_keeps_is_stored_mended(pipeline: Pipeline) -> None:
    pipeline.start_all()
    send_tcp(
        pipeline.port,
        [
            event_line(1, programname="kernel", syslogtag="kernel:", msg=" [5.1] wan\x00: link up"),
            event_line(2),
        ],
    )
    pipeline.wait_until("SELECT count(*) FROM parsed_events", 2)
    assert (
        pipeline.scalar(
            "SELECT count(*) FROM router_streams WHERE state::text LIKE %s", ("%wan\ufffd%",)
        )
        == 1
    )
    assert "set_aside" not in pipeline.running["metrics"].last_status()


def test_rejects_at_the_same_position_of_two_topics_are_both_kept(pipeline: Pipeline) -> None:
    pipeline.start("raw")
    producer = KafkaProducer(bootstrap_servers=pipeline.kafka.bootstrap)
    try:
        # Offset 0 of partition 0 on each topic: a record no producer of ours wrote on the event
        # topic, and the producer's own dead letter on the dead-letter topic.
        on_events = producer.send(pipeline.topic, value=b"not an event", partition=0).get(30)
        on_dlq = producer.send(
            pipeline.dlq, value=b'{"reason": "not_json", "payload": "x"}', partition=0
        ).get(30)
    finally:
        producer.close()
    assert (on_events.partition, on_events.offset) == (on_dlq.partition, on_dlq.offset)

    pipeline.wait_until("SELECT count(*) FROM dead_letters", 2)
    assert pipeline.query(
        "SELECT kafka_topic, kafka_partition, kafka_offset, reason FROM dead_letters "
        "ORDER BY kafka_topic = %s",
        (pipeline.dlq,),
    ) == [(pipeline.topic, 0, 0, "bad_event"), (pipeline.dlq, 0, 0, "not_json")]
