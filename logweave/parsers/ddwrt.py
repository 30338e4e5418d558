"""DD-WRT: its service manager's ``service : text`` lines, process_monitor and ntpclient.

DD-WRT logs kernel messages with facility user (``user.err kernel:``); ``generic`` reads them
like any kernel line. Its DHCP server is dnsmasq and its Wi-Fi daemon hostapd, read by
``openwrt``.
"""

from __future__ import annotations

import re

from logweave.parsers.base import Kind, Line, Parsed
from logweave.parsers.common import read_source

FAMILY = "dd-wrt"

# The scripts that report a service as "name : daemon successfully started".
_SERVICE_PROGRAMS = frozenset({"udhcpc", "stopservice", "startservice", "restart", "rc", "init"})
_SERVICE = re.compile(r"(?P<service>[\w .-]+?) : (?P<text>.+)")
_CLOCK = re.compile(r"Time set from |Connecting to \S+ \[|cyclic NTP Update|Restarting \w+ \(")


def parse(line: Line) -> Parsed | None:
    source = read_source(line)
    if source.program in _SERVICE_PROGRAMS:
        found = _SERVICE.fullmatch(source.text.strip())
        if found is not None:
            return Parsed(
                kind=Kind.OTHER,
                family=FAMILY,
                program=source.program,
                detail=f"{found['service']}: {found['text']}",
            )
    if source.program in ("ntpclient", "process_monitor") and _CLOCK.search(source.text):
        return Parsed(kind=Kind.OTHER, family=FAMILY, program=source.program, detail="clock")
    return None
