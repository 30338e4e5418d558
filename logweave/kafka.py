"""Kafka clients configured the way LogWeave needs them, and the wait for a reachable broker."""

from __future__ import annotations

import logging
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError

from logweave.config import ConsumerSettings, Settings
from logweave.service import Backoff, Stop, wait_with

log = logging.getLogger("logweave.kafka")


def producer(settings: Settings) -> Any:
    """An idempotent producer: acks from every in-sync replica, retries without duplicates."""
    compression = settings.producer.compression
    return KafkaProducer(
        bootstrap_servers=settings.kafka.bootstrap.split(","),
        client_id=f"{settings.kafka.client_id}-producer",
        acks="all",
        enable_idempotence=True,
        compression_type=None if compression == "none" else compression,
        linger_ms=settings.producer.linger_ms,
        request_timeout_ms=settings.kafka.request_timeout_ms,
        # kafka-python's batch buffer has no size limit of its own: the service bounds it by
        # holding at most producer.max_in_flight unacknowledged events.
        allow_auto_create_topics=False,
        max_block_ms=settings.kafka.request_timeout_ms,
    )


def consumer(settings: Settings, group: str, topics: list[str], batch: ConsumerSettings) -> Any:
    """A group consumer that never commits on its own: offsets follow the database commit.

    It learns its topics' partitions before it subscribes: a consumer that joins its group
    first can be assigned nothing ("No partition metadata for topic") and, with kafka-python,
    stay so although the partitions show up in its metadata later.
    """
    client = KafkaConsumer(
        bootstrap_servers=settings.kafka.bootstrap.split(","),
        client_id=f"{settings.kafka.client_id}-{group}",
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        request_timeout_ms=max(settings.kafka.request_timeout_ms, 30001),
        max_poll_records=batch.batch_size,
        # Partitions that appear after the group formed are found at the next refresh.
        metadata_max_age_ms=30_000,
    )
    for topic in topics:
        client.partitions_for_topic(topic)
    client.subscribe(topics)
    return client


def offsets_reader(settings: Settings) -> Any:
    """A consumer outside any group, only for reading partition offsets."""
    return KafkaConsumer(
        bootstrap_servers=settings.kafka.bootstrap.split(","),
        client_id=f"{settings.kafka.client_id}-status",
        group_id=None,
        enable_auto_commit=False,
        request_timeout_ms=max(settings.kafka.request_timeout_ms, 30001),
    )


def admin(settings: Settings) -> Any:
    return KafkaAdminClient(
        bootstrap_servers=settings.kafka.bootstrap.split(","),
        client_id=f"{settings.kafka.client_id}-admin",
        request_timeout_ms=settings.kafka.request_timeout_ms,
    )


def create_topics(settings: Settings) -> list[str]:
    """Create the event and dead-letter topics that do not exist yet; the names created."""
    from kafka.admin import NewTopic

    hour_ms = 3600 * 1000
    wanted = {
        settings.kafka.topic: NewTopic(
            settings.kafka.topic,
            settings.kafka.partitions,
            1,
            topic_configs={"retention.ms": str(settings.kafka.retention_hours * hour_ms)},
        ),
        # One partition keeps dead letters in arrival order; they are few.
        settings.kafka.dlq_topic: NewTopic(
            settings.kafka.dlq_topic,
            1,
            1,
            topic_configs={"retention.ms": str(settings.kafka.dlq_retention_hours * hour_ms)},
        ),
    }
    client = admin(settings)
    try:
        missing = [t for name, t in wanted.items() if name not in set(client.list_topics())]
        if missing:
            client.create_topics(missing)
        return [t.name for t in missing]
    finally:
        client.close()


def wait_until_reachable(settings: Settings, stop: Stop, beat: Any, topics: list[str]) -> bool:
    """Block until the broker answers and every topic has a leader for each of its partitions;
    False if asked to stop first.
    """
    backoff = Backoff(settings.service.retry_initial_s, settings.service.retry_max_s)
    while not stop:
        try:
            client = admin(settings)
            try:
                waiting = _topics_not_ready(client.describe_topics(topics), topics)
            finally:
                client.close()
            if not waiting:
                return True
            problem = f"topics not ready: {', '.join(waiting)}"
        except KafkaError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        delay = backoff.next_delay()
        log.warning(
            "kafka_unreachable bootstrap=%s problem=%r retry_in=%.1fs",
            settings.kafka.bootstrap,
            problem,
            delay,
        )
        if not wait_with(stop, delay, beat):
            return False
    return False


def _topics_not_ready(described: list[dict[str, Any]], topics: list[str]) -> list[str]:
    """The topics (sorted) that are missing or have a partition without a leader yet.

    A topic created a moment ago is listed before its partitions have leaders; a group consumer
    that joins then is assigned nothing and only finds the partitions at its next metadata
    refresh, minutes later.
    """
    ready = {
        topic["name"]
        for topic in described
        if topic.get("error_code", 0) == 0
        and topic.get("partitions")
        and all(
            part.get("error_code", 0) == 0 and part.get("leader_id", -1) >= 0
            for part in topic["partitions"]
        )
    }
    return sorted(set(topics) - ready)
