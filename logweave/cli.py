"""The ``logweave`` command and the flags every LogWeave program shares."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from logweave import __version__
from logweave.config import ConfigError, Settings, describe, load
from logweave.service import setup_logging


def add_common_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="settings file (default /etc/logweave/logweave.toml)")
    parser.add_argument("--kafka-bootstrap", help="Kafka bootstrap servers, host:port[,...]")
    parser.add_argument("--postgres-dsn", help="libpq connection string")
    parser.add_argument("--listen", help="producer TCP address, host:port")
    parser.add_argument("--log-level", help="debug, info, warning or error")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override any setting (repeatable)",
    )


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set {item!r}: expected SECTION.KEY=VALUE")
        overrides[key.strip()] = value
    flags = {
        "kafka.bootstrap": args.kafka_bootstrap,
        "postgres.dsn": args.postgres_dsn,
        "producer.listen": args.listen,
        "service.log_level": args.log_level,
    }
    overrides.update({k: v for k, v in flags.items() if v is not None})
    return load(args.config, overrides)


def service_settings(prog: str, argv: Sequence[str] | None) -> Settings:
    """Flags, settings and logging for one of the three services; exits 2 on a bad setting."""
    parser = argparse.ArgumentParser(prog=prog, description=f"LogWeave {prog}")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_common_flags(parser)
    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
    except ConfigError as exc:
        _fail(prog, exc)
    setup_logging(settings.service.log_level)
    return settings


def _fail(prog: str, exc: Exception) -> NoReturn:
    print(f"{prog}: {exc}", file=sys.stderr)
    sys.exit(2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="logweave", description="LogWeave operator commands")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    for name, help_text in (
        ("status", "topic offsets, consumer lag, table counts and newest events"),
        ("migrate", "apply the database migrations in sql/ (idempotent)"),
        ("check-config", "validate the settings file and print the effective settings"),
        ("create-topics", "create the event and dead-letter topics if missing (idempotent)"),
    ):
        sub = commands.add_parser(name, help=help_text)
        add_common_flags(sub)
        if name == "status":
            sub.add_argument("--json", action="store_true", help="print JSON")
    commands.add_parser("simulate", help="write simulated router syslog traffic", add_help=False)
    parse_command = commands.add_parser(
        "parse", help="show how each line of a router's log is read (what the metrics store)"
    )
    add_common_flags(parse_command)
    from logweave import parse_cli

    parse_cli.add_arguments(parse_command)

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["simulate"]:
        from logweave import simulate

        return simulate.main(argv[1:])

    args = parser.parse_args(argv)
    try:
        settings = settings_from_args(args)
    except ConfigError as exc:
        _fail(f"logweave {args.command}", exc)
    setup_logging(settings.service.log_level)

    if args.command == "check-config":
        return _check_config(settings)
    if args.command == "parse":
        return parse_cli.run(args, settings)
    if args.command == "migrate":
        from logweave.migrate import migrate

        applied = migrate(settings.postgres_dsn())
        print(f"applied {len(applied)} migration(s){': ' if applied else ''}{', '.join(applied)}")
        return 0
    if args.command == "create-topics":
        from logweave.kafka import create_topics

        created = create_topics(settings)
        print(f"created {len(created)} topic(s){': ' if created else ''}{', '.join(created)}")
        return 0
    from logweave.status import collect, render

    report = collect(settings)
    print(json.dumps(report, indent=2, default=str) if args.json else render(report))
    return 0 if report.get("ok") else 1


def _check_config(settings: Settings) -> int:
    for dotted, _default, _doc in describe():
        section, key = dotted.split(".")
        value = getattr(getattr(settings, section), key)
        if isinstance(value, str):
            value = re.sub(r"password\s*=\s*('[^']*'|\S+)", "password=***", value)
            # postgresql://user:secret@host/db carries it in the URI's user part
            value = re.sub(r"(://[^:/@\s]*):[^@/\s]*@", r"\1:***@", value)
        print(f"{dotted} = {value!r}")
    settings.postgres_dsn()  # reads the password file, so a missing one fails here
    print("configuration ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
