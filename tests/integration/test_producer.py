"""logweave-producer against a real Kafka broker: routing, dead letters, drain, back-pressure."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.harness.services import Service
from tests.integration.helpers import event_line, free_port, read_topic, send_tcp, unique_topics

pytestmark = pytest.mark.integration


def start_producer(
    services: Callable[..., Service], kafka: Any, name: str, *extra: str
) -> tuple[Service, int, str, str]:
    topic, dlq = unique_topics(kafka, name)
    port = free_port()
    producer = services(
        "logweave.producer",
        [
            "--kafka-bootstrap",
            kafka.bootstrap,
            "--listen",
            f"127.0.0.1:{port}",
            "--set",
            f"kafka.topic={topic}",
            "--set",
            f"kafka.dlq_topic={dlq}",
            "--set",
            "service.drain_timeout_s=20",
            *extra,
        ],
    ).start()
    producer.wait_ready()
    return producer, port, topic, dlq


def test_valid_events_are_published_keyed_by_router(services: Any, kafka: Any) -> None:
    producer, port, topic, _ = start_producer(services, kafka, "valid")
    lines = [event_line(n, router=f"192.168.101.{n % 3 + 1}") for n in range(30)]
    send_tcp(port, lines)

    records = read_topic(kafka.bootstrap, topic, 30)
    assert len(records) == 30
    by_router: dict[bytes, list[str]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        value = json.loads(record.value)
        assert record.key == value["fromhost-ip"].encode()
        by_router.setdefault(record.key, []).append(value["msg"])
    # One router's events share a partition, so they keep the order they were sent in.
    for router, msgs in by_router.items():
        sent = [
            json.loads(line)["msg"]
            for line in lines
            if json.loads(line)["fromhost-ip"].encode() == router
        ]
        assert msgs == sent
    assert producer.terminate() == 0


def test_octet_counted_frames_are_accepted(services: Any, kafka: Any) -> None:
    _, port, topic, _ = start_producer(services, kafka, "octet")
    frames = [event_line(n).rstrip(b"\n") for n in range(5)]
    send_tcp(port, [str(len(f)).encode() + b" " + f for f in frames])
    records = read_topic(kafka.bootstrap, topic, 5)
    assert sorted(json.loads(r.value)["msg"] for r in records) == sorted(
        json.loads(f)["msg"] for f in frames
    )


def test_bad_lines_go_to_the_dead_letter_topic_with_their_reason(services: Any, kafka: Any) -> None:
    producer, port, topic, dlq = start_producer(
        services, kafka, "bad", "--set", "producer.max_line_bytes=1024"
    )
    bad = [
        b"this is not json\n",
        b'["an", "array"]\n',
        b'{"msg": "caf\xe9"}\n',
        b'{"hostname": "no message"}\n',
        b'{"msg": "' + b"x" * 2000 + b'"}\n',
        b'{"msg": "ok", "severity": 12}\n',
    ]
    send_tcp(port, [bad[0], event_line(1), *bad[1:], event_line(2), b'{"msg": "cut'])

    dead = [json.loads(r.value) for r in read_topic(kafka.bootstrap, dlq, 7)]
    assert [d["reason"] for d in dead] == [
        "not_json",
        "not_object",
        "not_utf8",
        "missing_field",
        "too_long",
        "bad_field",
        "truncated",
    ]
    assert dead[0]["payload"] == "this is not json"
    assert base64.b64decode(dead[2]["payload"]) == b'{"msg": "caf\xe9"}'
    assert dead[2]["payload_encoding"] == "base64"
    assert (dead[4]["length"], len(dead[4]["payload"])) == (2011, 1024)
    assert dead[6]["payload"] == '{"msg": "cut'
    assert all(d["peer"] == "127.0.0.1" for d in dead)
    assert len(read_topic(kafka.bootstrap, topic, 2)) == 2

    producer.wait_for("dead_letters=7", timeout=15)
    status = producer.last_status()
    assert "not_json=1" in status and "too_long=1" in status and "truncated=1" in status
    log = producer.log_path.read_text()
    assert "input_rejected reason=not_utf8 peer=127.0.0.1" in log


def test_sigterm_drains_every_line_already_sent(services: Any, kafka: Any) -> None:
    producer, port, topic, _ = start_producer(services, kafka, "drain")
    senders = [
        threading.Thread(
            target=send_tcp, args=(port, [event_line(c * 1000 + n) for n in range(500)])
        )
        for c in range(4)
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(30)
    assert producer.terminate() == 0

    assert any("STOPPING=1" in m for _, m in producer.messages)
    records = read_topic(kafka.bootstrap, topic, 2000, timeout=30)
    assert len({json.loads(r.value)["id"] for r in records}) == 2000
    assert "drain_finished" in producer.log_path.read_text()


def test_kafka_outage_stops_reading_and_loses_nothing(services: Any, kafka: Any) -> None:
    producer, port, topic, _ = start_producer(
        services,
        kafka,
        "outage",
        "--set",
        "producer.max_in_flight=50",
        "--set",
        "service.retry_max_s=2",
    )
    total = 20000
    kafka.stop()
    done = threading.Event()

    def send() -> None:
        send_tcp(port, (event_line(n) for n in range(total)), timeout=300)
        done.set()

    sender = threading.Thread(target=send)
    sender.start()
    try:
        time.sleep(8)
        # About 6 MB to send: socket buffers hold a part, the producer may hold 50 events, so
        # the sender must be stuck waiting for the producer to read.
        assert not done.is_set()
        status = producer.last_status()
        in_flight = int(status.split("in_flight=")[1].split()[0])
        assert in_flight <= 50
    finally:
        kafka.start()
    sender.join(240)
    assert done.is_set()

    records = read_topic(kafka.bootstrap, topic, total, timeout=180)
    ids = {json.loads(r.value)["id"] for r in records}
    assert len(ids) == total
    assert producer.terminate() == 0


def test_many_connections_and_slow_clients_all_get_through(services: Any, kafka: Any) -> None:
    _, port, topic, _ = start_producer(services, kafka, "many")
    slow = socket.create_connection(("127.0.0.1", port))
    line = event_line(99999)
    slow.sendall(line[:10])  # a client that stalls mid-line does not hold up the others
    threads = [
        threading.Thread(target=send_tcp, args=(port, [event_line(c * 100 + n) for n in range(20)]))
        for c in range(50)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    records = read_topic(kafka.bootstrap, topic, 1000)
    assert len({json.loads(r.value)["id"] for r in records}) == 1000
    slow.sendall(line[10:])
    slow.close()
    records = read_topic(kafka.bootstrap, topic, 1001)
    assert len({json.loads(r.value)["id"] for r in records}) == 1001


def test_a_refused_connection_is_counted_in_the_status(services: Any, kafka: Any) -> None:
    producer, port, _, _ = start_producer(
        services,
        kafka,
        "refused",
        "--set",
        "producer.max_connections=2",
        "--set",
        "service.status_interval_s=0.5",
    )
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
    time.sleep(0.5)  # both are being served before the third knocks
    third = socket.create_connection(("127.0.0.1", port))
    third.settimeout(10)
    assert third.recv(10) == b""  # closed by the producer at once
    third.close()
    deadline = time.monotonic() + 10
    while "too_many_connections=1" not in producer.last_status():
        assert time.monotonic() < deadline, producer.last_status()
        time.sleep(0.1)
    for sock in held:
        sock.close()


def test_lines_cut_off_by_a_stop_during_a_kafka_outage_are_all_counted_lost(
    services: Any, kafka: Any
) -> None:
    producer, port, _, _ = start_producer(
        services,
        kafka,
        "cut",
        "--set",
        "producer.max_in_flight=5",
        "--set",
        "service.drain_timeout_s=4",
        "--set",
        "service.status_interval_s=0.5",
    )
    kafka.stop()
    try:
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(b"".join(event_line(n) for n in range(100)))
        deadline = time.monotonic() + 20
        while "in_flight=5" not in producer.last_status():
            assert time.monotonic() < deadline, producer.last_status()
            time.sleep(0.1)
        assert producer.terminate() == 0, producer.log_tail()
        client.close()
    finally:
        kafka.start()
    log = producer.log_path.read_text()
    assert "connection_cut peer=127.0.0.1 unsent=95" in log
    assert "drain_incomplete lost=100 bound_s=4.0" in log
