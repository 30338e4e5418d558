"""``logweave status``: the operator's view of the pipeline, from Kafka and from PostgreSQL."""

from __future__ import annotations

from typing import Any

import psycopg2
from kafka.errors import KafkaError
from kafka.structs import TopicPartition

from logweave import db, kafka
from logweave.archive import GROUP as RAW_GROUP
from logweave.config import Settings
from logweave.metrics import GROUP as METRICS_GROUP

# Tables shown with their row count and newest event; the column holds the event's time.
TABLES = {
    "raw_logs": "received_at",
    "parsed_events": "received_at",
    "dead_letters": "received_at",
    "metrics_wifi_hourly": "hour",
    "metrics_dhcp_hourly": "hour",
    "metrics_system_hourly": "hour",
    "metrics_device_daily": "last_seen",
}


def collect(settings: Settings) -> dict[str, Any]:
    report: dict[str, Any] = {"ok": True}
    try:
        report["kafka"] = _kafka(settings)
    except KafkaError as exc:
        report["ok"] = False
        report["kafka"] = {"error": f"{type(exc).__name__}: {exc}"}
    try:
        report["postgres"] = _postgres(settings)
    except psycopg2.Error as exc:
        report["ok"] = False
        report["postgres"] = {"error": str(exc).strip()}
    return report


def _kafka(settings: Settings) -> dict[str, Any]:
    topics = [settings.kafka.topic, settings.kafka.dlq_topic]
    consumer = kafka.offsets_reader(settings)
    admin = kafka.admin(settings)
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
        ends = consumer.end_offsets(partitions)
        out: dict[str, Any] = {
            "topics": {
                topic: sum(v for tp, v in ends.items() if tp.topic == topic) for topic in topics
            },
            "groups": {},
        }
        groups = (
            (settings.archive.group or RAW_GROUP, topics),
            (settings.metrics.group or METRICS_GROUP, topics[:1]),
        )
        for group, group_topics in groups:
            committed = admin.list_group_offsets(group).get(group, {})
            lag = 0
            for tp in partitions:
                if tp.topic not in group_topics:
                    continue
                done = committed.get(tp)
                lag += ends[tp] - (done.offset if done is not None and done.offset >= 0 else 0)
            out["groups"][group] = {"lag": lag, "committed": bool(committed)}
        return out
    finally:
        consumer.close(autocommit=False)
        admin.close()


def _postgres(settings: Settings) -> dict[str, Any]:
    conn = db.connect(
        settings.postgres_dsn(),
        application_name="logweave-status",
        statement_timeout_ms=settings.postgres.statement_timeout_ms,
    )
    try:
        with conn, conn.cursor() as cur:
            tables = {}
            for table, column in TABLES.items():
                cur.execute(f"SELECT count(*), max({column}) FROM {table}")  # noqa: S608 -- fixed names
                count, newest = cur.fetchone()
                tables[table] = {"rows": count, "newest": newest}
            cur.execute("SELECT reason, count(*) FROM dead_letters GROUP BY reason ORDER BY 2 DESC")
            reasons = dict(cur.fetchall())
        return {"tables": tables, "dead_letter_reasons": reasons}
    finally:
        conn.close()


def render(report: dict[str, Any]) -> str:
    lines = []
    k = report.get("kafka", {})
    if "error" in k:
        lines.append(f"kafka: UNREACHABLE {k['error']}")
    else:
        lines.append("kafka topics (messages ever written):")
        lines += [f"  {topic:<24} {end:>10}" for topic, end in k["topics"].items()]
        lines.append("consumer groups:")
        lines += [f"  {group:<24} lag {g['lag']:>8}" for group, g in k["groups"].items()]
    p = report.get("postgres", {})
    if "error" in p:
        lines.append(f"postgres: UNREACHABLE {p['error']}")
    else:
        lines.append("postgres tables:")
        for table, t in p["tables"].items():
            newest = t["newest"].isoformat() if t["newest"] is not None else "-"
            lines.append(f"  {table:<24} {t['rows']:>10} rows  newest {newest}")
        reasons = ", ".join(f"{r} {n}" for r, n in p["dead_letter_reasons"].items()) or "none"
        lines.append(f"dead letters by reason: {reasons}")
    return "\n".join(lines)
