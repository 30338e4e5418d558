"""A real single-node Kafka (KRaft) for the test session, run from the distribution in var/kafka.

The distribution is built by scripts/build-kafka-dist.sh; LOGWEAVE_KAFKA_HOME may point to another
one (an unpacked kafka_2.13-<version> folder). The broker listens on free loopback ports, keeps its
data in the session's tmp dir and writes its output to ``broker.log`` beside it.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

REPO_DIR = Path(__file__).resolve().parents[2]
HOME_ENV = "LOGWEAVE_KAFKA_HOME"
BUILD_HINT = "run scripts/build-kafka-dist.sh (or point LOGWEAVE_KAFKA_HOME at a Kafka folder)"

# A two-core machine runs the broker beside the services under test and PostgreSQL.
JVM_HEAP = ["-Xms128m", "-Xmx512m"]
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0
FORMAT_TIMEOUT_S = 60.0
LOG_TAIL_LINES = 60


class KafkaBroker:
    """One broker+controller process; stop() and start() keep its port and its data."""

    def __init__(self, home: Path, workdir: Path) -> None:
        self.home = home
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.log_path = workdir / "broker.log"
        self.config_path = workdir / "server.properties"
        self.port, self.controller_port = free_loopback_ports(2)
        self.bootstrap = f"127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None
        self._starts = 0

    def format_storage(self) -> None:
        """Write the config and lay out an empty KRaft log, as the first start needs."""
        self.config_path.write_text(
            server_properties(self.port, self.controller_port, self.data_dir)
        )
        command = [
            *self._java("kafka.tools.StorageTool"),
            "format",
            "--standalone",
            "--cluster-id",
            new_cluster_id(),
            "--config",
            str(self.config_path),
        ]
        with self.log_path.open("ab") as log:
            log.write(b"--- format storage ---\n")
            log.flush()
            try:
                result = subprocess.run(
                    command, stdout=log, stderr=log, timeout=FORMAT_TIMEOUT_S, check=False
                )
            except subprocess.TimeoutExpired:
                pytest.fail(f"Kafka storage format took over {FORMAT_TIMEOUT_S:.0f}s{self._tail()}")
        if result.returncode != 0:
            pytest.fail(f"Kafka storage format exited with {result.returncode}{self._tail()}")

    def start(self) -> None:
        """Start the broker (no-op if it runs) and wait until it answers a metadata request."""
        if self.running:
            return
        self._starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self._starts} ---\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                [*self._java("kafka.Kafka"), str(self.config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        started = time.monotonic()
        self._wait_until_serving()
        with self.log_path.open("ab") as log:
            log.write(f"--- serving after {time.monotonic() - started:.1f}s ---\n".encode())

    def stop(self) -> None:
        """SIGTERM for a clean shutdown; SIGKILL if it has not exited within the bound."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            self._proc = None
            return
        stopping = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT_S)
            outcome = f"stopped after {time.monotonic() - stopping:.1f}s"
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
            outcome = f"killed: SIGTERM not obeyed within {STOP_TIMEOUT_S:.0f}s"
        self._proc = None
        with self.log_path.open("ab") as log:
            log.write(f"--- {outcome} ---\n".encode())

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def create_topics(self, names: Iterable[str], partitions: int = 3) -> None:
        """Create the topics (one replica each) and wait until every partition has a leader."""
        topics = {name: {"num_partitions": partitions, "replication_factor": 1} for name in names}
        admin = self._admin()
        try:
            admin.create_topics(topics, timeout_ms=30_000, wait_for_metadata=True)
        finally:
            admin.close()

    def _admin(self) -> KafkaAdminClient:
        return KafkaAdminClient(
            bootstrap_servers=self.bootstrap,
            client_id="logweave-tests",
            request_timeout_ms=10_000,
            bootstrap_timeout_ms=10_000,
        )

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                code = None if self._proc is None else self._proc.returncode
                pytest.fail(f"Kafka broker exited with {code} while starting{self._tail()}")
            # The client port opens only once the broker has joined the quorum, so a refused
            # connection is cheap to retry and needs no Kafka client yet.
            if accepts_connections(self.port) and self._answers_metadata():
                return
            time.sleep(0.25)
        self.stop()
        pytest.fail(f"Kafka broker not serving after {START_TIMEOUT_S:.0f}s{self._tail()}")

    def _answers_metadata(self) -> bool:
        try:
            admin = self._admin()
        except KafkaError:
            return False
        try:
            admin.list_topics()
        except KafkaError:
            return False
        finally:
            admin.close()
        return True

    def _java(self, main_class: str) -> list[str]:
        java = shutil.which("java")
        if java is None:
            pytest.fail("java not found on PATH: Kafka needs a JDK 17 or newer")
        return [
            java,
            *JVM_HEAP,
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.home / 'config' / 'log4j2.yaml'}",
            "-cp",
            str(self.home / "libs" / "*"),
            main_class,
        ]

    def _tail(self) -> str:
        if not self.log_path.exists():
            return f" (no log at {self.log_path})"
        lines = self.log_path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        return f"; last lines of {self.log_path}:\n" + "\n".join(lines)


def kafka_home() -> Path:
    """The Kafka folder to run: LOGWEAVE_KAFKA_HOME, else the newest one in var/kafka."""
    configured = os.environ.get(HOME_ENV)
    if configured:
        home = Path(configured)
        if not any((home / "libs").glob("kafka_*.jar")):
            pytest.fail(f"{HOME_ENV}={configured}: no libs/kafka_*.jar there; {BUILD_HINT}")
        return home
    built = [p for p in (REPO_DIR / "var" / "kafka").glob("kafka_2.13-*") if p.is_dir()]
    built = [p for p in built if not p.name.endswith(".partial")]
    if not built:
        pytest.fail(f"no Kafka distribution in {REPO_DIR / 'var' / 'kafka'}: {BUILD_HINT}")
    return max(built, key=lambda p: version_key(p.name))


def version_key(folder_name: str) -> tuple[int, ...]:
    """(4, 4, 0) for "kafka_2.13-4.4.0", so that 4.10 sorts after 4.9."""
    version = folder_name.rsplit("-", 1)[-1]
    return tuple(int(part) for part in re.findall(r"\d+", version))


def server_properties(port: int, controller_port: int, data_dir: Path) -> str:
    """A combined broker+controller on loopback, sized for a small test machine."""
    client_listener = f"PLAINTEXT://127.0.0.1:{port}"
    quorum_listener = f"CONTROLLER://127.0.0.1:{controller_port}"
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"127.0.0.1:{controller_port}",
        "listeners": f"{client_listener},{quorum_listener}",
        "advertised.listeners": f"{client_listener},{quorum_listener}",
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": "3",
        "default.replication.factor": "1",
        "offsets.topic.replication.factor": "1",
        # Internal topics default to 50 partitions each; a few keep the first group join quick.
        "offsets.topic.num.partitions": "3",
        "transaction.state.log.num.partitions": "3",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        # Two cores: fewer threads than the defaults (3 network, 8 I/O) are plenty for tests.
        "num.network.threads": "2",
        "num.io.threads": "2",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def new_cluster_id() -> str:
    """A random Kafka cluster id: 16 bytes, URL-safe base64 without padding."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        # Kafka's own generator avoids a leading "-": command lines would read it as an option.
        if not cluster_id.startswith("-"):
            return cluster_id


def free_loopback_ports(count: int) -> list[int]:
    """Ports that were free a moment ago; all held at once so that they differ."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """The session's broker, started; ``.bootstrap`` is "127.0.0.1:PORT"."""
    broker = KafkaBroker(kafka_home(), tmp_path_factory.mktemp("kafka"))
    try:
        broker.format_storage()
        broker.start()
        yield broker
    finally:
        broker.stop()
