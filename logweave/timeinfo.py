"""When a router says a line happened: its own time, read in its zone, and whether its clock is off.

rsyslog reads an RFC 3164 timestamp (``Oct  7 20:34:11``) as the log host's local time in the
year it was received, and writes it with the log host's UTC offset; the producer then turns it
into UTC. That is right only for a router in the log host's zone, and wrong by a year for a
line written on Dec 31 and received on Jan 1. ``device_time`` undoes rsyslog's guess: it takes
the wall-clock time back out of ``timereported``, reads it in the router's zone, and picks the
most recent year that does not put the line in the future. Lines whose time says its zone
(RFC 5424, or an RFC 3339 stamp in an RFC 3164 line) keep it as written.

What survives in the event cannot always tell an RFC 3339 stamp from a BSD one: the producer
normalises both to UTC. A stamp with a fraction of a second, or with a year other than the
receive year, cannot be a BSD stamp (rsyslog gives those neither); one without either is taken
for a BSD stamp, which misreads an RFC 3339 stamp only for a router outside the log host's zone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from logweave.contract import Event

# How far ahead of the receive time a router's clock may run before a BSD timestamp is taken
# for last year's: a clock a few hours fast on New Year's Eve still lands in the new year.
FUTURE_TOLERANCE = timedelta(days=1)

_LOCALTIME = Path("/etc/localtime")


@dataclass(frozen=True, slots=True)
class DeviceTime:
    """A line's time as its router meant it; ``at`` is None when the line carried no time."""

    at: datetime | None
    clock_skew: bool


def host_zone() -> tzinfo:
    """The log host's zone, with its daylight-saving rules (not only today's offset)."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with _LOCALTIME.open("rb") as data:
            return ZoneInfo.from_file(data, key="localtime")
    except (OSError, ValueError):
        return UTC


def zone_named(name: str) -> tzinfo:
    """An IANA zone by name (``Europe/Berlin``, ``UTC``); the empty name is the host's zone."""
    if not name:
        return host_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"expected an IANA time zone name such as Europe/Berlin, got {name!r}"
        ) from None


def device_time(
    event: Event, router_zone: tzinfo, receiver_zone: tzinfo, skew_bound: timedelta
) -> DeviceTime:
    """The router's time for ``event`` and whether it is further than ``skew_bound`` from the
    receive time. ``receiver_zone`` is the zone rsyslog ran in (it read BSD times there).
    """
    received = event.timegenerated
    if event.timereported == received:
        return DeviceTime(None, False)  # rsyslog writes the receive time when the line has none
    at = event.timereported
    if not is_rfc5424(event):
        wall = event.timereported.astimezone(receiver_zone)
        if wall.microsecond == 0 and wall.year == received.astimezone(receiver_zone).year:
            at = place_in_year(wall.replace(tzinfo=None), router_zone, received)
    return DeviceTime(at, abs(at - received) > skew_bound)


def place_in_year(wall: datetime, zone: tzinfo, received: datetime) -> datetime:
    """A yearless wall-clock time in ``zone``, in the latest year that is not after ``received``
    (plus FUTURE_TOLERANCE). Feb 29 goes back to the last leap year.
    """
    latest = received + FUTURE_TOLERANCE
    start = received.astimezone(zone).year + 1
    for year in range(start, start - 10, -1):
        try:
            candidate = wall.replace(year=year, tzinfo=zone)
        except ValueError:
            continue  # Feb 29 outside a leap year
        if candidate <= latest:
            return candidate.astimezone(UTC)
    raise ValueError(f"no year places {wall:%b %d %H:%M:%S} before {received.isoformat()}")


def is_rfc5424(event: Event) -> bool:
    """Whether rsyslog read the line as RFC 5424, from what its fields show.

    Only RFC 5424 lines have MSGID or STRUCTURED-DATA; without either, rsyslog's TAG for them is
    ``APP[PROCID]`` with no colon, which an RFC 3164 TAG has only when the router left it out.
    """
    if "msgid" in event.extra or "structured-data" in event.extra:
        return True
    app, procid = event.extra.get("app-name"), event.extra.get("procid")
    return app is not None and procid is not None and event.syslogtag == f"{app}[{procid}]"
