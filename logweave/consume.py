"""The loop both consumers share: poll a batch, write it in one transaction, then commit offsets.

Offsets reach Kafka only after PostgreSQL has committed the batch, so a crash at any point
leads to redelivery, never to loss; the writers recognise redelivered events by their id, so
redelivery never counts anything twice. While PostgreSQL is unreachable the batch is kept and
retried with backoff, and the Kafka partitions are paused so the group does not evict us. A
record that PostgreSQL refuses however often it is tried is found by halving its batch and set
aside with its error (the raw archiver keeps it in dead_letters), so it cannot stop the stream.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extras
from kafka.errors import CommitFailedError, KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition

from logweave import db, kafka
from logweave.config import ConsumerSettings, Settings
from logweave.service import Backoff, Notifier, RateLimitedLog, Stop, wait_with

log = logging.getLogger("logweave.consume")

# Writes one batch inside an open transaction and returns what it did, for the counters.
BatchWriter = Callable[[Any, list[Any]], Counter[str]]
# Table upkeep run now and then in its own transaction (partitions ahead, retention).
Maintenance = Callable[[Any], Counter[str]]
# Keeps, inside an open transaction, a record that no batch can write (its error given).
SetAside = Callable[[Any, Any, str], None]

# Failures that the same records raise again however often they are retried: a value PostgreSQL
# refuses, a key past an index size limit, text the driver cannot send. Connection and timeout
# failures are other OperationalErrors and wait for the database instead.
_UNWRITABLE = (
    psycopg2.DataError,
    psycopg2.IntegrityError,
    psycopg2.errors.ProgramLimitExceeded,
    ValueError,
)


class BatchConsumer:
    def __init__(
        self,
        name: str,
        settings: Settings,
        batch: ConsumerSettings,
        topics: list[str],
        write: BatchWriter,
        notifier: Notifier,
        stop: Stop,
        maintain: Maintenance | None = None,
        set_aside: SetAside | None = None,
    ) -> None:
        self.name = name
        self.maintain = maintain
        self.set_aside = set_aside
        # A systematic refusal would otherwise log once for every record of every batch.
        self._set_aside_log = RateLimitedLog(log, settings.service.rejects_logged_per_minute)
        self._next_maintenance = 0.0
        self.settings = settings
        self.batch = batch
        self.topics = topics
        self.write = write
        self.notifier = notifier
        self.stop = stop
        self.counts: Counter[str] = Counter()
        self.lag = 0
        self._backoff = Backoff(settings.service.retry_initial_s, settings.service.retry_max_s)
        self._conn: Any = None
        self._consumer: Any = None

    def status_line(self) -> str:
        counts = " ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
        return f"lag={self.lag} {counts}".strip()

    def run(self) -> int:
        try:
            if not self._start():
                return 0
            log.info(
                "consumer_ready name=%s group=%s topics=%s",
                self.name,
                self.name,
                ",".join(self.topics),
            )
            self.notifier.ready(self.status_line())
            next_status = 0.0
            while not self.stop:
                self.notifier.beat()
                records = self._poll()
                if records:
                    self._handle(records)
                self._maintenance()
                if time.monotonic() >= next_status:
                    self.notifier.status(self.status_line())
                    next_status = time.monotonic() + self.settings.service.status_interval_s
            self.notifier.stopping(f"stopping: {self.status_line()}")
            return 0
        finally:
            self._close()

    def _start(self) -> bool:
        """Connect to PostgreSQL and Kafka, waiting with backoff; False if stopped meanwhile."""
        if not self._connect_db():
            return False
        if not kafka.wait_until_reachable(
            self.settings, self.stop, self.notifier.beat, self.topics
        ):
            return False
        self._consumer = kafka.consumer(self.settings, self.name, self.topics, self.batch)
        return True

    def _poll(self) -> list[Any]:
        polled = self._consumer.poll(
            timeout_ms=self.batch.batch_wait_ms, max_records=self.batch.batch_size
        )
        return [record for records in polled.values() for record in records]

    def _handle(self, records: list[Any]) -> None:
        """Write the batch (retrying through database outages), then commit its offsets."""
        while not self.stop:
            try:
                done = self._write_batch(records)
            except _UNWRITABLE as exc:
                self._split(records, exc)
                return
            except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
                if not self._wait_for_db(exc):
                    return
                continue
            self._backoff.reset()
            self.counts.update(done)
            self._commit(records)
            return

    def _split(self, records: list[Any], exc: Exception) -> None:
        """A batch that cannot be written: write its halves apart until the record to blame
        stands alone, then set that record aside, so one bad record never stops the stream.
        """
        if len(records) > 1:
            half = len(records) // 2
            for part in (records[:half], records[half:]):
                if self.stop:
                    return
                self._handle(part)
            return
        record = records[0]
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        error = f"{type(exc).__name__}: {first_line}"
        self._set_aside_log.warning(
            "record_set_aside",
            "record_set_aside name=%s topic=%s partition=%d offset=%d error=%s",
            self.name,
            record.topic,
            record.partition,
            record.offset,
            error,
        )
        if self.set_aside is not None and not self._keep_set_aside(self.set_aside, record, error):
            return  # stopped while the database was away: the record comes again
        self.counts["set_aside"] += 1
        self._commit(records)

    def _keep_set_aside(self, set_aside: SetAside, record: Any, error: str) -> bool:
        while not self.stop:
            try:
                self._ensure_connection()
                with self._conn, self._conn.cursor() as cur:
                    set_aside(cur, record, error)
                return True
            except _UNWRITABLE as exc:
                # Not even its dead letter can be written: the record stays only in Kafka, at
                # the position this line names, until the topic's retention removes it.
                log.error(
                    "record_skipped name=%s topic=%s partition=%d offset=%d error=%s",
                    self.name,
                    record.topic,
                    record.partition,
                    record.offset,
                    str(exc).strip(),
                )
                self.counts["skipped"] += 1
                return True
            except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
                if not self._wait_for_db(exc):
                    return False
        return False

    def _maintenance(self) -> None:
        """Partitions ahead and retention, once per interval; a failure waits for the next."""
        if self.maintain is None or time.monotonic() < self._next_maintenance:
            return
        self._next_maintenance = time.monotonic() + self.settings.postgres.maintenance_interval_s
        try:
            self._ensure_connection()
            with self._conn, self._conn.cursor() as cur:
                self.counts.update(self.maintain(cur))
        except psycopg2.Error as exc:
            log.warning("maintenance_failed name=%s error=%s", self.name, str(exc).strip())
            self._drop_connection()

    def _ensure_connection(self) -> None:
        if self._conn is None or self._conn.closed:
            self._conn = db.connect(
                self.settings.postgres_dsn(),
                application_name=self.name,
                statement_timeout_ms=self.settings.postgres.statement_timeout_ms,
            )

    def _write_batch(self, records: list[Any]) -> Counter[str]:
        self._ensure_connection()
        with self._conn, self._conn.cursor() as cur:
            done = self.write(cur, records)
            self._record_progress(cur, records)
        return done

    def _record_progress(self, cur: Any, records: list[Any]) -> None:
        """Offsets and lag into consumer_progress, in the batch's own transaction."""
        rows = []
        lag = 0
        for (topic, partition), offset in _next_offsets(records).items():
            end = self._end_offset(topic, partition)
            end = max(end if end is not None else offset, offset)
            lag += end - offset
            rows.append((self.name, topic, partition, offset, end))
        self.lag = lag
        psycopg2.extras.execute_values(
            cur,
            """INSERT INTO consumer_progress
                   (consumer, topic, kafka_partition, committed_offset, end_offset, updated_at)
               SELECT v.consumer, v.topic, v.kafka_partition, v.committed_offset,
                      v.end_offset, now()
               FROM (VALUES %s) AS v(consumer, topic, kafka_partition, committed_offset,
                                     end_offset)
               ON CONFLICT (consumer, topic, kafka_partition) DO UPDATE
               SET committed_offset = GREATEST(consumer_progress.committed_offset,
                                               EXCLUDED.committed_offset),
                   end_offset = EXCLUDED.end_offset,
                   updated_at = EXCLUDED.updated_at""",
            rows,
        )

    def _end_offset(self, topic: str, partition: int) -> int | None:
        value = self._consumer.highwater(TopicPartition(topic, partition))
        return int(value) if value is not None else None

    def _commit(self, records: list[Any]) -> None:
        offsets = {
            TopicPartition(topic, partition): OffsetAndMetadata(offset, "", -1)
            for (topic, partition), offset in _next_offsets(records).items()
        }
        try:
            self._consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as exc:
            # The batch is in PostgreSQL; whoever reads these offsets next will find its
            # events already there and insert nothing twice.
            log.warning("offset_commit_failed name=%s error=%s", self.name, exc)
            self.counts["commit_failures"] += 1

    def _wait_for_db(self, exc: Exception) -> bool:
        """One backoff wait after a database failure, keeping the group membership alive."""
        self._drop_connection()
        delay = self._backoff.next_delay()
        log.warning(
            "postgres_unavailable name=%s error=%r retry_in=%.1fs",
            self.name,
            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
            delay,
        )
        self.counts["db_retries"] += 1
        assignment = list(self._consumer.assignment())
        self._consumer.pause(*assignment)
        try:
            deadline = time.monotonic() + delay
            while not self.stop and time.monotonic() < deadline:
                self.notifier.beat()
                # Polling paused partitions fetches nothing but keeps us in the group.
                self._consumer.poll(
                    timeout_ms=int(min(0.5, deadline - time.monotonic()) * 1000) or 1
                )
        finally:
            self._consumer.resume(*assignment)
        return not self.stop

    def _connect_db(self) -> bool:
        while not self.stop:
            try:
                self._conn = db.connect(
                    self.settings.postgres_dsn(),
                    application_name=self.name,
                    statement_timeout_ms=self.settings.postgres.statement_timeout_ms,
                )
                self._backoff.reset()
                return True
            except psycopg2.OperationalError as exc:
                delay = self._backoff.next_delay()
                log.warning(
                    "postgres_unreachable name=%s error=%r retry_in=%.1fs",
                    self.name,
                    str(exc).strip().splitlines()[0],
                    delay,
                )
                if not wait_with(self.stop, delay, self.notifier.beat):
                    return False
        return False

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg2.Error):
                self._conn.close()
            self._conn = None

    def _close(self) -> None:
        if self._consumer is not None:
            self._consumer.close(autocommit=False)
        self._drop_connection()
        log.info("consumer_stopped name=%s %s", self.name, self.status_line())


def _next_offsets(records: list[Any]) -> dict[tuple[str, int], int]:
    """The offset to commit per partition: one past the last record of the batch."""
    offsets: dict[tuple[str, int], int] = {}
    for record in records:
        key = (record.topic, record.partition)
        offsets[key] = max(offsets.get(key, 0), record.offset + 1)
    return offsets


def _partition_upkeep(settings: Settings, table: str) -> Maintenance:
    """The daily partitions of ``table`` ahead of time, and retention by dropping whole days."""

    def run(cur: Any) -> Counter[str]:
        created, dropped = db.maintain_partitions(
            cur,
            table,
            settings.postgres.partitions_ahead_days,
            settings.postgres.retention_days,
        )
        if created or dropped:
            log.info(
                "partitions_maintained table=%s created=%s dropped=%s",
                table,
                ",".join(created) or "-",
                ",".join(dropped) or "-",
            )
        return Counter(partitions_dropped=len(dropped))

    return run


def run_service(
    name: str,
    argv: Sequence[str] | None,
    batch: Callable[[Settings], ConsumerSettings],
    topics: Callable[[Settings], list[str]],
    writer: Callable[[Settings], BatchWriter],
    partitioned_table: str | None = None,
    set_aside: SetAside | None = None,
) -> int:
    from logweave.cli import service_settings

    settings = service_settings(name, argv)
    stop = Stop()
    stop.install()
    notifier = Notifier()
    try:
        group = batch(settings).group or name
        consumer = BatchConsumer(
            group,
            settings,
            batch(settings),
            topics(settings),
            writer(settings),
            notifier,
            stop,
            _partition_upkeep(settings, partitioned_table) if partitioned_table else None,
            set_aside,
        )
        return consumer.run()
    finally:
        notifier.close()
        stop.restore()
