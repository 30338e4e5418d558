"""Migrations: applied once each and in order, edits refused, and shipped inside the wheel."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from logweave.migrate import LOCK_KEY, MigrationError, load_migrations, migrate, migrations_dir
from tests.harness.postgres import PostgresServer

REPO = Path(__file__).resolve().parent.parent
MIGRATIONS = REPO / "sql" / "migrations"
# The repository's migrations, in the order their names give; the ones every later one builds on
# are named here, so that a renamed or lost one fails.
VERSIONS = sorted(path.stem for path in MIGRATIONS.glob("*.sql"))
FOUNDATION = [
    "0001_roles",
    "0002_partition_functions",
    "0003_raw_logs",
    "0004_parsed_events",
    "0005_metrics",
    "0006_dead_letters",
    "0007_consumer_progress",
    "0008_events_once",
]


def rows(dsn: str, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(query, args)
            return list(cur.fetchall())
    finally:
        conn.close()


def write_migrations(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_the_package_reads_the_repository_migrations_in_order() -> None:
    assert [m.version for m in load_migrations()] == VERSIONS
    assert VERSIONS[: len(FOUNDATION)] == FOUNDATION
    assert Path(str(migrations_dir())) == MIGRATIONS


def test_a_badly_named_migration_file_is_refused(tmp_path: Path) -> None:
    write_migrations(tmp_path, {"0001_first.sql": "SELECT 1;", "2_second.sql": "SELECT 1;"})
    with pytest.raises(
        MigrationError, match=r"^migration file 2_second.sql: name must be NNNN_lowercase_words"
    ):
        load_migrations(tmp_path)


def test_two_migrations_with_one_number_are_refused(tmp_path: Path) -> None:
    write_migrations(tmp_path, {"0001_first.sql": "SELECT 1;", "0001_other.sql": "SELECT 1;"})
    with pytest.raises(MigrationError, match=r"migration numbers used twice in .*: 0001$"):
        load_migrations(tmp_path)


@pytest.mark.integration
def test_migrations_apply_from_empty_then_a_second_run_applies_nothing(
    postgres: PostgresServer,
) -> None:
    dsn = postgres.create_database("logweave_migrate_twice")

    assert migrate(dsn) == VERSIONS
    assert migrate(dsn) == []

    recorded = rows(dsn, "SELECT version, checksum FROM schema_migrations ORDER BY version")
    assert recorded == [
        (path.stem, hashlib.sha256(path.read_bytes()).hexdigest())
        for path in sorted(MIGRATIONS.glob("*.sql"))
    ]


@pytest.mark.integration
def test_a_migration_changed_after_it_was_applied_is_refused(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    dsn = postgres.create_database("logweave_migrate_changed")
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    migrate(dsn, directory=folder)

    edited = folder / "0003_raw_logs.sql"
    before = hashlib.sha256(edited.read_bytes()).hexdigest()
    edited.write_text(edited.read_text() + "\nCREATE INDEX raw_logs_msg ON raw_logs (msg);\n")
    after = hashlib.sha256(edited.read_bytes()).hexdigest()
    write_migrations(folder, {"0099_later.sql": "CREATE TABLE later (id int);"})

    with pytest.raises(MigrationError) as refused:
        migrate(dsn, directory=folder)
    assert str(refused.value) == (
        f"migration 0003_raw_logs was changed after it was applied (database sha256 "
        f"{before[:12]}, file sha256 {after[:12]}): restore the file as it was and put the "
        "change in a new migration"
    )
    # Refused before anything ran: the later migration is not applied either.
    assert rows(dsn, "SELECT count(*) FROM schema_migrations") == [(len(VERSIONS),)]


@pytest.mark.integration
def test_a_failing_migration_is_rolled_back_whole_and_stops_the_run(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    dsn = postgres.create_database("logweave_migrate_failing")
    folder = write_migrations(
        tmp_path,
        {
            "0001_devices.sql": "CREATE TABLE devices (mac text PRIMARY KEY);",
            "0002_broken.sql": "CREATE TABLE leases (ip text);\nINSERT INTO nowhere VALUES (1);",
            "0003_after.sql": "CREATE TABLE after_broken (id int);",
        },
    )

    with pytest.raises(
        MigrationError,
        match=r'^migration 0002_broken failed and was rolled back: relation "nowhere" does not',
    ):
        migrate(dsn, directory=folder)

    assert rows(dsn, "SELECT version FROM schema_migrations") == [("0001_devices",)]
    assert rows(
        dsn,
        "SELECT to_regclass('devices') IS NOT NULL, to_regclass('leases') IS NOT NULL, "
        "to_regclass('after_broken') IS NOT NULL",
    ) == [(True, False, False)]


@pytest.mark.integration
def test_a_new_migration_numbered_before_an_applied_one_is_refused(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    dsn = postgres.create_database("logweave_migrate_order")
    folder = write_migrations(
        tmp_path,
        {"0001_devices.sql": "CREATE TABLE devices ();", "0003_leases.sql": "CREATE TABLE l ();"},
    )
    assert migrate(dsn, directory=folder) == ["0001_devices", "0003_leases"]

    write_migrations(folder, {"0002_late.sql": "CREATE TABLE late ();"})
    with pytest.raises(
        MigrationError, match=r"^migration 0002_late is new but 0003_leases is already applied"
    ):
        migrate(dsn, directory=folder)


@pytest.mark.integration
def test_two_runs_at_once_apply_each_migration_once(postgres: PostgresServer) -> None:
    dsn = postgres.create_database("logweave_migrate_concurrent")
    results: list[list[str]] = []
    runs = [threading.Thread(target=lambda: results.append(migrate(dsn))) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(60)

    assert sorted(results) == [[], VERSIONS]


@pytest.mark.integration
def test_migrate_gives_up_when_another_run_holds_the_lock_too_long(
    postgres: PostgresServer,
) -> None:
    dsn = postgres.create_database("logweave_migrate_locked")
    holder = psycopg2.connect(dsn)
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        with pytest.raises(MigrationError) as refused:
            migrate(dsn, lock_timeout_s=0.5)
    finally:
        holder.close()
    assert str(refused.value) == (
        "another logweave migrate has held the migration lock for over 0.5 s; let it finish, "
        "or find it in pg_stat_activity (application_name logweave-migrate)"
    )


def test_the_wheel_carries_the_migrations_and_every_module(tmp_path: Path) -> None:
    # Build from a copy, so the build leaves nothing in the working tree.
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(REPO / "pyproject.toml", source)
    for folder in ("logweave", "sql"):
        shutil.copytree(
            REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    if (REPO / "README.md").exists():
        shutil.copy(REPO / "README.md", source)
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(dist)])

    (wheel,) = dist.glob("logweave-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped_sql = sorted(n for n in names if n.endswith(".sql"))
    assert shipped_sql == [f"logweave/sql/migrations/{v}.sql" for v in VERSIONS]
    modules = {str(p.relative_to(REPO)) for p in (REPO / "logweave").rglob("*.py")}
    missing = sorted(modules - names)
    assert missing == [], "add their packages to [tool.setuptools] packages in pyproject.toml"

    # Installed without the repository next to it, the package still finds its SQL.
    site = tmp_path / "site"
    run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel)])
    probe = (
        "from logweave.migrate import load_migrations, migrations_dir;"
        "print(migrations_dir());"
        "print(','.join(m.version for m in load_migrations()))"
    )
    found = run([sys.executable, "-c", probe], cwd=tmp_path, env_path=site)
    assert found.splitlines() == [
        str(site / "logweave" / "sql" / "migrations"),
        ",".join(VERSIONS),
    ]


def run(command: list[str], cwd: Path | None = None, env_path: Path | None = None) -> str:
    env = None
    if env_path is not None:
        env = {"PYTHONPATH": str(env_path), "PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1"}
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout
