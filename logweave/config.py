"""Settings for every LogWeave program, in one place.

Precedence, highest first: command-line flags, ``LOGWEAVE_<SECTION>_<KEY>`` environment
variables, the TOML file (``/etc/logweave/logweave.toml`` unless ``--config`` or
``LOGWEAVE_CONFIG`` names another), then the defaults below. Every value is checked at start and
a bad one stops the program with an error that names the key.
"""

from __future__ import annotations

import ipaddress
import math
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path("/etc/logweave/logweave.toml")


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the key and what was expected."""


def _host_port(value: Any) -> str:
    text = str(value)
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, got {text!r}")
    return text


def _host_ports(value: Any) -> str:
    for part in str(value).split(","):
        _host_port(part.strip())
    return str(value)


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"expected a positive whole number, got {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"expected a positive whole number, got {value!r}") from None
    if number <= 0:
        raise ValueError(f"expected a positive whole number, got {value!r}")
    return number


def _positive_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a positive number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a positive number, got {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"expected a positive number, got {value!r}")
    return number


# A line becomes one Kafka message, JSON-escaped (a control character takes six bytes); up to this
# length every event and dead letter stays under the clients' 1 MiB request limit, beyond which
# Kafka refuses a message on every retry.
MAX_LINE_BYTES = 131072


def _line_limit(value: Any) -> int:
    number = _positive_int(value)
    if number > MAX_LINE_BYTES:
        raise ValueError(
            f"expected at most {MAX_LINE_BYTES} (Kafka's message limit), got {value!r}"
        )
    return number


def _topic(value: Any) -> str:
    text = str(value)
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    if not text or len(text) > 249 or not set(text) <= allowed:
        raise ValueError(f"expected a Kafka topic name (letters, digits, . _ -), got {text!r}")
    return text


def _one_of(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = str(value).lower()
        if text not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {value!r}")
        return text

    return check


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {value!r}")
    return value


def _zone(value: Any) -> str:
    from logweave.timeinfo import zone_named

    text = _text(value)
    zone_named(text)
    return text


def _setting(default: Any, check: Callable[[Any], Any], doc: str) -> Any:
    return field(default=default, metadata={"check": check, "doc": doc})


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap: str = _setting("127.0.0.1:9092", _host_ports, "Kafka bootstrap servers")
    topic: str = _setting("router.logs", _topic, "topic for valid events")
    dlq_topic: str = _setting("router.logs.dlq", _topic, "dead-letter topic for rejected input")
    client_id: str = _setting("logweave", _text, "client id shown in broker logs")
    request_timeout_ms: int = _setting(15000, _positive_int, "timeout of one Kafka request")
    partitions: int = _setting(3, _positive_int, "partitions of the event topic")
    retention_hours: int = _setting(168, _positive_int, "how long Kafka keeps events")
    dlq_retention_hours: int = _setting(720, _positive_int, "how long Kafka keeps dead letters")


@dataclass(frozen=True)
class ProducerSettings:
    listen: str = _setting("127.0.0.1:10514", _host_port, "TCP address rsyslog forwards to")
    max_line_bytes: int = _setting(65536, _line_limit, "longest accepted line")
    max_in_flight: int = _setting(
        2000, _positive_int, "events held unacknowledged before sockets stop being read"
    )
    max_connections: int = _setting(256, _positive_int, "open connections at most")
    linger_ms: int = _setting(50, _positive_int, "wait to fill a Kafka batch")
    compression: str = _setting("gzip", _one_of("gzip", "none"), "compression of Kafka batches")


@dataclass(frozen=True)
class PostgresSettings:
    dsn: str = _setting(
        "host=127.0.0.1 port=5432 dbname=logweave user=logweave",
        _text,
        "libpq connection string (no password: use password_file)",
    )
    password_file: str = _setting("", _text, "file holding the password (empty: none)")
    statement_timeout_ms: int = _setting(
        30000, _positive_int, "abort a database call that takes longer"
    )
    retention_days: int = _setting(
        30, _positive_int, "days of raw_logs and parsed_events kept (whole days are dropped)"
    )
    partitions_ahead_days: int = _setting(7, _positive_int, "daily partitions made in advance")
    maintenance_interval_s: float = _setting(
        3600.0, _positive_float, "how often a consumer makes and drops partitions"
    )


@dataclass(frozen=True)
class ConsumerSettings:
    group: str = _setting("", _text, "Kafka consumer group (empty: the service's own)")
    batch_size: int = _setting(1000, _positive_int, "events per database transaction at most")
    batch_wait_ms: int = _setting(500, _positive_int, "wait to fill a batch")


@dataclass(frozen=True)
class ServiceSettings:
    log_level: str = _setting(
        "info", _one_of("debug", "info", "warning", "error"), "logging threshold"
    )
    drain_timeout_s: float = _setting(10.0, _positive_float, "SIGTERM drain bound")
    retry_initial_s: float = _setting(0.5, _positive_float, "first reconnect wait")
    retry_max_s: float = _setting(30.0, _positive_float, "longest reconnect wait")
    status_interval_s: float = _setting(5.0, _positive_float, "STATUS= update period")
    rejects_logged_per_minute: int = _setting(
        10, _positive_int, "rejected-input log lines per minute and reason"
    )


@dataclass(frozen=True)
class ParsingSettings:
    timezone: str = _setting(
        "", _zone, "zone of routers not in [routers] (IANA name; empty: this host's)"
    )
    receiver_timezone: str = _setting(
        "", _zone, "zone rsyslog runs in, where it read RFC 3164 times (empty: this host's)"
    )
    clock_skew_s: float = _setting(
        300.0, _positive_float, "device time this far from the receive time is clock skew"
    )
    correlation_window_s: float = _setting(
        30.0, _positive_float, "reports of one event and lines of one record lie this close"
    )
    oui_file: str = _setting(
        "", _text, "IEEE OUI list, oui.csv or oui.txt (empty: Debian's ieee-data files)"
    )


@dataclass(frozen=True)
class RouterSettings:
    """One router of the ``[routers]`` table, keyed by the address it sends from."""

    name: str = ""
    timezone: str = ""


@dataclass(frozen=True)
class Settings:
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    producer: ProducerSettings = field(default_factory=ProducerSettings)
    postgres: PostgresSettings = field(default_factory=PostgresSettings)
    archive: ConsumerSettings = field(default_factory=ConsumerSettings)
    metrics: ConsumerSettings = field(default_factory=ConsumerSettings)
    service: ServiceSettings = field(default_factory=ServiceSettings)
    parsing: ParsingSettings = field(default_factory=ParsingSettings)
    # Sender address (fromhost-ip) -> name and zone. Read from the file only: a table of tables
    # has no LOGWEAVE_<SECTION>_<KEY> variable.
    routers: Mapping[str, RouterSettings] = field(default_factory=dict)

    def postgres_dsn(self) -> str:
        """The DSN with the password from password_file appended, when one is set."""
        if not self.postgres.password_file:
            return self.postgres.dsn
        path = Path(os.path.expandvars(self.postgres.password_file))
        try:
            password = path.read_text().strip()
        except OSError as exc:
            raise ConfigError(
                f"config key postgres.password_file: cannot read {path}: {exc}"
            ) from None
        escaped = password.replace("\\", "\\\\").replace("'", "\\'")
        return f"{self.postgres.dsn} password='{escaped}'"


SECTIONS: dict[str, Callable[[], Any]] = {
    "kafka": KafkaSettings,
    "producer": ProducerSettings,
    "postgres": PostgresSettings,
    "archive": ConsumerSettings,
    "metrics": ConsumerSettings,
    "service": ServiceSettings,
    "parsing": ParsingSettings,
}
ROUTERS_SECTION = "routers"


def load(
    path: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read the file, then environment, then ``overrides`` ("section.key" -> value)."""
    environ = os.environ if environ is None else environ
    explicit = path is not None or "LOGWEAVE_CONFIG" in environ
    config_path = Path(path or environ.get("LOGWEAVE_CONFIG") or DEFAULT_PATH)

    values: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    routers: dict[str, RouterSettings] = {}
    if config_path.exists():
        routers = _merge_file(values, config_path)
    elif explicit:
        raise ConfigError(f"config file {config_path} does not exist")
    _merge_env(values, environ)
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        _check_known(section, key, dotted)
        values[section][key] = value
    return replace(_build(values), routers=routers)


def describe() -> list[tuple[str, Any, str]]:
    """Every setting as (section.key, default, description), for docs and check-config."""
    out = []
    for section, factory in SECTIONS.items():
        for f in fields(factory()):
            out.append((f"{section}.{f.name}", f.default, f.metadata["doc"]))
    return out


def _merge_file(values: dict[str, dict[str, Any]], path: Path) -> dict[str, RouterSettings]:
    """The file's sections into ``values``; returns its ``[routers]`` table, checked."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    routers: dict[str, RouterSettings] = {}
    for section, table in data.items():
        if section not in SECTIONS and section != ROUTERS_SECTION:
            raise ConfigError(f"config file {path}: unknown section [{section}]")
        if not isinstance(table, dict):
            raise ConfigError(f"config file {path}: [{section}] must be a table")
        if section == ROUTERS_SECTION:
            routers = _routers(table)
            continue
        for key, value in table.items():
            _check_known(section, key, f"{section}.{key}")
            values[section][key] = value
    return routers


def _routers(table: dict[str, Any]) -> dict[str, RouterSettings]:
    """``[routers."192.168.1.1"] name = "gw", timezone = "Europe/Berlin"`` entries, checked."""
    routers = {}
    known = {f.name for f in fields(RouterSettings)}
    for address, entry in table.items():
        where = f'config key routers."{address}"'
        try:
            canonical = str(ipaddress.ip_address(address))  # as rsyslog writes fromhost-ip
        except ValueError:
            raise ConfigError(
                f"{where}: expected the router's sender address (an IP address)"
            ) from None
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a table with name and timezone")
        for key, value in entry.items():
            if key not in known:
                raise ConfigError(f"{where}.{key}: no such setting (name, timezone)")
            try:
                _zone(value) if key == "timezone" else _text(value)
            except ValueError as exc:
                raise ConfigError(f"{where}.{key}: {exc}") from None
        routers[canonical] = RouterSettings(**entry)
    return routers


def _merge_env(values: dict[str, dict[str, Any]], environ: Mapping[str, str]) -> None:
    for section, factory in SECTIONS.items():
        for f in fields(factory()):
            name = f"LOGWEAVE_{section}_{f.name}".upper()
            if name in environ:
                values[section][f.name] = environ[name]


def _check_known(section: str, key: str, dotted: str) -> None:
    if section not in SECTIONS or key not in {f.name for f in fields(SECTIONS[section]())}:
        raise ConfigError(f"config key {dotted}: no such setting")


def _build(values: dict[str, dict[str, Any]]) -> Settings:
    built: dict[str, Any] = {}
    for section, factory in SECTIONS.items():
        base = factory()
        checked = {}
        for f in fields(base):
            if f.name in values[section]:
                try:
                    checked[f.name] = f.metadata["check"](values[section][f.name])
                except ValueError as exc:
                    raise ConfigError(f"config key {section}.{f.name}: {exc}") from None
        built[section] = replace(base, **checked)
    return Settings(**built)
