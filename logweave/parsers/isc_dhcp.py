"""ISC dhcpd as pfSense, OPNsense and Linux servers run it (and Infoblox, which words RELEASE
its own way): ``DHCPACK on IP to MAC (host) via iface`` and friends.
"""

from __future__ import annotations

import re

from logweave.parsers.base import Kind, Line, Parsed
from logweave.parsers.common import ip_of, mac_of, read_source, word

FAMILY = "isc-dhcp"

_HOST = r"(?: \((?P<host>[^)]*)\))?"
_VIA = r"(?: via (?P<via>[^\s:]+))?"

# dhcpd's message forms, each with the kind it reports. The client is the MAC after
# "from"/"to"; a parenthesis after an IP is the server identifier, after the MAC the hostname.
_FORMS = (
    (re.compile(rf"\bDHCPDISCOVER from (?P<mac>\S+){_HOST}{_VIA}"), Kind.DHCP_DISCOVER),
    (re.compile(rf"\bDHCPOFFER on (?P<ip>\S+) to (?P<mac>\S+){_HOST}{_VIA}"), Kind.DHCP_OFFER),
    (
        re.compile(
            rf"\bDHCPREQUEST for (?P<ip>\S+)(?: \([^)]*\))? from (?P<mac>\S+){_HOST}{_VIA}"
            r"(?::? (?P<reason>.*))?"
        ),
        Kind.DHCP_REQUEST,
    ),
    (re.compile(rf"\bDHCPACK on (?P<ip>\S+) to (?P<mac>\S+){_HOST}{_VIA}"), Kind.DHCP_ACK),
    # The answer to a DHCPINFORM: "DHCPACK to IP (MAC) via iface".
    (re.compile(rf"\bDHCPACK to (?P<ip>\S+) \((?P<mac>[^)]*)\){_VIA}"), Kind.DHCP_ACK),
    (re.compile(rf"\bDHCPNAK on (?P<ip>\S+) to (?P<mac>\S+){_HOST}{_VIA}"), Kind.DHCP_NAK),
    (
        re.compile(rf"\bDHCPRELEASE of (?P<ip>\S+) from (?P<mac>\S+){_HOST}{_VIA}"),
        Kind.DHCP_RELEASE,
    ),
    (re.compile(r"(?<![A-Z])RELEASE on (?P<ip>\S+) to (?P<mac>\S+)"), Kind.DHCP_RELEASE),
    (re.compile(rf"\bDHCPDECLINE of (?P<ip>\S+) from (?P<mac>\S+){_HOST}{_VIA}"), Kind.OTHER),
    (re.compile(rf"\bDHCPINFORM from (?P<ip>\S+){_VIA}"), Kind.OTHER),
    (re.compile(rf"\bBOOTREQUEST from (?P<mac>\S+){_VIA}"), Kind.OTHER),
    (re.compile(rf"\bBOOTREPLY for (?P<ip>\S+) to \S+ \((?P<mac>[^)]*)\){_VIA}"), Kind.OTHER),
    (re.compile(r"\bICMP Echo Reply for (?P<ip>\S+) late or spurious"), Kind.OTHER),
    (re.compile(r"\buid lease (?P<ip>\S+) for client (?P<mac>\S+) is duplicate"), Kind.OTHER),
    (re.compile(r"\breuse_lease: .* existing lease for (?P<ip>\S+)"), Kind.OTHER),
)


def parse(line: Line) -> Parsed | None:
    source = read_source(line)
    for pattern, kind in _FORMS:
        found = pattern.search(source.whole)
        if found is None:
            continue
        values = found.groupdict()
        via = values.get("via")
        return Parsed(
            kind=kind,
            family=FAMILY,
            mac=mac_of(values.get("mac")),
            ip=ip_of(values.get("ip")),
            hostname=word(values.get("host")),
            iface=via if via and ip_of(via) is None else None,  # a relay's address is no iface
            program="dhcpd",
            detail=(values.get("reason") or "").strip() or found.group(0).split(" ", 1)[0],
        )
    return None
