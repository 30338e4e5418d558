"""The services wait for their topics on a real broker before they join a group."""

from __future__ import annotations

from typing import Any

import pytest

from logweave import config
from logweave import kafka as lw_kafka
from logweave.service import Stop
from tests.integration.helpers import unique_topics

pytestmark = pytest.mark.integration


def settings_for(bootstrap: str) -> config.Settings:
    return config.load(
        overrides={
            "kafka.bootstrap": bootstrap,
            "service.retry_initial_s": 0.1,
            "service.retry_max_s": 0.2,
        },
        environ={},
    )


def test_topics_are_ready_once_every_partition_has_a_leader(kafka: Any) -> None:
    topic, dlq = unique_topics(kafka, "ready")
    client = lw_kafka.admin(settings_for(kafka.bootstrap))
    try:
        described = client.describe_topics([topic, dlq, "no-such-topic"])
    finally:
        client.close()

    sizes = {t["name"]: len(t["partitions"]) for t in described if t["name"] in (topic, dlq)}
    assert sizes == {topic: 3, dlq: 1}
    assert lw_kafka._topics_not_ready(described, [topic, dlq]) == []
    assert lw_kafka._topics_not_ready(described, [topic, "no-such-topic"]) == ["no-such-topic"]
    # Just after creation a partition can have no leader yet: not ready.
    leaderless = [
        {**t, "partitions": [{**p, "leader_id": -1} for p in t["partitions"]]}
        for t in described
        if t["name"] == topic
    ]
    assert lw_kafka._topics_not_ready(leaderless, [topic]) == [topic]


def test_waiting_for_topics_returns_once_they_exist_and_ends_on_stop(kafka: Any) -> None:
    topic, dlq = unique_topics(kafka, "reach")
    settings = settings_for(kafka.bootstrap)
    assert lw_kafka.wait_until_reachable(settings, Stop(), lambda: None, [topic, dlq])

    stop = Stop()
    beats = 0

    def beat() -> None:
        nonlocal beats
        beats += 1
        if beats >= 2:
            stop.event.set()

    assert not lw_kafka.wait_until_reachable(settings, stop, beat, ["never-created.router.logs"])
    assert beats >= 2
