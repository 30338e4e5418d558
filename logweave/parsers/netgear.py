"""Netgear's log page: ``[Event] text, Weekday, Mon DD,YYYY HH:MM:SS``, one event per line.

The lines have no syslog header; rsyslog takes them as headerless because they start with "[".
"""

from __future__ import annotations

import re

from logweave.parsers.base import Kind, Line, Parsed
from logweave.parsers.common import ip_of, mac_of, read_source

FAMILY = "netgear"

_EVENT = re.compile(r"\[(?P<event>[A-Za-z][^\]]*)\](?P<text>.*)")
# (event pattern, kind, pattern of the text after the bracket naming the MAC or the address)
_EVENTS = (
    (re.compile(r"DHCP IP: \((?P<ip>[^)]+)\)"), Kind.DHCP_ACK, r"MAC address (?P<mac>[^,\s]+)"),
    (re.compile(r"Internet connected"), Kind.WAN_UP, r"IP address: (?P<ip>[^,\s]+)"),
    (re.compile(r"Internet disconnected"), Kind.WAN_DOWN, None),
    (
        re.compile(r"WLAN access rejected"),
        Kind.WIFI_AUTH_FAIL,
        r"MAC(?: address)? (?P<mac>[^,\s]+)",
    ),
    (re.compile(r"DoS attack"), Kind.FIREWALL_DROP, r"from (?:ip|source) \[?(?P<ip>[^\],\s]+)"),
    (re.compile(r"LAN access from remote"), Kind.OTHER, r"from (?P<ip>[^,\s]+)"),
    (re.compile(r"Admin login"), Kind.OTHER, r"from source (?P<ip>[^,\s]+)"),
)


def parse(line: Line) -> Parsed | None:
    source = read_source(line)
    found = _EVENT.match(source.text) if source.program is None else None
    if found is None:
        return None
    event, text = found["event"], found["text"]
    for event_pattern, kind, value_pattern in _EVENTS:
        named = event_pattern.match(event)
        if named is None:
            continue
        values = named.groupdict()
        if value_pattern is not None:
            value = re.search(value_pattern, text)
            if value is not None:
                values.update(value.groupdict())
        return Parsed(
            kind=kind,
            family=FAMILY,
            mac=mac_of(values.get("mac")),
            ip=ip_of(values.get("ip")),
            detail=event,
        )
    return Parsed(kind=Kind.OTHER, family=FAMILY, detail=event)
