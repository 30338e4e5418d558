"""The fallback reader: shapes every router firmware shares, then ``other`` with parse_ok False.

It reads kernel lines (link state, OOM, oopses, and kernel messages at err or worse), crashes
and crash loops of daemons, and DHCP and Wi-Fi station lines in wordings no family parser
knows. The severity alone makes a ``system_error`` only for the kernel: daemons log routine
events at err (LuCI logins, old OpenWrt builds log everything at "error"), so a daemon's err
line counts only when its words say it failed.
"""

from __future__ import annotations

import re

from logweave.parsers.base import Kind, Line, Parsed
from logweave.parsers.common import Source, ip_of, is_wan, mac_of, read_source

FAMILY = "generic"

_ERR = 3  # syslog severity err: err, crit, alert and emerg are <= 3
_DMESG_TIME = re.compile(r"\[\s*\d+\.\d+\]\s*")


def parse(line: Line) -> Parsed:
    source = read_source(line)
    kernel = _kernel_text(source)
    return (
        _link(source, kernel)
        or _failure(source, kernel, line.severity)
        or _dhcp(source)
        or _station(source)
        or Parsed(kind=Kind.OTHER, family=FAMILY, parse_ok=False, program=_program(source, kernel))
    )


def _kernel_text(source: Source) -> str | None:
    """The kernel's message without its uptime stamp, or None when the kernel did not write it.

    A raw dmesg line pasted or relayed without a tag is the kernel's too.
    """
    if source.program == "kernel" or (source.program is None and _DMESG_TIME.match(source.text)):
        return _DMESG_TIME.sub("", source.text, count=1)
    return None


def _program(source: Source, kernel: str | None) -> str | None:
    return "kernel" if kernel is not None else source.program


_LINK = re.compile(
    r"(?P<iface>[\w.-]+): (?:NIC )?[Ll]ink (?:is |becomes |state changed to )?"
    r"(?P<state>up|down|Up|Down|UP|DOWN)\b"
)


def _link(source: Source, kernel: str | None) -> Parsed | None:
    """An interface's link state: the WAN going up or down when its name says it is the WAN."""
    found = _LINK.search(kernel if kernel is not None else source.text)
    if found is None:
        return None
    iface, up = found["iface"], found["state"].lower() == "up"
    kind = Kind.OTHER
    if is_wan(iface):
        kind = Kind.WAN_UP if up else Kind.WAN_DOWN
    return Parsed(
        kind=kind,
        family=FAMILY,
        iface=iface,
        program=_program(source, kernel),
        detail=found.group(0),
    )


_ANY_FAILURE = re.compile(
    r"Out of memory|invoked oom-killer|Killed process \d+|oom_reaper|segfault at"
    r"|in a crash loop|Kernel panic"
)
_KERNEL_FAILURE = re.compile(r"Oops|BUG: |Call Trace|Unable to handle kernel|general protection")


def _failure(source: Source, kernel: str | None, severity: int) -> Parsed | None:
    text = kernel if kernel is not None else source.text
    found = _ANY_FAILURE.search(text)
    if found is None and kernel is not None:
        found = _KERNEL_FAILURE.search(kernel)
    if found is None and not (kernel is not None and severity <= _ERR):
        return None
    return Parsed(
        kind=Kind.SYSTEM_ERROR,
        family=FAMILY,
        program=_program(source, kernel),
        detail=text.strip()[:200] or None,
    )


_DHCP_VERB = re.compile(r"\bDHCP(?P<verb>DISCOVER|OFFER|REQUEST|ACK|NAK|RELEASE)\b")
_DHCP_KINDS = {
    "DISCOVER": Kind.DHCP_DISCOVER,
    "OFFER": Kind.DHCP_OFFER,
    "REQUEST": Kind.DHCP_REQUEST,
    "ACK": Kind.DHCP_ACK,
    "NAK": Kind.DHCP_NAK,
    "RELEASE": Kind.DHCP_RELEASE,
}
_MAC_WORD = re.compile(r"(?<![\w:-])[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}(?![\w:-])")
_IPV4_WORD = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.]|\.\d)")


def _dhcp(source: Source) -> Parsed | None:
    """A DHCP server verb with the client's address or MAC somewhere on the line."""
    found = _DHCP_VERB.search(source.whole)
    if found is None:
        return None
    mac_word = _MAC_WORD.search(source.whole)
    ip_word = _IPV4_WORD.search(source.whole)
    mac = mac_of(mac_word.group(0)) if mac_word else None
    ip = ip_of(ip_word.group(0)) if ip_word else None
    if mac is None and ip is None:
        return None
    return Parsed(
        kind=_DHCP_KINDS[found["verb"]],
        family=FAMILY,
        mac=mac,
        ip=ip,
        program=source.program,
        detail=found.group(0),
    )


_STATION = re.compile(
    r"\b(?:STA|[Ss]tation|[Cc]lient) (?P<mac>\S+)\b.*?"
    r"\b(?P<what>disassociated|deauthenticated|reassociated|associated)\b"
)
_STATION_KINDS = {
    "associated": Kind.WIFI_ASSOC,
    "reassociated": Kind.WIFI_ASSOC,
    "disassociated": Kind.WIFI_DISASSOC,
    "deauthenticated": Kind.WIFI_DEAUTH,
}


def _station(source: Source) -> Parsed | None:
    """A Wi-Fi station event in hostapd-like words: ``STA <mac> ... associated``."""
    found = _STATION.search(source.whole)
    if found is None:
        return None
    return Parsed(
        kind=_STATION_KINDS[found["what"]],
        family=FAMILY,
        mac=mac_of(found["mac"]),
        program=source.program,
        detail=found["what"],
    )
