"""pfSense and OPNsense: filterlog's CSV firewall records and the WAN scripts' lines.

Their DHCP server lines are ISC dhcpd's and are read by ``isc_dhcp``.
"""

from __future__ import annotations

import re

from logweave.parsers.base import Kind, Line, Parsed
from logweave.parsers.common import Source, ip_of, read_source

FAMILY = "pfsense"


def parse(line: Line) -> Parsed | None:
    source = read_source(line)
    return _filterlog(source) or _wan_scripts(source)


# rule,subrule,anchor,tracker,interface,reason,action,direction,ipversion,... The source
# address sits at field 18 for IPv4 and field 15 for IPv6.
_FILTERLOG = re.compile(
    r"(?<![\w,])(?P<csv>\d*,[^,\s]*,[^,\s]*,\d*,[\w.]+,\w+,(?:pass|block|reject|match),"
    r"(?:in|out),[46],[^\s]*)"
)
_SOURCE_FIELD = {"4": 18, "6": 15}


def _filterlog(source: Source) -> Parsed | None:
    found = _FILTERLOG.search(source.whole)
    if found is None:
        return None
    fields = found["csv"].split(",")
    action, version = fields[6], fields[8]
    index = _SOURCE_FIELD[version]
    return Parsed(
        kind=Kind.FIREWALL_DROP if action in ("block", "reject") else Kind.OTHER,
        family=FAMILY,
        ip=ip_of(fields[index]) if len(fields) > index else None,
        iface=fields[4],
        program="filterlog",
        detail=f"{action} {fields[7]}",
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
