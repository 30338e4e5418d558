"""Small tools the integration tests share: ports, topics, Kafka reads and TCP senders."""

from __future__ import annotations

import itertools
import json
import socket
import time
from collections.abc import Iterable
from typing import Any

from kafka import KafkaConsumer
from kafka.structs import TopicPartition

_topic_ids = itertools.count(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unique_topics(kafka: Any, name: str) -> tuple[str, str]:
    """A fresh main and dead-letter topic pair, so tests never see each other's events."""
    topic = f"t{next(_topic_ids)}-{name}.router.logs"
    dlq = f"{topic}.dlq"
    kafka.create_topics([topic], partitions=3)
    kafka.create_topics([dlq], partitions=1)
    return topic, dlq


def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 60.0) -> list[Any]:
    """Every record on ``topic`` once at least ``expected`` arrived (or the timeout passed)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
            if len(records) >= expected:
                # Anything more (duplicates) shows up within one more poll.
                for batch in consumer.poll(timeout_ms=1000).values():
                    records.extend(batch)
                break
        return records
    finally:
        consumer.close(autocommit=False)


def event_line(n: int, router: str = "192.168.101.1", **fields: Any) -> bytes:
    """One JSON line as the rsyslog template writes it."""
    event = {
        "timereported": "2026-12-04T10:00:00.000000+00:00",
        "timegenerated": f"2026-12-04T10:00:{n % 60:02d}.{n:06d}+00:00",
        "hostname": "OpenWrt",
        "fromhost-ip": router,
        "programname": "dnsmasq-dhcp",
        "syslogtag": "dnsmasq-dhcp[1234]:",
        "severity": 6,
        "facility": 3,
        "msg": f" DHCPACK(br-lan) 192.168.101.{n % 250 + 2} 02:00:00:00:{n // 256 % 256:02x}:"
        f"{n % 256:02x} host-{n}",
        **fields,
    }
    return json.dumps(event).encode() + b"\n"


def send_tcp(port: int, chunks: Iterable[bytes], timeout: float = 30.0) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        for chunk in chunks:
            sock.sendall(chunk)
