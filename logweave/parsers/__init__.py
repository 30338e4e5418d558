"""Read an event's message into a typed record: the registry of router families.

``parse`` asks each family module in ``REGISTRY`` order and takes the first answer; ``generic``
reads what none of them claims. A family module has ``FAMILY`` (its name in parsed_events) and
``parse(line) -> Parsed | None``, None meaning "not a line of mine".

Adding a router family takes three things: a module ``logweave/parsers/<family>.py``, its entry
in ``REGISTRY`` (ahead of families whose daemons its lines also match, since the first answer
wins), and the family's real lines with their expectations in tests/corpus/.
"""

from __future__ import annotations

import re
from typing import Protocol

from logweave.contract import Event
from logweave.parsers import (
    asuswrt,
    ddwrt,
    fritzbox,
    generic,
    isc_dhcp,
    mikrotik,
    netgear,
    openwrt,
    pfsense,
    tplink,
    unifi,
)
from logweave.parsers.base import Kind, Line, Parsed

__all__ = ["REGISTRY", "line_from_event", "line_from_fields", "parse", "record_values"]


class FamilyParser(Protocol):
    FAMILY: str

    def parse(self, line: Line) -> Parsed | None: ...


# Most specific first: UniFi, ASUSWRT and DD-WRT lines also carry hostapd, dnsmasq or kernel
# text that the OpenWrt readers would take under their own family name.
REGISTRY: tuple[FamilyParser, ...] = (
    unifi,
    asuswrt,
    isc_dhcp,
    pfsense,
    mikrotik,
    tplink,
    netgear,
    fritzbox,
    ddwrt,
    openwrt,
)


# Router lines worth reading are short. Several readers search unanchored, which takes time
# growing with the square of the length: a 64 kB line would hold the metrics consumer for a
# minute, so longer lines are kept (raw_logs has them) but not read.
MAX_READ_CHARS = 4096


def parse(line: Line) -> Parsed:
    length = max(len(line.msg), len(line.tag_and_msg))
    if length > MAX_READ_CHARS:
        return Parsed(
            kind=Kind.OTHER,
            family=generic.FAMILY,
            parse_ok=False,
            program=line.program or None,
            detail=f"line of {length} characters, longer than the {MAX_READ_CHARS} read",
        )
    for family in REGISTRY:
        parsed = family.parse(line)
        if parsed is not None:
            return parsed
    return generic.parse(line)


def record_values(family: str, fields: dict[str, str]) -> dict[str, str]:
    """The client (``mac``, ``ip``, ``hostname``) a multi-line record's fields name so far."""
    if family == mikrotik.FAMILY:
        return mikrotik.record_values(fields)
    return {}


def line_from_event(event: Event) -> Line:
    return line_from_fields(
        programname=event.programname,
        syslogtag=event.syslogtag,
        msg=event.msg,
        hostname=event.hostname,
        severity=event.severity,
    )


# rsyslog escapes each byte below 0x20 on receipt as "#" and three octal digits.
_CONTROL_ESCAPE = re.compile(r"#([0-3][0-7]{2})")


def line_from_fields(
    *, programname: str, syslogtag: str, msg: str, hostname: str, severity: int
) -> Line:
    """The parser's view of rsyslog's properties: one leading space and the escapes undone."""
    text = _unescape(msg)
    return Line(
        program=programname,
        msg=text[1:] if text.startswith(" ") else text,
        hostname=hostname,
        severity=severity,
        tag_and_msg=_rejoin(_unescape(syslogtag), text),
    )


def _unescape(text: str) -> str:
    return _CONTROL_ESCAPE.sub(_control_character, text)


def _control_character(found: re.Match[str]) -> str:
    code = int(found.group(1), 8)
    return chr(code) if code < 0x20 else found.group(0)


def _rejoin(tag: str, msg: str) -> str:
    """TAG and MSG as the router wrote them.

    An RFC 3164 TAG ends with its colon or is followed by MSG's leading space, so the two join
    as they are; rsyslog makes up an RFC 5424 TAG (``app[procid]``) and a space separates it.
    """
    if not tag or tag.endswith(":") or not msg or msg.startswith(" "):
        return tag + msg
    return f"{tag} {msg}"
