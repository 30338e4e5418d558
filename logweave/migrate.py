"""Bring a database to the current schema by applying the ordered SQL files of sql/migrations.

Each file ``NNNN_name.sql`` runs once, in its own transaction, and is recorded in
``schema_migrations`` with its SHA-256. A file that was changed after it was applied is refused:
the database would no longer match what the file says, so a change goes into a new file.

Run it as a superuser, or as the database owner with CREATEROLE (the first migration creates the
cluster-wide group roles ``logweave_writer`` and ``logweave_reader`` when they are missing). The
objects it creates belong to that role, and the partition functions run with its rights.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import psycopg2
import psycopg2.errors

from logweave import db

log = logging.getLogger("logweave.migrate")

FILE_NAME = re.compile(r"^(?P<version>\d{4}_[a-z0-9_]+)\.sql$")
# Session-level advisory lock held for a whole run: 'LWmg' in ASCII (LogWeave migrate).
LOCK_KEY = 0x4C576D67
LOCK_TIMEOUT_S = 60

CREATE_HISTORY = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now(),
    checksum text NOT NULL
)
"""


class MigrationError(RuntimeError):
    """The database cannot be migrated; the message names the migration and what to do."""


@dataclass(frozen=True)
class Migration:
    version: str
    sql: str
    checksum: str


def migrate(
    dsn: str, *, directory: Traversable | None = None, lock_timeout_s: float = LOCK_TIMEOUT_S
) -> list[str]:
    """Apply the pending migrations in order; the versions applied (empty when up to date).

    ``lock_timeout_s`` bounds the wait for another run of migrate and for the table locks the
    migrations take while consumers are writing.
    """
    migrations = load_migrations(directory)
    conn = db.connect(dsn, "logweave-migrate", statement_timeout_ms=0)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SET search_path TO public")
            cur.execute("SELECT set_config('lock_timeout', %s, false)", (f"{lock_timeout_s}s",))
        _lock(conn, lock_timeout_s)

        with conn, conn.cursor() as cur:
            cur.execute(CREATE_HISTORY)
            cur.execute("SELECT version, checksum FROM schema_migrations")
            applied = dict(cur.fetchall())
        pending = _pending(migrations, applied)

        done = []
        for migration in pending:
            _apply(conn, migration)
            done.append(migration.version)
        if not pending:
            log.info("migrations_up_to_date count=%d", len(applied))
        return done
    finally:
        conn.close()  # also releases the advisory lock


def load_migrations(directory: Traversable | None = None) -> list[Migration]:
    """The migration files in version order, from the package or from ``directory``."""
    folder = directory if directory is not None else migrations_dir()
    if not folder.is_dir():
        raise MigrationError(f"no migrations directory at {folder}: is the package complete?")
    migrations = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = FILE_NAME.match(entry.name)
        if match is None:
            raise MigrationError(
                f"migration file {entry.name}: name must be NNNN_lowercase_words.sql"
            )
        content = entry.read_bytes()
        migrations.append(
            Migration(
                version=match["version"],
                sql=content.decode("utf-8"),
                checksum=hashlib.sha256(content).hexdigest(),
            )
        )
    migrations.sort(key=lambda m: m.version)
    numbers = [m.version[:4] for m in migrations]
    duplicated = sorted({n for n in numbers if numbers.count(n) > 1})
    if duplicated:
        raise MigrationError(f"migration numbers used twice in {folder}: {', '.join(duplicated)}")
    if not migrations:
        raise MigrationError(f"no migration files in {folder}")
    return migrations


def migrations_dir() -> Traversable:
    """Where the SQL files are: inside the installed package (the wheel puts the repository's
    sql/migrations at logweave/sql/migrations), or at the top of a source checkout."""
    packaged = resources.files("logweave") / "sql" / "migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "sql" / "migrations"


def _lock(conn: psycopg2.extensions.connection, lock_timeout_s: float) -> None:
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    except psycopg2.errors.LockNotAvailable:
        raise MigrationError(
            f"another logweave migrate has held the migration lock for over {lock_timeout_s:g} s;"
            " let it finish, or find it in pg_stat_activity (application_name logweave-migrate)"
        ) from None


def _pending(migrations: Sequence[Migration], applied: dict[str, str]) -> list[Migration]:
    """The migrations still to run, after checking the applied ones still read the same."""
    for migration in migrations:
        recorded = applied.get(migration.version)
        if recorded is not None and recorded != migration.checksum:
            raise MigrationError(
                f"migration {migration.version} was changed after it was applied "
                f"(database sha256 {recorded[:12]}, file sha256 {migration.checksum[:12]}): "
                "restore the file as it was and put the change in a new migration"
            )
    pending = [m for m in migrations if m.version not in applied]
    known = {m.version for m in migrations}
    unknown = sorted(set(applied) - known)
    if unknown:
        # A database migrated by a newer release; this one can still run against it.
        log.warning("migrations_unknown_to_this_release versions=%s", ",".join(unknown))
    latest = max((v for v in applied if v in known), default="")
    if pending and pending[0].version < latest:
        raise MigrationError(
            f"migration {pending[0].version} is new but {latest} is already applied: "
            "renumber it after the last applied migration so every database runs them in order"
        )
    return pending


def _apply(conn: psycopg2.extensions.connection, migration: Migration) -> None:
    started = time.monotonic()
    try:
        with conn, conn.cursor() as cur:
            cur.execute(migration.sql)
            cur.execute(
                "INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)",
                (migration.version, migration.checksum),
            )
    except psycopg2.errors.LockNotAvailable as exc:
        raise MigrationError(
            f"migration {migration.version} waited too long for a table lock and was rolled "
            f"back: {_first_line(exc)}; retry when the consumers are idle or stopped"
        ) from exc
    except psycopg2.Error as exc:
        raise MigrationError(
            f"migration {migration.version} failed and was rolled back: {_first_line(exc)}"
        ) from exc
    log.info(
        "migration_applied version=%s seconds=%.2f", migration.version, time.monotonic() - started
    )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
