"""From an event to how LogWeave reads it: parsed, timed in its router's zone, and set among the
lines its router sent before. The metrics consumer and ``logweave parse`` both read through
here, so a router's log gives the same readings in either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, tzinfo

from logweave.config import Settings
from logweave.contract import Event
from logweave.correlate import Amendment, Correlator, Entry, Reading, Stream
from logweave.parsers import line_from_event, parse
from logweave.timeinfo import DeviceTime, device_time, zone_named


@dataclass(frozen=True, slots=True)
class EventReading:
    event: Event
    reading: Reading
    time: DeviceTime

    @property
    def program(self) -> str | None:
        """The daemon, as the parser read it.

        Not rsyslog's TAG as such: RouterOS, Fritz!Box and UniFi module lines have none, and
        rsyslog then takes a message word (``dhcp,debug``, ``DHCPACK(br-lan)``) for one.
        """
        return self.reading.parsed.program


class EventReader:
    def __init__(self, settings: Settings, streams: dict[str, Stream] | None = None) -> None:
        parsing = settings.parsing
        self.default_zone = zone_named(parsing.timezone)
        self.zones: dict[str, tzinfo] = {
            address: zone_named(router.timezone) if router.timezone else self.default_zone
            for address, router in settings.routers.items()
        }
        self.receiver_zone = zone_named(parsing.receiver_timezone)
        self.skew_bound = timedelta(seconds=parsing.clock_skew_s)
        self.correlator = Correlator(timedelta(seconds=parsing.correlation_window_s), streams)

    @property
    def streams(self) -> dict[str, Stream]:
        return self.correlator.streams

    def read(self, event: Event, ref: str | None = None) -> tuple[EventReading, list[Amendment]]:
        """The event's reading; ``ref`` names it for dup_of and part_of (default its id)."""
        parsed = parse(line_from_event(event))
        zone = self.zones.get(event.fromhost_ip, self.default_zone)
        time = device_time(event, zone, self.receiver_zone, self.skew_bound)
        entry = Entry(
            ref=ref or event.id,
            received=event.timegenerated,
            at=time.at,
            parsed=parsed,
            bare=_bare(event, time),
        )
        reading, amendments = self.correlator.read(event.fromhost_ip, entry)
        return EventReading(event, reading, time), amendments


def _bare(event: Event, time: DeviceTime) -> bool:
    """No time, no hostname and no ``tag:`` in the line: rsyslog filled in all three."""
    no_hostname = event.hostname in ("", event.fromhost_ip)
    return time.at is None and no_hostname and not event.syslogtag.endswith(":")
