"""The event contract: the one JSON object per syslog line that rsyslog sends and Kafka carries.

Every stage reads events through this module: the rsyslog template writes the canonical names,
the producer normalises what arrives (accepting the synonyms people use in their own rsyslog
templates), gives each event its stable id and publishes it; both consumers read it back with
``Event.from_json``. docs/event-contract.md describes the same contract for people.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

# The canonical field names, exactly as the rsyslog template writes them.
FIELDS = (
    "timereported",
    "timegenerated",
    "hostname",
    "fromhost-ip",
    "programname",
    "syslogtag",
    "severity",
    "facility",
    "msg",
)

# Names seen in hand-written rsyslog JSON templates, mapped to the canonical field. The first
# name present wins, canonical names first.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "timereported": ("timereported", "@timestamp", "timestamp", "time"),
    "timegenerated": ("timegenerated", "received_at", "time_rcvd"),
    "hostname": ("hostname", "host", "logsource", "source"),
    "fromhost-ip": ("fromhost-ip", "fromhost_ip", "source_ip", "relayip"),
    "programname": ("programname", "program", "app-name", "appname", "app"),
    "syslogtag": ("syslogtag", "tag"),
    "severity": ("severity", "syslogseverity", "level", "severity_label", "syslog_sever"),
    "facility": ("facility", "syslogfacility", "syslog_fac"),
    "msg": ("msg", "message"),
}

SEVERITY_NAMES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
_SEVERITY_ALIASES = {
    "emergency": 0,
    "panic": 0,
    "critical": 2,
    "error": 3,
    "warn": 4,
    "informational": 6,
}
FACILITY_NAMES = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
    "authpriv", "ftp", "ntp", "audit", "alert", "clock",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    "invld",  # rsyslog's facility 24: the line's <PRI> was malformed
)  # fmt: skip

# Optional fields kept when present (RFC 5424 parts and rsyslog's message uuid).
OPTIONAL_FIELDS = ("app-name", "procid", "msgid", "structured-data", "uuid")

# Namespace for ids derived from content when the sender gave no uuid.
_ID_NAMESPACE = uuid.UUID("5f0e4a52-8c1b-4b7e-9a57-3c1d6f1f2a10")

UNKNOWN_SENDER = "unknown"

# timegenerated is when rsyslog on this host received the line; one further ahead of this host's
# clock than a day is no receive time at all, and would open partitions and metric hours in years
# no dashboard looks at.
_AHEAD = timedelta(days=1)

# The sender's address is the router's key in every table and index; PostgreSQL refuses an index
# row past about 2.7 kB, so it stays within 255 characters (a DNS name's bound) and holds no NUL.
MAX_SENDER_CHARS = 255


class ContractError(ValueError):
    """An input object that cannot become an event; ``reason`` is a stable snake_case word."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Event:
    """One syslog line as LogWeave carries it. Times are timezone-aware UTC."""

    id: str
    timereported: datetime
    timegenerated: datetime
    hostname: str
    fromhost_ip: str
    programname: str
    syslogtag: str
    severity: int
    facility: int
    msg: str
    extra: dict[str, str]

    @property
    def key(self) -> bytes:
        """Kafka key: the sending device, so one router's lines stay in order."""
        return self.fromhost_ip.encode()

    @property
    def severity_name(self) -> str:
        return SEVERITY_NAMES[self.severity]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "timereported": _iso(self.timereported),
            "timegenerated": _iso(self.timegenerated),
            "hostname": self.hostname,
            "fromhost-ip": self.fromhost_ip,
            "programname": self.programname,
            "syslogtag": self.syslogtag,
            "severity": self.severity,
            "facility": self.facility,
            "msg": self.msg,
        }
        out.update(self.extra)
        return out

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, value: bytes | None) -> Event:
        """Read an event that the producer published (already normalised, id included)."""
        if value is None:
            raise ContractError("not_an_event", "Kafka record without a value")
        data = json.loads(value)
        if not isinstance(data, dict) or "id" not in data:
            raise ContractError("not_an_event", "Kafka value is not a LogWeave event object")
        return normalise(data, received=None)


def normalise(data: dict[str, Any], received: datetime | None) -> Event:
    """Turn one decoded JSON object into an Event, or raise ContractError naming the problem.

    ``received`` is the producer's clock, used when the object carries no receive time; None means
    the object must carry one (events read back from Kafka always do).
    """
    fields = {name: _first(data, name) for name in FIELDS}

    msg = _first(data, "msg", keep_empty=True)
    if msg is None:
        raise ContractError("missing_field", "no msg (or message) field")
    if not isinstance(msg, str):
        raise ContractError("bad_field", f"msg must be a string, got {type(msg).__name__}")

    generated = _parse_time(fields["timegenerated"], "timegenerated")
    if generated is None:
        if received is None:
            raise ContractError("missing_field", "no timegenerated field")
        generated = received
    elif received is not None and generated > received + _AHEAD:
        raise ContractError(
            "bad_field",
            f"timegenerated {fields['timegenerated']!r} is ahead of this host's clock"
            f" ({_iso(received)})",
        )
    reported = _parse_time(fields["timereported"], "timereported") or generated

    _check_sender(fields["fromhost-ip"])
    extra = {k: str(data[k]) for k in OPTIONAL_FIELDS if data.get(k) not in (None, "", "-")}
    event = Event(
        id="",
        timereported=reported,
        timegenerated=generated,
        hostname=_text(fields["hostname"]),
        fromhost_ip=_text(fields["fromhost-ip"]) or UNKNOWN_SENDER,
        programname=_text(fields["programname"]),
        syslogtag=_text(fields["syslogtag"]),
        severity=_severity(fields["severity"]),
        facility=_facility(fields["facility"]),
        msg=msg,
        extra=extra,
    )
    _check_unicode(event)
    event_id = _given_id(data) or _content_id(event)
    return replace(event, id=event_id)


def _first(data: dict[str, Any], name: str, keep_empty: bool = False) -> Any:
    for candidate in SYNONYMS[name]:
        value = data.get(candidate)
        if value is not None and (keep_empty or value != ""):
            return value
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise ContractError("bad_field", f"expected text, got {type(value).__name__}")
    return str(value)


def _check_sender(value: Any) -> None:
    if not isinstance(value, str):
        return
    if len(value) > MAX_SENDER_CHARS:
        raise ContractError(
            "bad_field", f"fromhost-ip is {len(value)} characters long, at most {MAX_SENDER_CHARS}"
        )
    if "\x00" in value:
        raise ContractError("bad_field", f"fromhost-ip contains a NUL character: {value!r}")


def _check_unicode(event: Event) -> None:
    """JSON may escape a lone UTF-16 surrogate (\\ud800); no UTF-8 text can carry it on."""
    try:
        json.dumps(event.to_dict(), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise ContractError(
            "bad_field", "a text field holds an unpaired UTF-16 surrogate, not valid Unicode"
        ) from None


def _parse_time(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ContractError("bad_field", f"{name} must be an RFC 3339 string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ContractError("bad_field", f"{name} is not an RFC 3339 time: {value!r}") from None
    if parsed.tzinfo is None:
        # rsyslog's date-rfc3339 always carries an offset; a bare time is taken as UTC.
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ContractError("bad_field", f"{name} is out of range in UTC: {value!r}") from None


def _severity(value: Any) -> int:
    if value is None:
        return 6  # syslog's default for a line without PRI is user.notice; info reads truer
    return _code(value, SEVERITY_NAMES, _SEVERITY_ALIASES, 7, "severity")


def _facility(value: Any) -> int:
    if value is None:
        return 1
    return _code(value, FACILITY_NAMES, {"security": 4, "cron2": 15}, 24, "facility")


def _code(value: Any, names: tuple[str, ...], aliases: dict[str, int], top: int, what: str) -> int:
    if isinstance(value, bool):
        raise ContractError("bad_field", f"{what} must be a number or a name, got {value!r}")
    if isinstance(value, int) and 0 <= value <= top:
        return value
    text = str(value).strip().lower()
    if text.isdigit() and 0 <= int(text) <= top:
        return int(text)
    if text in names:
        return names.index(text)
    if text in aliases:
        return aliases[text]
    raise ContractError("bad_field", f"{what} {value!r} is not 0-{top} or a syslog name")


def _given_id(data: dict[str, Any]) -> str | None:
    """rsyslog's per-message uuid (or an id we published before) survives redelivery."""
    for name in ("id", "uuid"):
        value = data.get(name)
        if isinstance(value, str) and value:
            try:
                return str(uuid.UUID(value))
            except ValueError:
                raise ContractError("bad_field", f"{name} is not a UUID: {value!r}") from None
    return None


def _content_id(event: Event) -> str:
    """A stable id from the content for senders without a uuid: the same object, the same id."""
    canonical = json.dumps(
        {k: v for k, v in event.to_dict().items() if k != "id"},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return str(uuid.uuid5(_ID_NAMESPACE, digest))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
