"""pfSense and OPNsense: filterlog's CSV firewall records, the WAN scripts, dpinger, dhcpleases.

Their DHCP server lines are ISC dhcpd's and are read by ``isc_dhcp``.
"""

from __future__ import annotations

import re

from logweave.parsers.base import Kind, Line, Parsed
from logweave.parsers.common import Source, ip_of, read_source

FAMILY = "pfsense"


def parse(line: Line) -> Parsed | None:
    source = read_source(line)
    return _filterlog(source) or _wan_scripts(source) or _dpinger(source) or _dhcpleases(source)


# rule,subrule,anchor,tracker,interface,reason,action,direction,ipversion,... then the IP
# header: for IPv4 the protocol name is field 16 and the addresses fields 18 and 19, for IPv6
# fields 12, 15 and 16; TCP and UDP ports follow the addresses.
_FILTERLOG = re.compile(
    r"(?<![\w,])(?P<csv>\d*,[^,\s]*,[^,\s]*,\d*,[\w.]+,\w+,(?:pass|block|reject|match),"
    r"(?:in|out),[46],[^\s]*)"
)
_IP_FIELDS = {"4": (16, 18), "6": (12, 15)}  # protocol name, source address
_PORTED = frozenset({"tcp", "udp"})


def _filterlog(source: Source) -> Parsed | None:
    found = _FILTERLOG.search(source.whole)
    if found is None:
        return None
    fields = found["csv"].split(",")
    action, version = fields[6], fields[8]
    proto_at, source_at = _IP_FIELDS[version]

    def at(index: int) -> str | None:
        return fields[index] if len(fields) > index and fields[index] else None

    proto = (at(proto_at) or "").lower() or None
    dport = at(source_at + 3) if proto in _PORTED else None
    return Parsed(
        kind=Kind.FIREWALL_DROP if action in ("block", "reject") else Kind.OTHER,
        family=FAMILY,
        ip=ip_of(at(source_at)),
        iface=fields[4],
        program="filterlog",
        detail=f"{action} {fields[7]}",
        dst=ip_of(at(source_at + 1)),
        proto=proto,
        dport=int(dport) if dport and dport.isdigit() else None,
    )


_DHCLIENT = re.compile(r"New [A-Za-z ]+ \((?P<iface>[\w.]+)\):")
_RENEWAL = re.compile(
    r"IP renewal starting \(new: (?P<new>[^,]*), old: (?P<old>[^,]*), interface: (?P<iface>[\w.]+)"
)
_CONFIGURE = re.compile(r"rc\.\w+: [A-Z]+: entering configure using '(?P<iface>[\w.]+)'")
_DHCP6C = re.compile(r"dhcp6c_script: \w+ on (?P<iface>[\w.]+)")


def _wan_scripts(source: Source) -> Parsed | None:
    renewal = _RENEWAL.search(source.whole)
    if renewal is not None:
        new, old = ip_of(renewal["new"]), ip_of(renewal["old"])
        # A renewal that keeps the address is routine; a new address means the WAN came back.
        changed = new is not None and new != old
        return Parsed(
            kind=Kind.WAN_UP if changed else Kind.OTHER,
            family=FAMILY,
            ip=new if changed else None,
            iface=renewal["iface"],
            program=source.program,
            detail="rc.newwanip",
        )
    for pattern in (_DHCLIENT, _CONFIGURE, _DHCP6C):
        found = pattern.search(source.whole)
        if found is not None:
            return Parsed(
                kind=Kind.OTHER, family=FAMILY, iface=found["iface"], program=source.program
            )
    return None


# dpinger watches the gateway: pfSense writes "GW 198.51.100.1: Alarm latency 10394us stddev
# 3451us loss 22%" and "...: Clear latency ...", OPNsense "GATEWAY ALARM: GW (Addr: ...
# Alarm: 1 ...)". An alarm is the WAN down as far as traffic goes; clearing it, the WAN back.
_DPINGER = re.compile(
    r"(?P<gateway>[\w.-]+) (?P<address>\S+): (?P<state>Alarm|Clear) latency"
    r"|GATEWAY ALARM: (?P<opn_gateway>[\w.-]+) \(Addr: (?P<opn_address>[^\s)]+)"
    r" Alarm: (?P<alarm>[01])"
)


def _dpinger(source: Source) -> Parsed | None:
    if source.program != "dpinger":
        return None
    found = _DPINGER.search(source.text)
    if found is None:
        return Parsed(kind=Kind.OTHER, family=FAMILY, program="dpinger")
    down = found["state"] == "Alarm" or found["alarm"] == "1"
    gateway = found["gateway"] or found["opn_gateway"]
    return Parsed(
        kind=Kind.WAN_DOWN if down else Kind.WAN_UP,
        family=FAMILY,
        iface=gateway,
        program="dpinger",
        detail="gateway alarm" if down else "gateway alarm cleared",
    )


def _dhcpleases(source: Source) -> Parsed | None:
    """dhcpleases feeds DHCP hostnames to the DNS resolver; its lines are housekeeping."""
    if source.program != "dhcpleases":
        return None
    return Parsed(kind=Kind.OTHER, family=FAMILY, program="dhcpleases", detail=source.text.strip())
