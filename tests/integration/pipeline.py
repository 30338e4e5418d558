"""A whole LogWeave pipeline for one test: fresh topics, a fresh database, the three services."""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg2
import pytest

from logweave.migrate import migrate
from tests.harness.services import Service
from tests.integration.helpers import free_port, unique_topics

_ids = itertools.count(1)


@dataclass
class Pipeline:
    kafka: Any
    postgres: Any
    services: Callable[..., Service]
    admin_dsn: str
    writer_dsn: str
    topic: str
    dlq: str
    port: int
    suffix: str
    running: dict[str, Service] = field(default_factory=dict)

    def flags(self) -> list[str]:
        return [
            "--kafka-bootstrap", self.kafka.bootstrap,
            "--postgres-dsn", self.writer_dsn,
            "--listen", f"127.0.0.1:{self.port}",
            "--set", f"kafka.topic={self.topic}",
            "--set", f"kafka.dlq_topic={self.dlq}",
            "--set", "service.retry_initial_s=0.2",
            "--set", "service.retry_max_s=2",
            "--set", "service.status_interval_s=0.5",
        ]  # fmt: skip

    def start(
        self,
        which: str,
        group: str | None = None,
        watchdog_s: float | None = None,
        extra: list[str] | None = None,
    ) -> Service:
        module = {
            "producer": "logweave.producer",
            "raw": "logweave.archive",
            "metrics": "logweave.metrics",
        }[which]
        args = self.flags() + (extra or [])
        if which != "producer":
            section = "archive" if which == "raw" else "metrics"
            args += [
                "--set",
                f"{section}.group={group or f'{which}-{self.suffix}'}",
                "--set",
                f"{section}.batch_wait_ms=100",
            ]
        service = self.services(module, args).start(watchdog_s=watchdog_s)
        self.running[which] = service
        return service.wait_ready()

    def start_all(self) -> None:
        for which in ("producer", "raw", "metrics"):
            self.start(which)

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        conn = psycopg2.connect(self.admin_dsn)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        finally:
            conn.close()

    def scalar(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        return self.query(sql, args)[0][0]

    def wait_until(self, sql: str, expected: Any, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            try:
                value = self.scalar(sql)
            except psycopg2.OperationalError:
                value = "database unreachable"
            if value == expected:
                return
            time.sleep(0.2)
        logs = "\n".join(f"--- {k}:\n{s.log_tail(30)}" for k, s in self.running.items())
        pytest.fail(f"{sql!r} gave {value!r}, expected {expected!r}\n{logs}")


@pytest.fixture
def pipeline(kafka: Any, postgres: Any, services: Callable[..., Service]) -> Iterator[Pipeline]:
    suffix = f"p{next(_ids)}{secrets.token_hex(3)}"
    admin_dsn = postgres.create_database(f"logweave_{suffix}")
    migrate(admin_dsn)
    writer_dsn = postgres.create_login(f"logweave_{suffix}", f"writer_{suffix}", "logweave_writer")
    topic, dlq = unique_topics(kafka, suffix)
    yield Pipeline(
        kafka, postgres, services, admin_dsn, writer_dsn, topic, dlq, free_port(), suffix
    )
