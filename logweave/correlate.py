"""One event, several lines: which lines repeat an event already counted or belong to a record.

A router often reports one event more than once: hostapd's ``associated`` and its
``AP-STA-CONNECTED``, pppd's and netifd's words for one PPPoE drop, syslogd's "last message
repeated", a kernel message read once from the console and once from syslog. And some records
take several lines: a RouterOS DHCP packet logs each field on a line of its own, a Fritz!Box
page shows date, time and text on three, a long message wraps. The metrics count each event
once, so each line is read in the context of the lines its router sent before it:

- a **duplicate** (``dup_of``) is a report of the same kind about the same subject (the client
  MAC; for the WAN, the WAN; for a system error what the parser names) within the window of
  the latest such report (for a station, from the same radio), in other words than that
  report. The same words again mean the same thing happened again (a client retrying
  DHCPREQUEST, a WAN that flaps); other words for it within seconds are the other daemon's view
  of the same change. A kernel message whose uptime stamp and text were seen within the window
  by the other path (console or syslog) is one too, and so is "last message repeated", which
  repeats the line before it.
- a **part** (``part_of``) is a field line of the record its router opened just before it, within
  the window; the date and time lines of the Fritz!Box entry that follows them; or a bare line
  (no time, no host, no tag, nothing a parser knows) right after another line: its wrapped end.
  A record's fields are folded into the line that opened it, which is amended afterwards.

Each router's stream is read in the order its lines arrived (Kafka keeps one router on one
partition), and ``Stream`` holds what a later line needs of the earlier ones, so the same lines
give the same readings in ``logweave parse`` and in the metrics consumer, whatever the batches.
The window is compared with the device time where the line has one (the router's clock says
best which reports came together) and the receive time where it has not.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from logweave.parsers import record_values
from logweave.parsers.base import Kind, Parsed, Role

# Reports and kernel stamps remembered per router: enough for any window of seconds, bounded
# against a router that sends thousands of distinct clients.
_MAX_REPORTS = 512
_MAX_STAMPS = 256


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a router, read on its own, and what its header showed.

    ``ref`` names the line (the event id; the line number in ``logweave parse``). ``at`` is the
    device time, None when the line carried none. ``bare`` is True for a line with no time, no
    hostname and no ``tag:`` of its own, as the wrapped end of a line arrives.
    """

    ref: str
    received: datetime
    at: datetime | None
    parsed: Parsed
    bare: bool = False


@dataclass(frozen=True, slots=True)
class Reading:
    """A line read in its context. ``counted`` is False for a duplicate and for a part."""

    ref: str
    parsed: Parsed
    counted: bool
    dup_of: str | None = None
    part_of: str | None = None


@dataclass(frozen=True, slots=True)
class Amendment:
    """A change to a line read before: its record learnt the client, or it learnt its entry."""

    ref: str
    received: datetime
    mac: str | None = None
    ip: str | None = None
    hostname: str | None = None
    part_of: str | None = None


# --- what a router's earlier lines leave behind ------------------------------------------------


@dataclass
class _Report:
    kind: str
    signature: str
    at: datetime
    event: str
    radio: str | None = None  # the Wi-Fi interface a station report names


@dataclass
class _Stamp:
    event: str
    received: datetime


@dataclass
class _Record:
    ref: str
    received: datetime
    at: datetime
    family: str
    kind: str
    signature: str
    fields: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class _Fragment:
    ref: str
    received: datetime


@dataclass
class _Last:
    ref: str
    record: str  # what a wrapped end of this line is part of
    event: str  # the counted event this line reports
    received: datetime
    parsed: dict[str, Any]


# The fields of a line that "last message repeated" repeats.
_REPEATED_FIELDS = (
    "kind", "family", "parse_ok", "mac", "ip", "hostname", "iface", "ssid", "band", "program",
    "dst", "proto", "dport",
)  # fmt: skip


@dataclass
class Stream:
    """One router's context: the latest report per subject, recent kernel stamps, the open
    record, date and time lines waiting for their entry, and the line before.
    """

    reports: dict[str, _Report] = field(default_factory=dict)
    stamps: dict[str, _Stamp] = field(default_factory=dict)
    record: _Record | None = None
    fragments: list[_Fragment] = field(default_factory=list)
    last: _Last | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = _jsonable(dataclasses.asdict(self))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stream:
        record, last = data.get("record"), data.get("last")
        return cls(
            reports={k: _Report(**_times(v, "at")) for k, v in data.get("reports", {}).items()},
            stamps={k: _Stamp(**_times(v, "received")) for k, v in data.get("stamps", {}).items()},
            record=_Record(**_times(record, "received", "at")) if record else None,
            fragments=[_Fragment(**_times(f, "received")) for f in data.get("fragments", [])],
            last=_Last(**_times(last, "received")) if last else None,
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _times(data: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: datetime.fromisoformat(v) if k in names else v for k, v in data.items()}


# --- reading ------------------------------------------------------------------------------------


class Correlator:
    """Reads each router's lines in order; ``streams`` is the context to keep between batches."""

    def __init__(self, window: timedelta, streams: dict[str, Stream] | None = None) -> None:
        self.window = window
        self.streams: dict[str, Stream] = streams if streams is not None else {}

    def read(self, router: str, entry: Entry) -> tuple[Reading, list[Amendment]]:
        stream = self.streams.setdefault(router, Stream())
        reading, amendments = self._read(stream, entry)
        stream.last = _last(entry, reading, stream.last)
        return reading, amendments

    def _read(self, stream: Stream, entry: Entry) -> tuple[Reading, list[Amendment]]:
        parsed = entry.parsed
        at = entry.at or entry.received

        if parsed.role is Role.RECORD_FIELD:
            part = self._record_field(stream, entry, at)
            if part is not None:
                return part
        stream.record = None

        if parsed.role is Role.FRAGMENT:
            waiting = self._recent(stream.fragments, entry.received)
            stream.fragments = [*waiting, _Fragment(entry.ref, entry.received)]
            return Reading(entry.ref, parsed, counted=False), []
        amendments = [
            Amendment(fragment.ref, fragment.received, part_of=entry.ref)
            for fragment in self._recent(stream.fragments, entry.received)
        ]
        stream.fragments = []

        last = stream.last
        if parsed.role is Role.REPEAT and last is not None:
            values = {**last.parsed, "kind": Kind(last.parsed["kind"])}
            repeated = dataclasses.replace(parsed, **values)
            return Reading(entry.ref, repeated, counted=False, dup_of=last.event), amendments
        if (
            entry.bare
            and not parsed.parse_ok
            and parsed.fingerprint is None
            and last is not None
            and abs(entry.received - last.received) <= self.window
        ):
            return Reading(entry.ref, parsed, counted=False, part_of=last.record), amendments

        duplicate = self._same_kernel_message(stream, entry) or self._same_report(stream, entry, at)
        if duplicate is not None:
            return Reading(entry.ref, parsed, counted=False, dup_of=duplicate), amendments

        if parsed.role is Role.RECORD_START:
            stream.record = _Record(
                entry.ref, entry.received, at, parsed.family, parsed.kind.value, _signature(parsed)
            )
        return Reading(entry.ref, parsed, counted=True), amendments

    def _record_field(
        self, stream: Stream, entry: Entry, at: datetime
    ) -> tuple[Reading, list[Amendment]] | None:
        """A field of the open record, folded into it; None for a field with no record."""
        record = stream.record
        if record is None or entry.parsed.field is None or abs(at - record.at) > self.window:
            return None
        name, value = entry.parsed.field
        record.fields[name] = value
        values = record_values(record.family, record.fields)
        amendments = []
        if values != record.values:
            learnt_mac = "mac" in values and "mac" not in record.values
            record.values = values
            amendments.append(Amendment(record.ref, record.received, **values))
            if learnt_mac:
                # A later report of the same packet in other words (RouterOS's "assigned") is
                # then recognised as this record's event.
                self._remember(
                    stream, f"{Kind(record.kind).group} {values['mac']}", record, record.ref
                )
        reading = Reading(entry.ref, entry.parsed, counted=False, part_of=record.ref)
        return reading, amendments

    def _same_kernel_message(self, stream: Stream, entry: Entry) -> str | None:
        fingerprint = entry.parsed.fingerprint
        if fingerprint is None:
            return None
        seen = stream.stamps.get(fingerprint)
        if seen is not None and abs(entry.received - seen.received) <= self.window:
            return seen.event
        stream.stamps.pop(fingerprint, None)
        stream.stamps[fingerprint] = _Stamp(entry.ref, entry.received)
        _bound(stream.stamps, _MAX_STAMPS)
        return None

    def _same_report(self, stream: Stream, entry: Entry, at: datetime) -> str | None:
        parsed = entry.parsed
        key = _subject(parsed)
        if key is None:
            return None
        signature = _signature(parsed)
        previous = stream.reports.get(key)
        radio = parsed.iface if parsed.kind.group == "wifi" else None
        if (
            previous is not None
            and previous.kind == parsed.kind.value
            and previous.signature != signature
            and abs(at - previous.at) <= self.window
            # A station moving to the other band's radio of the same router is a new event.
            and not (radio and previous.radio and radio != previous.radio)
        ):
            previous.at, previous.signature = at, signature
            return previous.event
        stream.reports.pop(key, None)
        stream.reports[key] = _Report(parsed.kind.value, signature, at, entry.ref, radio)
        _bound(stream.reports, _MAX_REPORTS)
        return None

    def _remember(self, stream: Stream, key: str, record: _Record, event: str) -> None:
        stream.reports.pop(key, None)
        stream.reports[key] = _Report(record.kind, record.signature, record.at, event)
        _bound(stream.reports, _MAX_REPORTS)

    def _recent(self, fragments: list[_Fragment], received: datetime) -> list[_Fragment]:
        return [f for f in fragments if abs(received - f.received) <= self.window]


def _subject(parsed: Parsed) -> str | None:
    """What a report is about, for the kinds whose reports can repeat one event."""
    group = parsed.kind.group
    if parsed.kind is Kind.OTHER or group == "firewall":
        return None  # every dropped packet is one
    if parsed.subject is not None:
        return f"{group} {parsed.subject}"
    if group in ("wifi", "dhcp") and parsed.mac is not None:
        return f"{group} {parsed.mac}"
    if group == "wan":
        return group
    return None


def _signature(parsed: Parsed) -> str:
    """The words of a report: who said it about which interface, and how."""
    return f"{parsed.program or ''}|{parsed.iface or ''}|{parsed.detail or ''}"


def _last(entry: Entry, reading: Reading, before: _Last | None) -> _Last:
    if reading.parsed.role is Role.REPEAT and reading.dup_of is not None and before is not None:
        return before  # a second "repeated" line repeats the same line
    event = reading.dup_of or reading.part_of or reading.ref
    return _Last(
        ref=reading.ref,
        record=reading.part_of or reading.ref,
        event=event,
        received=entry.received,
        parsed={name: _plain(getattr(reading.parsed, name)) for name in _REPEATED_FIELDS},
    )


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Kind) else value


def _bound(table: dict[str, Any], size: int) -> None:
    while len(table) > size:
        del table[next(iter(table))]
