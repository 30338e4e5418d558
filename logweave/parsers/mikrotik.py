"""MikroTik RouterOS: DHCP leases and packets, wireless, firewall logs, the PPP client (WAN).

RouterOS sends no syslog TAG: its topics (``dhcp,info``) or the DHCP server's name stand where
rsyslog looks for one, so ``program`` stays None. A DHCP packet in the debug topics arrives as
one line per field (``chaddr = ...``, ``Msg-Type = request``) after a line that opens the
record. Each line is read alone here and says which of the two it is (``Role``); joining the
fields to their record needs the lines before it and is logweave.correlate's work.
"""

from __future__ import annotations

import re

from logweave.parsers.base import Kind, Line, Parsed, Role
from logweave.parsers.common import Source, ip_of, mac_of, read_source, word

FAMILY = "mikrotik"


def parse(line: Line) -> Parsed | None:
    source = read_source(line)
    return (
        _lease(source)
        or _packet(source)
        or _packet_field(source)
        or _wireless(source)
        or _firewall(source)
        or _topic_line(source)
    )


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


# "<server> received request id 1234 from 10.0.0.10 '<client-id>'" and "<server> sending ack
# with id 1234 to 10.0.0.10" open a packet record; the client-id is not the hardware address
# (phones randomise one and not the other), the record's chaddr field is.
_PACKET = re.compile(
    r"\b(?P<way>received|sending) (?P<type>[a-z]+) (?:with )?id \d+ (?:from|to) (?P<ip>\S+)"
)
_PACKET_KINDS = {
    "discover": Kind.DHCP_DISCOVER,
    "offer": Kind.DHCP_OFFER,
    "request": Kind.DHCP_REQUEST,
    "ack": Kind.DHCP_ACK,
    "nak": Kind.DHCP_NAK,
    "release": Kind.DHCP_RELEASE,
}


def _packet(source: Source) -> Parsed | None:
    found = _PACKET.search(source.whole)
    if found is None:
        return None
    return Parsed(
        kind=_PACKET_KINDS.get(found["type"], Kind.OTHER),
        family=FAMILY,
        ip=ip_of(found["ip"]),
        program=None,
        detail=f"{found['way']} {found['type']}",
        role=Role.RECORD_START,
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
    return Parsed(
        kind=Kind.OTHER,
        family=FAMILY,
        detail=found["field"],
        role=Role.RECORD_FIELD,
        field=(found["field"], found["value"].strip()),
    )


def record_values(fields: dict[str, str]) -> dict[str, str]:
    """The client a packet record names: its MAC, the address it asks for or gets, its name.

    The record line itself names the packet's source or destination address; the requested or
    offered address in the fields is the client's address, and wins when present.
    """
    values = {}
    mac = mac_of(fields.get("chaddr"))
    if mac is not None:
        values["mac"] = mac
    for name in ("Address-Request", "yiaddr", "ciaddr"):
        ip = ip_of(fields.get(name))
        if ip is not None:
            values["ip"] = ip
            break
    host = word(fields.get("Host-Name", "").strip('"')) if "Host-Name" in fields else None
    if host is not None:
        values["hostname"] = host
    return values


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


# "<log-prefix> <chain>: in:<iface> out:<iface>, [src-mac <mac>, ]proto <P>[ (flags)],
# <src>[:port]-><dst>[:port], len N". The line does not say what the rule did; the prefix that
# the administrator gave the logging rule usually does, and only a prefix naming a drop makes
# the line a drop.
_FIREWALL = re.compile(
    r"(?:(?P<prefix>\S.*?) )?(?P<chain>[\w-]+): in:(?P<iface>\S+) out:[^,]*,"
    r".*?\bproto (?P<proto>[\w-]+)(?: \([^)]*\))?,"
    r" (?P<src>\[[^\]]+\]|[\d.]+|[0-9a-fA-F:]+?)(?::(?P<sport>\d+))?"
    r"->(?P<dst>\[[^\]]+\]|[\d.]+|[0-9a-fA-F:]+?)(?::(?P<dport>\d+))?,"
)
_DROP_WORDS = re.compile(r"drop|reject|block|deny", re.IGNORECASE)


def _firewall(source: Source) -> Parsed | None:
    if " in:" not in source.whole or "proto " not in source.whole:
        return None  # most lines; the pattern is slow to fail on them
    found = _FIREWALL.search(source.whole)
    if found is None:
        return None
    words = f"{found['prefix'] or ''} {found['chain']}"
    return Parsed(
        kind=Kind.FIREWALL_DROP if _DROP_WORDS.search(words) else Kind.OTHER,
        family=FAMILY,
        ip=ip_of(found["src"]),
        iface=found["iface"],
        program=None,
        detail=words.strip(),
        dst=ip_of(found["dst"]),
        proto=found["proto"].lower(),
        dport=int(found["dport"]) if found["dport"] else None,
    )


# RouterOS's logging topics, as its "/log print" and its syslog action put them before the text
# ("dhcp,debug lease bound", "system,info,account user admin logged in").
_TOPICS = frozenset((
    "account", "bfd", "bgp", "certificate", "ddns", "debug", "dhcp", "dns", "dot1x", "e-mail",
    "event", "firewall", "gsm", "hotspot", "info", "interface", "ipsec", "l2tp", "lte", "manager",
    "ntp", "ospf", "ovpn", "packet", "ppp", "pppoe", "pptp", "radius", "route", "script", "sstp",
    "state", "system", "timer", "ups", "vrrp", "warning", "watchdog", "web-proxy", "wireless",
))  # fmt: skip
_TOPIC_LINE = re.compile(r"(?P<topics>[a-z-]+(?:,[a-z-]+)+)\s+(?P<text>.*)", re.DOTALL)


def _topic_line(source: Source) -> Parsed | None:
    """Any other line under RouterOS topics: ``other``.

    A line under the ``error`` or ``critical`` topic is left to the generic reader, which
    decides whether its words say something failed.
    """
    found = _TOPIC_LINE.fullmatch(source.whole.strip())
    if found is None or not set(topics := found["topics"].split(",")) <= _TOPICS:
        return None
    session = _PPP_CLIENT.fullmatch(found["text"]) if "ppp" in topics else None
    if session is not None:
        # The PPPoE (or other PPP) client's session: on a home router, the WAN.
        up = session["state"] == "connected"
        return Parsed(
            kind=Kind.WAN_UP if up else Kind.WAN_DOWN,
            family=FAMILY,
            iface=session["iface"],
            detail=session["state"],
        )
    return Parsed(kind=Kind.OTHER, family=FAMILY, detail=found["topics"])


_PPP_CLIENT = re.compile(r"(?P<iface>[\w.-]+): (?P<state>connected|disconnected)\s*")
