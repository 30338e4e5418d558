"""The whole pipeline as plain local processes, outside pytest: for the benchmark and the demo.

It reuses the test harness: a throwaway PostgreSQL cluster, a Kafka broker from var/kafka, and
the three LogWeave services, each on free 127.0.0.1 ports under one temporary folder.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psycopg2

from logweave.migrate import migrate
from tests.harness.kafka import KafkaBroker, free_loopback_ports, kafka_home
from tests.harness.postgres import start_server
from tests.harness.services import Service

TOPIC = "router.logs"
DLQ = "router.logs.dlq"


class LocalStack:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="logweave-stack-"))
        self._stack = ExitStack()
        self.services: dict[str, Service] = {}
        self.port = free_loopback_ports(1)[0]

    def __enter__(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        self.postgres = start_server()
        self._stack.callback(self.postgres.close)
        self.admin_dsn = self.postgres.create_database("logweave")
        migrate(self.admin_dsn)
        self.writer_dsn = self.postgres.create_login("logweave", "logweave", "logweave_writer")

        (self.root / "kafka").mkdir(parents=True, exist_ok=True)
        self.kafka = KafkaBroker(kafka_home(), self.root / "kafka")
        self.kafka.format_storage()
        self._stack.callback(self.kafka.stop)
        self.kafka.start()
        self.kafka.create_topics([TOPIC], partitions=3)
        self.kafka.create_topics([DLQ], partitions=1)

    def start_services(self, env: dict[str, str] | None = None) -> None:
        flags = [
            "--kafka-bootstrap", self.kafka.bootstrap,
            "--postgres-dsn", self.writer_dsn,
            "--listen", f"127.0.0.1:{self.port}",
        ]  # fmt: skip
        for name, module in (
            ("producer", "logweave.producer"),
            ("raw", "logweave.archive"),
            ("metrics", "logweave.metrics"),
        ):
            service = Service(
                module, flags, self.root, {"LOGWEAVE_CONFIG": "/dev/null", **(env or {})}
            )
            self.services[name] = service
            self._stack.callback(service.terminate)
            service.start()
        for service in self.services.values():
            service.wait_ready()

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        conn = psycopg2.connect(self.admin_dsn)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        finally:
            conn.close()

    def wait_for_rows(self, table: str, count: int, timeout: float) -> float:
        """Seconds until ``table`` holds ``count`` rows; raises TimeoutError past ``timeout``."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.query(f"SELECT count(*) FROM {table}")[0][0] >= count:
                return time.monotonic() - started
            time.sleep(0.2)
        raise TimeoutError(f"{table} did not reach {count} rows in {timeout}s")

    def close(self) -> None:
        self._stack.close()
        shutil.rmtree(self.root, ignore_errors=True)
