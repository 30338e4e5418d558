"""PostgreSQL for the consumers: connections that fail fast, and daily partitions made on demand."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import psycopg2
import psycopg2.extensions

CONNECT_TIMEOUT_S = 10
STATEMENT_TIMEOUT_MS = 30_000
# A peer that vanished (router reboot, cable pulled, database host frozen) is noticed within
# about idle + interval * count seconds instead of the kernel's two hours; unacknowledged writes
# give up after TCP_USER_TIMEOUT_MS.
KEEPALIVES_IDLE_S = 30
KEEPALIVES_INTERVAL_S = 10
KEEPALIVES_COUNT = 3
TCP_USER_TIMEOUT_MS = 60_000

# Per process: the UTC days whose partition is known to exist and be committed, by database and
# table. Retention drops only days far older than the consumers write, so an entry stays true.
_known_days: dict[tuple[str, str], set[date]] = {}
# Days this process created in a transaction that may not have ended yet, by connection. They
# are not trusted until a later call finds its connection outside any transaction.
_created_in_open_transaction: dict[int, set[tuple[str, date]]] = {}


def connect(
    dsn: str,
    application_name: str,
    *,
    statement_timeout_ms: int = STATEMENT_TIMEOUT_MS,
    connect_timeout_s: int = CONNECT_TIMEOUT_S,
) -> psycopg2.extensions.connection:
    """A connection whose calls cannot hang forever: connecting, idle peers and statements are
    all bounded. ``statement_timeout_ms=0`` lifts the statement bound (migrations).

    Settings given in ``dsn`` win over these defaults, except the application name; ``options``
    from the DSN are kept and the statement timeout is added to them.
    """
    params: dict[str, Any] = psycopg2.extensions.parse_dsn(dsn)
    options = f"{params.get('options', '')} -c statement_timeout={statement_timeout_ms}".strip()
    params.update(application_name=application_name, options=options)
    params.setdefault("connect_timeout", str(connect_timeout_s))
    params.setdefault("keepalives", "1")
    params.setdefault("keepalives_idle", str(KEEPALIVES_IDLE_S))
    params.setdefault("keepalives_interval", str(KEEPALIVES_INTERVAL_S))
    params.setdefault("keepalives_count", str(KEEPALIVES_COUNT))
    params.setdefault("tcp_user_timeout", str(TCP_USER_TIMEOUT_MS))
    return psycopg2.connect(**params)


def ensure_partitions_for(
    conn: psycopg2.extensions.connection, table: str, days: set[date]
) -> list[str]:
    """Make sure ``table`` has a partition for each UTC day in ``days``; the names it created.

    It runs in the caller's transaction, so a batch's new partition commits with the batch. The
    database is asked only about days this process has not seen committed before, which makes
    the usual call (today, already known) free of any round trip.
    """
    known = _known_days.setdefault((_database_of(conn), table), set())
    if conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE:
        # Whatever this connection created before has since been committed or rolled back.
        _created_in_open_transaction.pop(id(conn), None)
    missing = sorted(days - known)
    if not missing:
        return []

    created: list[str] = []
    with conn.cursor() as cur:
        for first, last in _runs(missing):
            cur.execute(
                "SELECT logweave_ensure_partitions(%s::regclass, %s, %s)", (table, first, last)
            )
            created += [name for (name,) in cur.fetchall()]

    unconfirmed = _created_in_open_transaction.setdefault(id(conn), set())
    unconfirmed.update((table, _day_of(name)) for name in created)
    # Trusted from now on: the days that exist, unless made in a transaction still open.
    known.update(day for day in missing if (table, day) not in unconfirmed)
    if not unconfirmed:
        del _created_in_open_transaction[id(conn)]
    return created


def forget_known_partitions() -> None:
    """Ask the database again about every day (after a retention run in this same process)."""
    _known_days.clear()
    _created_in_open_transaction.clear()


def _database_of(conn: psycopg2.extensions.connection) -> str:
    params = conn.get_dsn_parameters()
    return f"{params.get('host', '')}:{params.get('port', '')}/{params.get('dbname', '')}"


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as stretches of consecutive days: one call per stretch, never a gap filled."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _day_of(partition_name: str) -> date:
    stamp = partition_name.rsplit("_p", 1)[1]
    return date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:]))


def maintain_partitions(
    cur: Any, table: str, ahead_days: int, keep_days: int
) -> tuple[list[str], list[str]]:
    """Make ``table``'s daily partitions ``ahead_days`` ahead and drop those past retention.

    Returns (created, dropped) partition names. Runs in the caller's transaction.
    """
    cur.execute(
        "SELECT logweave_ensure_partitions(%s::regclass, (now() AT TIME ZONE 'UTC')::date,"
        " (now() AT TIME ZONE 'UTC')::date + %s)",
        (table, ahead_days),
    )
    created = [row[0] for row in cur.fetchall()]
    cur.execute("SELECT logweave_drop_partitions(%s::regclass, %s)", (table, keep_days))
    dropped = [row[0] for row in cur.fetchall()]
    return created, dropped


def without_nul(text: str | None) -> str | None:
    """Text as a PostgreSQL text or jsonb value can hold it: NUL becomes U+FFFD, so the rest of
    the line is kept and it shows where the NUL was."""
    return text.replace("\x00", "\ufffd") if text is not None else text
