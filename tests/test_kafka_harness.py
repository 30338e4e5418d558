"""The session's Kafka broker serves kafka-python the way LogWeave uses it."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.structs import TopicPartition

from tests.harness.kafka import KafkaBroker

pytestmark = pytest.mark.integration

ROUTERS = [f"192.168.1.{n}".encode() for n in range(1, 6)]
MESSAGES = 100
READ_TIMEOUT_S = 60.0


def test_a_group_reads_every_keyed_message_in_order_and_commits_the_end(
    kafka: KafkaBroker,
) -> None:
    topic = "harness.ordering"
    kafka.create_topics([topic], partitions=3)
    sent = keyed_messages(MESSAGES)

    produce(kafka.bootstrap, topic, sent)
    received, end_offsets = consume_and_commit(kafka.bootstrap, topic, "harness-ordering")

    assert len(received) == MESSAGES
    assert by_key(received) == by_key(sent)
    assert sum(end_offsets.values()) == MESSAGES
    assert committed_offsets(kafka.bootstrap, "harness-ordering") == end_offsets


def test_messages_and_committed_offsets_survive_a_broker_restart(kafka: KafkaBroker) -> None:
    topic = "harness.restart"
    kafka.create_topics([topic], partitions=3)
    sent = keyed_messages(MESSAGES)
    produce(kafka.bootstrap, topic, sent)
    _, end_offsets = consume_and_commit(kafka.bootstrap, topic, "harness-restart")

    kafka.stop()
    kafka.start()

    assert by_key(read_from_start(kafka.bootstrap, topic)) == by_key(sent)
    assert committed_offsets(kafka.bootstrap, "harness-restart") == end_offsets


def keyed_messages(count: int) -> list[tuple[bytes, bytes]]:
    """(router, sequence number) pairs, the routers taking turns."""
    return [(ROUTERS[n % len(ROUTERS)], str(n).encode()) for n in range(count)]


def by_key(messages: list[tuple[bytes, bytes]]) -> dict[bytes, list[bytes]]:
    """Values per key in arrival order: Kafka keeps order only within one key's partition."""
    grouped: dict[bytes, list[bytes]] = defaultdict(list)
    for key, value in messages:
        grouped[key].append(value)
    return dict(grouped)


def produce(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    # gzip is the one codec kafka-python has without an extra package (lz4, zstd and snappy
    # each need their own Python library).
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        compression_type="gzip",
    )
    try:
        futures = [producer.send(topic, key=key, value=value) for key, value in messages]
        producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=30)
    finally:
        producer.close(timeout=10)


def consume_and_commit(
    bootstrap: str, topic: str, group: str
) -> tuple[list[tuple[bytes, bytes]], dict[TopicPartition, int]]:
    """Everything a new group member reads, committed by hand; and the topic's end offsets."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    try:
        received = poll_until(consumer, MESSAGES)
        consumer.commit()
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        end_offsets: dict[TopicPartition, int] = consumer.end_offsets(partitions)
        return received, end_offsets
    finally:
        consumer.close(autocommit=False)


def read_from_start(bootstrap: str, topic: str) -> list[tuple[bytes, bytes]]:
    """Every message on the topic, read outside any group."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        return poll_until(consumer, MESSAGES)
    finally:
        consumer.close(autocommit=False)


def poll_until(consumer: Any, expected: int) -> list[tuple[bytes, bytes]]:
    """Poll until ``expected`` messages arrived, then once more so that extras would show."""
    received: list[tuple[bytes, bytes]] = []
    deadline = time.monotonic() + READ_TIMEOUT_S
    while len(received) < expected and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            received.extend((record.key, record.value) for record in records)
    for records in consumer.poll(timeout_ms=1000).values():
        received.extend((record.key, record.value) for record in records)
    return received


def committed_offsets(bootstrap: str, group: str) -> dict[TopicPartition, int]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        offsets = admin.list_group_offsets(group)[group]
    finally:
        admin.close()
    return {partition: committed.offset for partition, committed in offsets.items()}
