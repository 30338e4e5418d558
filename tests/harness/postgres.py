"""A throwaway PostgreSQL 15 cluster for the tests, started once per session.

The cluster lives in a temporary directory: data, unix socket and server log. It listens on a free
port of 127.0.0.1 with scram-sha-256 password authentication, as the production host does. fsync
and synchronous_commit keep their defaults, because the outage tests rely on committed rows
surviving a crash (``stop(mode="immediate")``).

PostgreSQL refuses to run as root. When the tests run as root (as in CI), initdb and pg_ctl run
through ``setpriv`` as the unprivileged system user ``logweave-pgtest``, created on first use.
``LOGWEAVE_PG_BIN`` names another directory of PostgreSQL binaries; the default is Debian's.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

DEFAULT_PG_BIN = "/usr/lib/postgresql/15/bin"
OS_USER = "logweave-pgtest"
SUPERUSER = "postgres"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 60
STOP_MODES = ("smart", "fast", "immediate")

# Included from postgresql.conf. Small enough for a CI runner next to Kafka; nothing that weakens
# durability.
SETTINGS_FILE = "logweave-test.conf"
SERVER_SETTINGS = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
shared_buffers = 16MB
max_connections = 60
log_line_prefix = '%m [%p] %q%u@%d '
"""


class PostgresHarnessError(RuntimeError):
    """The test cluster could not be set up, started or stopped; the message has the log tail."""


@dataclass(frozen=True)
class OsUser:
    name: str
    uid: int
    gid: int


class PostgresServer:
    """One test cluster. Its port and data survive ``stop()``/``start()``."""

    def __init__(self, bin_dir: Path, base: Path, run_as: OsUser | None) -> None:
        self.bin_dir = bin_dir
        self.base = base
        self.run_as = run_as
        self.data_dir = base / "data"
        self.socket_dir = base / "socket"
        self.log_path = base / "server.log"
        self.password = secrets.token_hex(16)
        self.port = 0
        self.running = False

    @property
    def admin_dsn(self) -> str:
        """The superuser, over TCP with its password, in the maintenance database."""
        return self.dsn()

    def dsn(self, dbname: str = "postgres", user: str | None = None) -> str:
        """A libpq key=value string over TCP. Without ``user`` it is the superuser's, with its
        password; for another user the caller appends ``password=...``."""
        parts = [f"host=127.0.0.1 port={self.port} dbname={dbname} connect_timeout=10"]
        if user is None:
            parts.append(f"user={SUPERUSER} password={self.password}")
        else:
            parts.append(f"user={user}")
        return " ".join(parts)

    def init(self) -> None:
        """initdb with the superuser's password, then the server settings on a free port."""
        self.socket_dir.mkdir(mode=0o700)
        password_file = self.base / "superuser-password"
        password_file.write_text(self.password + "\n")
        password_file.chmod(0o600)
        self._hand_over(self.base, self.socket_dir, password_file)
        self._run(
            "initdb",
            "--pgdata",
            str(self.data_dir),
            "--username",
            SUPERUSER,
            "--pwfile",
            str(password_file),
            "--auth-local",
            "trust",
            "--auth-host",
            "scram-sha-256",
            "--encoding",
            "UTF8",
            "--no-locale",
            timeout=120,
        )
        password_file.unlink()
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(f"\ninclude = '{SETTINGS_FILE}'\n")
        self.use_port(free_port())

    def start(self) -> None:
        """Start on the same data directory and port; returns once it accepts connections."""
        if self.running:
            return
        self._run(
            "pg_ctl",
            "start",
            "--pgdata",
            str(self.data_dir),
            "--log",
            str(self.log_path),
            "--wait",
            "--timeout",
            str(START_TIMEOUT_S),
            timeout=START_TIMEOUT_S + 30,
        )
        self.running = True
        self._check_connection()

    def stop(self, mode: str = "fast") -> None:
        """Stop the server. ``immediate`` is a crash: no checkpoint, recovery on next start."""
        if mode not in STOP_MODES:
            raise ValueError(f"stop mode must be one of {STOP_MODES}, got {mode!r}")
        if not self.running:
            return
        self._run(
            "pg_ctl",
            "stop",
            "--pgdata",
            str(self.data_dir),
            "--mode",
            mode,
            "--wait",
            "--timeout",
            str(STOP_TIMEOUT_S),
            timeout=STOP_TIMEOUT_S + 30,
        )
        self.running = False

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def create_database(self, name: str) -> str:
        """A new empty database (dropped first if a test made it before); its superuser DSN."""
        conn = psycopg2.connect(self.admin_dsn)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                database = sql.Identifier(name)
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
                cur.execute(sql.SQL("CREATE DATABASE {}").format(database))
        finally:
            conn.close()
        return self.dsn(dbname=name)

    def create_login(self, database: str, user: str, group: str) -> str:
        """A login role with a fresh password, member of ``group`` (a role the migrations make),
        as the deployment makes one; its DSN for ``database``."""
        password = secrets.token_urlsafe(16)
        conn = psycopg2.connect(self.admin_dsn)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(
                    sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s IN ROLE {}").format(
                        sql.Identifier(user), sql.Identifier(group)
                    ),
                    (password,),
                )
        finally:
            conn.close()
        return self.dsn(dbname=database, user=user) + f" password={password}"

    def pids(self) -> list[int]:
        """The postmaster first, then its children (backends and background workers)."""
        postmaster = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        children = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(
                    line.split(":\t", 1)
                    for line in status.read_text().splitlines()
                    if ":\t" in line
                )
            except OSError:
                continue  # the process ended while we looked
            if fields.get("PPid", "").strip() == str(postmaster):
                children.append(int(status.parent.name))
        return [postmaster, *sorted(children)]

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no server log yet)"
        return "\n".join(text.splitlines()[-lines:])

    def close(self) -> None:
        """Stop (forcing if a clean stop fails) and remove the cluster's directory."""
        try:
            self.stop("fast")
        except PostgresHarnessError:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def use_port(self, port: int) -> None:
        """Listen on another port from the next start (only before the first one)."""
        self.port = port
        settings = self.data_dir / SETTINGS_FILE
        settings.write_text(SERVER_SETTINGS.format(port=port, socket_dir=self.socket_dir))
        self._hand_over(settings)

    def _check_connection(self) -> None:
        try:
            psycopg2.connect(self.admin_dsn).close()
        except psycopg2.OperationalError as exc:
            raise PostgresHarnessError(
                f"PostgreSQL started but refuses the superuser on 127.0.0.1:{self.port}: {exc}\n"
                f"--- server log tail ({self.log_path}) ---\n{self.log_tail()}"
            ) from exc

    def _hand_over(self, *paths: Path) -> None:
        if self.run_as is not None:
            for path in paths:
                os.chown(path, self.run_as.uid, self.run_as.gid)

    def _run(self, program: str, *args: str, timeout: float) -> None:
        command = [str(self.bin_dir / program), *args]
        if self.run_as is not None:
            command = [
                "setpriv",
                f"--reuid={self.run_as.uid}",
                f"--regid={self.run_as.gid}",
                "--clear-groups",
                "--",
                *command,
            ]
        # Keep the caller's PG* variables (PGPORT, PGHOST...) away from the cluster's tools.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        try:
            done = subprocess.run(
                command,
                env=env,
                cwd=self.base,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise PostgresHarnessError(
                f"{program} {' '.join(args[:1])} did not finish within {timeout:.0f} s\n"
                f"--- server log tail ({self.log_path}) ---\n{self.log_tail()}"
            ) from exc
        if done.returncode != 0:
            raise PostgresHarnessError(
                f"{program} {' '.join(args[:1])} failed with exit code {done.returncode}:\n"
                f"{done.stdout}{done.stderr}\n"
                f"--- server log tail ({self.log_path}) ---\n{self.log_tail()}"
            )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unprivileged_user() -> OsUser | None:
    """None when not root; otherwise the system user the cluster runs as, created if missing."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(OS_USER)
    except KeyError:
        done = subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                OS_USER,
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        # Exit code 9: another test session created it a moment ago.
        if done.returncode not in (0, 9):
            raise PostgresHarnessError(
                f"cannot create system user {OS_USER} to run PostgreSQL as: {done.stderr.strip()}"
            ) from None
        entry = pwd.getpwnam(OS_USER)
    return OsUser(OS_USER, entry.pw_uid, entry.pw_gid)


def start_server() -> PostgresServer:
    bin_dir = Path(os.environ.get("LOGWEAVE_PG_BIN", DEFAULT_PG_BIN))
    if not (bin_dir / "initdb").is_file():
        raise PostgresHarnessError(
            f"no initdb in {bin_dir}: install PostgreSQL 15 (Debian: postgresql-15) or point "
            "LOGWEAVE_PG_BIN at its bin directory"
        )
    server = PostgresServer(
        bin_dir, Path(tempfile.mkdtemp(prefix="logweave-pg-")), unprivileged_user()
    )
    try:
        server.init()
        # The port was free when chosen; if something took it before the server bound it, try
        # another one.
        for attempt in range(3):
            try:
                server.start()
                break
            except PostgresHarnessError:
                if attempt == 2 or "could not bind" not in server.log_tail():
                    raise
                server.use_port(free_port())
                time.sleep(0.2)
    except BaseException:
        server.close()
        raise
    return server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = start_server()
    try:
        yield server
    finally:
        server.close()
