"""TP-Link's own firmware: the DHCP module's server (DHCPS) and WAN client (DHCPC) lines.

TP-Link's OpenWrt-based builds write OpenWrt's daemons and are read there.
"""

from __future__ import annotations

import re

from logweave.parsers.base import Kind, Line, Parsed
from logweave.parsers.common import DHCP_KINDS, ip_of, mac_of, read_source

FAMILY = "tplink"

_SERVER = re.compile(
    r"\bDHCPS:(?:(?P<sent>Send) (?P<out>[A-Z]+) to (?P<ip>\S+)"
    r"|(?P<received>Recv) (?P<in>[A-Z]+) from (?P<mac>\S+))"
)
# The router's own WAN client; an address obtained means the WAN is up.
_CLIENT = re.compile(r"\bDHCPC[: ]|\bDynamic IP\(DHCP Client\)")
_CLIENT_UP = re.compile(r"Dynamic IP\(DHCP Client\) obtained an IP successfully")


def parse(line: Line) -> Parsed | None:
    source = read_source(line)
    found = _SERVER.search(source.whole)
    if found is not None:
        verb = found["out"] or found["in"]
        return Parsed(
            kind=DHCP_KINDS.get(verb, Kind.OTHER),
            family=FAMILY,
            mac=mac_of(found["mac"]),
            ip=ip_of(found["ip"]),
            program=source.program,
            detail=f"DHCPS {verb}",
        )
    if _CLIENT.search(source.whole):
        up = _CLIENT_UP.search(source.whole) is not None
        return Parsed(
            kind=Kind.WAN_UP if up else Kind.OTHER,
            family=FAMILY,
            program=source.program,
            detail="DHCPC",
        )
    return None
