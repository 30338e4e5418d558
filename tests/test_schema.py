"""The migrated schema on a real PostgreSQL 15: partitions, retention, roles, keys, connections."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import pytest

from logweave import db
from logweave.migrate import migrate
from tests.harness.postgres import PostgresServer

pytestmark = pytest.mark.integration

DATABASE = "logweave_schema_test"
EVENT_ID = "6b1f7e2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture(scope="module")
def database(postgres: PostgresServer) -> str:
    dsn = postgres.create_database(DATABASE)
    migrate(dsn)
    return dsn


@pytest.fixture
def admin(database: str) -> Iterator[psycopg2.extensions.connection]:
    conn = psycopg2.connect(database)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def today(database: str) -> date:
    day: date = scalar(database, "SELECT (now() AT TIME ZONE 'UTC')::date")
    return day


def login_dsn(postgres: PostgresServer, database: str, group: str) -> str:
    """A login user made a member of ``group``, as the deployment does; its DSN over TCP."""
    user, password = f"{group}_login_test", "correct-horse-battery-staple"
    conn = psycopg2.connect(database)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"DROP ROLE IF EXISTS {user}")
            cur.execute(f"CREATE ROLE {user} LOGIN PASSWORD %s IN ROLE {group}", (password,))
    finally:
        conn.close()
    return postgres.dsn(dbname=DATABASE, user=user) + f" password={password}"


def scalar(dsn: str, query: str, args: tuple[Any, ...] = ()) -> Any:
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchone()[0]
    finally:
        conn.close()


def partitions(dsn: str, table: str) -> list[str]:
    names: list[str] = scalar(
        dsn,
        """SELECT coalesce(array_agg(c.relname::text ORDER BY c.relname), '{}')
           FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = %s::regclass""",
        (table,),
    )
    return names


def day_names(table: str, first: date, last: date) -> list[str]:
    count = (last - first).days + 1
    return [f"{table}_p{first + timedelta(days=n):%Y%m%d}" for n in range(count)]


def insert_raw_log(cur: Any, received_at: datetime, event_id: str = EVENT_ID) -> int:
    cur.execute(
        """INSERT INTO raw_logs (event_id, received_at, reported_at, router, hostname, program,
                                 syslogtag, severity, facility, msg, kafka_partition, kafka_offset)
           VALUES (%s, %s, %s, '192.0.2.1', 'gw', 'dnsmasq-dhcp', 'dnsmasq-dhcp[812]:', 6, 3,
                   'DHCPACK(br0) 192.168.1.23 aa:bb:cc:dd:ee:ff laptop', 0, 42)
           ON CONFLICT DO NOTHING""",
        (event_id, received_at, received_at),
    )
    return int(cur.rowcount)


def midday(day: date) -> datetime:
    return datetime.combine(day, clock(12), tzinfo=UTC)


def test_every_table_lives_in_the_public_schema(database: str) -> None:
    tables = scalar(
        database,
        """SELECT array_agg(c.relname::text ORDER BY c.relname)
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition""",
    )
    assert tables == [
        "consumer_progress",
        "dead_letters",
        "devices",
        "metrics_device_daily",
        "metrics_dhcp_hourly",
        "metrics_firewall_hourly",
        "metrics_ingest_hourly",
        "metrics_system_hourly",
        "metrics_wifi_hourly",
        "parsed_events",
        "raw_logs",
        "router_streams",
        "routers",
        "schema_migrations",
    ]


@pytest.mark.parametrize("table", ["raw_logs", "parsed_events"])
def test_migration_creates_day_partitions_from_yesterday_to_a_week_ahead(
    database: str, today: date, table: str
) -> None:
    assert partitions(database, table) == day_names(
        table, today - timedelta(days=1), today + timedelta(days=7)
    )


def test_partition_bounds_are_utc_midnights_whatever_the_session_time_zone(
    admin: psycopg2.extensions.connection, today: date
) -> None:
    day = today + timedelta(days=20)
    with admin, admin.cursor() as cur:
        cur.execute("SET TimeZone = 'Pacific/Chatham'")  # +13:45 or +12:45
        cur.execute("SELECT logweave_ensure_partitions('raw_logs', %s, %s)", (day, day))
        assert cur.fetchall() == [(f"raw_logs_p{day:%Y%m%d}",)]
        cur.execute("SET TimeZone = 'UTC'")
        cur.execute(
            "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = %s",
            (f"raw_logs_p{day:%Y%m%d}",),
        )
        assert cur.fetchone() == (
            f"FOR VALUES FROM ('{day} 00:00:00+00') TO ('{day + timedelta(days=1)} 00:00:00+00')",
        )


def test_an_event_40_days_old_is_stored_once_its_partition_exists_and_retention_drops_it(
    admin: psycopg2.extensions.connection, database: str, today: date
) -> None:
    old_day = today - timedelta(days=40)
    old_partition = f"raw_logs_p{old_day:%Y%m%d}"
    before = partitions(database, "raw_logs")

    with (
        pytest.raises(psycopg2.errors.CheckViolation, match='no partition of relation "raw_logs"'),
        admin,
        admin.cursor() as cur,
    ):
        insert_raw_log(cur, midday(old_day))

    with admin, admin.cursor() as cur:
        assert db.ensure_partitions_for(admin, "raw_logs", {old_day}) == [old_partition]
        assert insert_raw_log(cur, midday(old_day)) == 1
    assert scalar(database, f"SELECT count(*) FROM {old_partition}") == 1

    with admin, admin.cursor() as cur:
        cur.execute("SELECT logweave_drop_partitions('raw_logs', 30)")
        assert cur.fetchall() == [(old_partition,)]
    assert partitions(database, "raw_logs") == before
    assert (
        scalar(database, "SELECT count(*) FROM raw_logs WHERE received_at < %s", (midday(today),))
        == 0
    )
    db.forget_known_partitions()


def test_retention_keeps_today_and_the_kept_days(
    admin: psycopg2.extensions.connection, database: str, today: date
) -> None:
    with admin, admin.cursor() as cur:
        cur.execute("SELECT logweave_drop_partitions('raw_logs', 1)")
        assert cur.fetchall() == []
    with (
        pytest.raises(psycopg2.errors.InvalidParameterValue, match="keep_days must be 1 or more"),
        admin,
        admin.cursor() as cur,
    ):
        cur.execute("SELECT logweave_drop_partitions('raw_logs', 0)")
    assert partitions(database, "raw_logs")[0] == f"raw_logs_p{today - timedelta(days=1):%Y%m%d}"


def test_partition_functions_refuse_a_table_not_partitioned_by_day(
    admin: psycopg2.extensions.connection,
) -> None:
    with (
        pytest.raises(
            psycopg2.errors.InvalidParameterValue,
            match=r"public\.dead_letters is not a LogWeave table partitioned by day",
        ),
        admin,
        admin.cursor() as cur,
    ):
        cur.execute("SELECT logweave_ensure_partitions('dead_letters', '2024-01-01', '2024-01-01')")


def test_two_callers_creating_the_same_day_at_once_create_it_once(
    database: str, today: date
) -> None:
    day = today + timedelta(days=21)
    first, second = psycopg2.connect(database), psycopg2.connect(database)
    results: dict[str, Any] = {}

    def call_second() -> None:
        try:
            with second, second.cursor() as cur:
                cur.execute("SELECT logweave_ensure_partitions('raw_logs', %s, %s)", (day, day))
                results["second"] = cur.fetchall()
        except psycopg2.Error as exc:
            results["second"] = exc

    try:
        with first, first.cursor() as cur:
            cur.execute("SELECT logweave_ensure_partitions('raw_logs', %s, %s)", (day, day))
            results["first"] = cur.fetchall()
            waiter = threading.Thread(target=call_second)
            waiter.start()
            wait_for_advisory_lock_waiter(database)
        waiter.join(30)
    finally:
        first.close()
        second.close()
    assert results == {"first": [(f"raw_logs_p{day:%Y%m%d}",)], "second": []}


def wait_for_advisory_lock_waiter(dsn: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if scalar(dsn, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"):
            return
        time.sleep(0.05)
    pytest.fail("the second caller never waited for the partition lock")


def test_ensure_partitions_for_asks_the_database_once_per_committed_day(
    database: str, today: date
) -> None:
    day = today + timedelta(days=30)
    conn = db.connect(database, "schema-test")
    conn.cursor_factory = RecordingCursor
    RecordingCursor.queries.clear()
    try:
        with conn:
            assert db.ensure_partitions_for(conn, "raw_logs", {day}) == [f"raw_logs_p{day:%Y%m%d}"]
        with conn:
            assert db.ensure_partitions_for(conn, "raw_logs", {day}) == []
        with conn:
            assert db.ensure_partitions_for(conn, "raw_logs", {day}) == []
    finally:
        conn.close()
        db.forget_known_partitions()
    # The first call created it; the second found it committed; the third needed no query.
    assert len(RecordingCursor.queries) == 2


def test_a_partition_rolled_back_with_its_batch_is_created_again(
    database: str, today: date
) -> None:
    day = today + timedelta(days=31)
    name = f"raw_logs_p{day:%Y%m%d}"
    conn = db.connect(database, "schema-test")
    try:
        assert db.ensure_partitions_for(conn, "raw_logs", {day}) == [name]
        # Still inside the same transaction: it exists, but may yet be rolled back.
        assert db.ensure_partitions_for(conn, "raw_logs", {day}) == []
        conn.rollback()
        assert db.ensure_partitions_for(conn, "raw_logs", {day}) == [name]
        conn.commit()
    finally:
        conn.close()
        db.forget_known_partitions()
    assert name in partitions(database, "raw_logs")


def test_ensure_partitions_for_calls_once_per_stretch_of_consecutive_days(
    database: str, today: date
) -> None:
    days = {today + timedelta(days=n) for n in (40, 41, 42, 45)}
    conn = db.connect(database, "schema-test")
    conn.cursor_factory = RecordingCursor
    RecordingCursor.queries.clear()
    try:
        with conn:
            created = db.ensure_partitions_for(conn, "raw_logs", days)
    finally:
        conn.close()
        db.forget_known_partitions()
    assert created == [f"raw_logs_p{day:%Y%m%d}" for day in sorted(days)]
    assert len(RecordingCursor.queries) == 2


class RecordingCursor(psycopg2.extensions.cursor):  # type: ignore[misc]
    queries: list[str] = []  # noqa: RUF012 -- shared on purpose: the test reads it afterwards

    def execute(self, query: Any, vars: Any = None) -> Any:
        RecordingCursor.queries.append(str(query))
        return super().execute(query, vars)


def test_writer_inserts_and_makes_partitions_but_cannot_drop_or_create_tables(
    postgres: PostgresServer, database: str, today: date
) -> None:
    writer = psycopg2.connect(login_dsn(postgres, database, "logweave_writer"))
    day = today + timedelta(days=50)
    try:
        with writer, writer.cursor() as cur:
            cur.execute("SELECT logweave_ensure_partitions('raw_logs', %s, %s)", (day, day))
            assert cur.fetchall() == [(f"raw_logs_p{day:%Y%m%d}",)]
            assert insert_raw_log(cur, midday(day), str(uuid.uuid4())) == 1
            cur.execute(
                """INSERT INTO dead_letters (reason, payload, kafka_partition, kafka_offset)
                   VALUES ('not_json', 'x', 0, 7) RETURNING id"""
            )
            assert cur.fetchone() == (1,)
            cur.execute(
                """INSERT INTO consumer_progress (consumer, topic, kafka_partition,
                                                  committed_offset, end_offset)
                   VALUES ('logweave-raw', 'router-logs', 0, 10, 12)
                   ON CONFLICT (consumer, topic, kafka_partition)
                   DO UPDATE SET committed_offset = EXCLUDED.committed_offset"""
            )

        refusals = {
            "DROP TABLE raw_logs": "must be owner of table raw_logs",
            f"DROP TABLE raw_logs_p{day:%Y%m%d}": f"must be owner of table raw_logs_p{day:%Y%m%d}",
            "CREATE TABLE public.notes (line text)": "permission denied for schema public",
            "CREATE TABLE notes (line text)": "permission denied for schema public",
            "DELETE FROM raw_logs": "permission denied for table raw_logs",
        }
        for statement, message in refusals.items():
            with (
                pytest.raises(psycopg2.errors.InsufficientPrivilege, match=message),
                writer,
                writer.cursor() as cur,
            ):
                cur.execute(statement)
    finally:
        writer.close()


def test_reader_selects_everything_but_changes_nothing(
    postgres: PostgresServer, database: str, today: date
) -> None:
    day = today + timedelta(days=60)
    scalar(database, "SELECT logweave_ensure_partitions('raw_logs', %s, %s)", (day, day))
    reader = psycopg2.connect(login_dsn(postgres, database, "logweave_reader"))
    try:
        with reader, reader.cursor() as cur:
            counts = {}
            for table in ("raw_logs", "parsed_events", "metrics_device_daily", "dead_letters"):
                cur.execute(f"SELECT count(*) FROM {table}")
                counts[table] = cur.fetchone()[0]
            # A partition made after the migration, read by its own name.
            cur.execute(f"SELECT count(*) FROM raw_logs_p{day:%Y%m%d}")
            counts["new partition"] = cur.fetchone()[0]
        # The reader sees exactly what the owner sees.
        assert counts == {
            "raw_logs": scalar(database, "SELECT count(*) FROM raw_logs"),
            "parsed_events": scalar(database, "SELECT count(*) FROM parsed_events"),
            "metrics_device_daily": scalar(database, "SELECT count(*) FROM metrics_device_daily"),
            "dead_letters": scalar(database, "SELECT count(*) FROM dead_letters"),
            "new partition": 0,
        }

        refusals = {
            "INSERT INTO metrics_dhcp_hourly (hour, router) VALUES (now(), 'gw')": (
                "permission denied for table metrics_dhcp_hourly"
            ),
            "SELECT logweave_ensure_partitions('raw_logs', current_date, current_date)": (
                "permission denied for function logweave_ensure_partitions"
            ),
            "SELECT logweave_drop_partitions('raw_logs', 1)": (
                "permission denied for function logweave_drop_partitions"
            ),
        }
        for statement, message in refusals.items():
            with (
                pytest.raises(psycopg2.errors.InsufficientPrivilege, match=message),
                reader,
                reader.cursor() as cur,
            ):
                cur.execute(statement)
    finally:
        reader.close()


def test_an_event_delivered_twice_is_stored_once(
    admin: psycopg2.extensions.connection, database: str, today: date
) -> None:
    event_id = "0d6c1a57-9e0b-4c8e-b1f4-2a7d9e3c5b61"
    with admin, admin.cursor() as cur:
        assert insert_raw_log(cur, midday(today), event_id) == 1
        assert insert_raw_log(cur, midday(today), event_id) == 0
    assert scalar(database, "SELECT count(*) FROM raw_logs WHERE event_id = %s", (event_id,)) == 1


def test_connect_names_the_application_and_bounds_statements(database: str) -> None:
    conn = db.connect(
        database + " options='-c work_mem=8MB'", "logweave-test", statement_timeout_ms=200
    )
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "SELECT current_setting('application_name'), current_setting('work_mem'), "
                "current_setting('statement_timeout')"
            )
            assert cur.fetchone() == ("logweave-test", "8MB", "200ms")
        with (
            pytest.raises(psycopg2.errors.QueryCanceled, match="statement timeout"),
            conn,
            conn.cursor() as cur,
        ):
            cur.execute("SELECT pg_sleep(5)")
    finally:
        conn.close()


def test_a_committed_event_survives_a_crash_of_the_server(
    postgres: PostgresServer, database: str, today: date
) -> None:
    event_id = "9a7b5c3d-1e2f-4a6b-8c0d-e1f2a3b4c5d6"
    conn = psycopg2.connect(database)
    try:
        with conn, conn.cursor() as cur:
            assert insert_raw_log(cur, midday(today), event_id) == 1
    finally:
        conn.close()

    postgres.stop(mode="immediate")
    postgres.start()

    assert scalar(database, "SELECT count(*) FROM raw_logs WHERE event_id = %s", (event_id,)) == 1
