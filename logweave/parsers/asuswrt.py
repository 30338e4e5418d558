"""ASUSWRT and Asuswrt-Merlin: Broadcom wlceventd, the WAN(0) and wan-event lines, HND ports.

Their dnsmasq and dropbear lines are the OpenWrt formats and are read there.
"""

from __future__ import annotations

import re

from logweave.parsers.base import Kind, Line, Parsed
from logweave.parsers.common import Source, mac_of, read_source

FAMILY = "asuswrt"

# The switch port that is the WAN on Broadcom HND models (RT-AX86U, RT-AX88U, GT-AX11000); a
# model that wires it elsewhere needs its own entry. Other ports are LAN.
WAN_PORTS = frozenset({"eth0"})


def parse(line: Line) -> Parsed | None:
    source = read_source(line)
    return _wlceventd(source) or _wan_connection(source) or _wan_event(source) or _port(source)


_WLCEVENTD = re.compile(
    r"wlceventd_proc_event\(\d+\): (?P<iface>[\w.-]+): (?P<event>[A-Za-z_]+) (?P<mac>\S+?),?"
    r" status: (?P<status>\d+), reason: (?P<reason>.*)"
)


def _wlceventd(source: Source) -> Parsed | None:
    found = _WLCEVENTD.search(source.whole)
    if found is None:
        return None
    event, failed = found["event"].lower(), found["status"] != "0"
    kind = Kind.OTHER
    if event in ("assoc", "reassoc") and not failed:
        kind = Kind.WIFI_ASSOC
    elif event.startswith("disassoc"):
        kind = Kind.WIFI_DISASSOC
    elif event.startswith("deauth"):
        kind = Kind.WIFI_DEAUTH
    elif event == "auth" and failed:
        kind = Kind.WIFI_AUTH_FAIL
    return Parsed(
        kind=kind,
        family=FAMILY,
        mac=mac_of(found["mac"]),
        iface=found["iface"],
        program=source.program,
        detail=f"{found['event']}: {found['reason'].strip()}",
    )


# "WAN(0) Connection: WAN(0) link down." -- rsyslog splits it as TAG "WAN(0)", or as HOSTNAME
# "WAN" and TAG "Connection:" when there is no unit number, so only the words after it count.
_WAN_CONNECTION = re.compile(
    r"Connection: (?:WAN\((?P<unit>\d+)\) link (?P<link>up|down)|(?P<restored>WAN was restored)"
    r"|(?:Ethernet|WAN) link (?P<ethernet>up|down))",
    re.IGNORECASE,
)


def _wan_connection(source: Source) -> Parsed | None:
    found = _WAN_CONNECTION.search(source.whole)
    if found is None:
        return None
    state = found["link"] or found["ethernet"] or "up"
    return Parsed(
        kind=Kind.WAN_UP if state.lower() == "up" else Kind.WAN_DOWN,
        family=FAMILY,
        iface=f"wan{found['unit']}" if found["unit"] else None,
        program="WAN Connection",
        detail=found.group(0),
    )


# Merlin's wan-event hook names the unit and the stage: wan0-init, -connected, -stopping, ...
_WAN_EVENT = re.compile(r"wan-event: (?P<iface>wan\d+)-(?P<stage>[a-z]+)")
_WAN_STAGES = {
    "connected": Kind.WAN_UP,
    "disconnected": Kind.WAN_DOWN,
    "stopping": Kind.WAN_DOWN,
    "stopped": Kind.WAN_DOWN,
}


def _wan_event(source: Source) -> Parsed | None:
    found = _WAN_EVENT.search(source.whole)
    if found is None:
        return None
    return Parsed(
        kind=_WAN_STAGES.get(found["stage"], Kind.OTHER),
        family=FAMILY,
        iface=found["iface"],
        program="wan-event",
        detail=found["stage"],
    )


_HND_PORT = re.compile(
    r"(?P<iface>eth\d+) \(Int switch port: \d+\) \(Logical Port: \d+\) \(phyId: \w+\)"
    r" Link (?P<state>up|down)",
    re.IGNORECASE,
)


def _port(source: Source) -> Parsed | None:
    found = _HND_PORT.search(source.whole)
    if found is None:
        return None
    iface, up = found["iface"], found["state"].lower() == "up"
    kind = Kind.OTHER
    if iface in WAN_PORTS:
        kind = Kind.WAN_UP if up else Kind.WAN_DOWN
    return Parsed(kind=kind, family=FAMILY, iface=iface, program="kernel", detail=found.group(0))
