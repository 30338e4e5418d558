"""Operator-facing behaviour: status, topic creation, partition upkeep and retention."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from kafka import KafkaAdminClient

from tests.integration.helpers import event_line, send_tcp
from tests.integration.pipeline import Pipeline

pytestmark = pytest.mark.integration


def logweave(pipeline: Pipeline, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "logweave.cli", args[0],
         "--kafka-bootstrap", pipeline.kafka.bootstrap, "--postgres-dsn", pipeline.writer_dsn,
         "--set", f"kafka.topic={pipeline.topic}", "--set", f"kafka.dlq_topic={pipeline.dlq}",
         "--set", f"archive.group=raw-{pipeline.suffix}",
         "--set", f"metrics.group=metrics-{pipeline.suffix}", *args[1:]],
        capture_output=True, text=True, timeout=60, check=False,
        env={"LOGWEAVE_CONFIG": "/dev/null", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def test_status_reports_offsets_lag_rows_and_dead_letters(pipeline: Pipeline) -> None:
    pipeline.start_all()
    send_tcp(pipeline.port, [event_line(n) for n in range(40)] + [b"junk\n"])
    pipeline.wait_until("SELECT count(*) FROM parsed_events", 40)
    pipeline.wait_until("SELECT count(*) FROM dead_letters", 1)
    pipeline.wait_until(
        "SELECT sum(end_offset - committed_offset) FROM consumer_progress "
        f"WHERE topic = '{pipeline.topic}'",
        0,
    )

    result = logweave(pipeline, "status", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["kafka"]["topics"] == {pipeline.topic: 40, pipeline.dlq: 1}
    assert report["kafka"]["groups"][f"raw-{pipeline.suffix}"]["lag"] == 0
    assert report["kafka"]["groups"][f"metrics-{pipeline.suffix}"]["lag"] == 0
    assert report["postgres"]["tables"]["raw_logs"]["rows"] == 40
    assert report["postgres"]["tables"]["metrics_device_daily"]["rows"] == 40
    assert report["postgres"]["dead_letter_reasons"] == {"not_json": 1}

    text = logweave(pipeline, "status").stdout
    assert f"{pipeline.topic}" in text and "dead letters by reason: not_json 1" in text


def test_status_says_what_is_unreachable(pipeline: Pipeline) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "logweave.cli", "status", "--kafka-bootstrap", "127.0.0.1:1",
         "--postgres-dsn", "host=127.0.0.1 port=1 dbname=x connect_timeout=2",
         "--set", "kafka.request_timeout_ms=3000"],
        capture_output=True, text=True, timeout=120, check=False,
        env={"LOGWEAVE_CONFIG": "/dev/null", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 1
    assert "kafka: UNREACHABLE" in result.stdout
    assert "postgres: UNREACHABLE" in result.stdout


def test_create_topics_is_idempotent(pipeline: Pipeline) -> None:
    topic = f"ops-{pipeline.suffix}.router.logs"
    args = ["create-topics", "--set", f"kafka.topic={topic}",
            "--set", f"kafka.dlq_topic={topic}.dlq",
            "--set", "kafka.partitions=2", "--set", "kafka.retention_hours=48"]  # fmt: skip
    first = logweave(pipeline, *args)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"created 2 topic(s): {topic}, {topic}.dlq"
    assert logweave(pipeline, *args).stdout.strip() == "created 0 topic(s)"
    admin = KafkaAdminClient(bootstrap_servers=pipeline.kafka.bootstrap)
    try:
        described = {t["name"]: len(t["partitions"]) for t in admin.describe_topics([topic])}
    finally:
        admin.close()
    assert described == {topic: 2}


def test_consumers_keep_partitions_ahead_and_drop_expired_days(pipeline: Pipeline) -> None:
    today = datetime.now(UTC).date()
    old = today - timedelta(days=40)
    for table in ("raw_logs", "parsed_events"):
        pipeline.query(f"SELECT logweave_ensure_partitions('{table}', %s, %s)", (old, old))
    pipeline.start(
        "raw",
        extra=["--set", "postgres.retention_days=30", "--set", "postgres.partitions_ahead_days=10"],
    )
    pipeline.start(
        "metrics",
        extra=["--set", "postgres.retention_days=30", "--set", "postgres.partitions_ahead_days=10"],
    )
    for table in ("raw_logs", "parsed_events"):
        pipeline.wait_until(
            f"SELECT count(*) FROM pg_inherits WHERE inhparent = '{table}'::regclass AND "
            f"inhrelid::regclass::text = '{table}_p{old:%Y%m%d}'",
            0,
        )
        ahead = today + timedelta(days=10)
        pipeline.wait_until(f"SELECT to_regclass('{table}_p{ahead:%Y%m%d}') IS NOT NULL", True)
    assert "partitions_maintained table=raw_logs" in pipeline.running["raw"].log_path.read_text()
