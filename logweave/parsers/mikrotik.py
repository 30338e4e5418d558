"""MikroTik RouterOS: DHCP server leases and packets, and wireless registrations.

RouterOS sends no syslog TAG: its topics (``dhcp,info``) or the DHCP server's name stand where
rsyslog looks for one, so ``program`` stays None. A DHCP packet in the debug topics arrives as
one line per field (``chaddr = ...``, ``Msg-Type = request``); each is read alone here, so the
header line of such a record carries only what it says itself, and the field lines are
``other``. Joining a record's lines would need state across events, which parsers do not keep.
"""

from __future__ import annotations

import re

from logweave.parsers.base import Kind, Line, Parsed
from logweave.parsers.common import Source, ip_of, mac_of, read_source, word

FAMILY = "mikrotik"


def parse(line: Line) -> Parsed | None:
    source = read_source(line)
    return _lease(source) or _packet(source) or _packet_field(source) or _wireless(source)


_ASSIGNED = re.compile(
    r"\b(?P<verb>assigned|deassigned) (?P<ip>\S+) (?:for|to|from) (?P<mac>\S+)(?: (?P<host>\S+))?"
)


def _lease(source: Source) -> Parsed | None:
    found = _ASSIGNED.search(source.whole)
    if found is None or mac_of(found["mac"]) is None:
        return None
    assigned = found["verb"] == "assigned"
    return Parsed(
        kind=Kind.DHCP_ACK if assigned else Kind.DHCP_RELEASE,
        family=FAMILY,
        mac=mac_of(found["mac"]),
        ip=ip_of(found["ip"]),
        hostname=word(found["host"]),
        program=None,
        detail=found["verb"],
    )


# "<server> received request id 1234 from 10.0.0.10 '<client-id>'" opens a packet record; the
# client-id is not the hardware address (phones randomise one and not the other).
_RECEIVED = re.compile(r"\breceived (?P<type>[a-z]+) (?:with )?id \d+ from (?P<ip>\S+)")
_PACKET_KINDS = {
    "discover": Kind.DHCP_DISCOVER,
    "request": Kind.DHCP_REQUEST,
    "release": Kind.DHCP_RELEASE,
}


def _packet(source: Source) -> Parsed | None:
    found = _RECEIVED.search(source.whole)
    if found is None:
        return None
    return Parsed(
        kind=_PACKET_KINDS.get(found["type"], Kind.OTHER),
        family=FAMILY,
        ip=ip_of(found["ip"]),
        program=None,
        detail=f"received {found['type']}",
    )


# A field line of a packet record, after the topics when RouterOS's own log view shows them.
_FIELD = re.compile(
    r"\s*(?:[a-z]+(?:,[a-z]+)+\s+)?"
    r"(?P<field>secs|flags|ciaddr|yiaddr|siaddr|giaddr|chaddr|[A-Z][\w-]*) = (?P<value>.*)"
)


def _packet_field(source: Source) -> Parsed | None:
    found = _FIELD.fullmatch(source.whole)
    if found is None:
        return None
    return Parsed(kind=Kind.OTHER, family=FAMILY, detail=found["field"])


_REGISTRATION = re.compile(
    r"(?P<mac>[0-9A-Fa-f:]{17})@(?P<iface>[\w.-]+):? (?P<event>connected|disconnected"
    r"|established connection|roamed to)"
)
_REGISTRATION_KINDS = {
    "connected": Kind.WIFI_ASSOC,
    "established connection": Kind.WIFI_ASSOC,
    "roamed to": Kind.WIFI_ASSOC,
    "disconnected": Kind.WIFI_DISASSOC,
}


def _wireless(source: Source) -> Parsed | None:
    found = _REGISTRATION.search(source.whole)
    if found is None:
        return None
    return Parsed(
        kind=_REGISTRATION_KINDS[found["event"]],
        family=FAMILY,
        mac=mac_of(found["mac"]),
        iface=found["iface"],
        program=None,
        detail=found["event"],
    )
