"""Pieces every family parser needs: who wrote a line, and clean MAC, IP, band and WAN values."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from logweave.parsers.base import Kind, Line

# --- DHCP ------------------------------------------------------------------------------------

# The DHCP message types every server logs by name (DHCPACK, "Send ACK", ...), as kinds.
DHCP_KINDS = {
    "DISCOVER": Kind.DHCP_DISCOVER,
    "OFFER": Kind.DHCP_OFFER,
    "REQUEST": Kind.DHCP_REQUEST,
    "ACK": Kind.DHCP_ACK,
    "NAK": Kind.DHCP_NAK,
    "RELEASE": Kind.DHCP_RELEASE,
}


# --- who wrote the line ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """A line's writer and text, after undoing rsyslog's header guesses where they went wrong.

    ``program`` is the daemon that wrote the line (None when nothing names one), ``text`` the
    message after that daemon's tag, ``whole`` everything after the HOSTNAME. Patterns that are
    specific enough search ``whole``, so that they still match when rsyslog took a message word
    for the TAG (``DHCPACK(br-lan) 192.0.2.5 ...`` with no tag at all, for one).
    """

    program: str | None
    text: str
    whole: str


_MONTHS_AND_DAYS = frozenset(
    {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
    | {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
)
_PROGRAM_SHAPE = re.compile(r"\(?[A-Za-z0-9][\w.-]*\)?")
_IPV4_SHAPE = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_LEVEL_WORDS = "emerg|alert|crit|err|error|warn|warning|notice|info|debug"
# Words that can stand before a daemon's tag once rsyslog has taken the real header for MSG:
# a grep -n prefix, times and dates (whole or cut), "facility.level", a relay's IP address, a
# HOSTNAME rsyslog refused (it must end in a letter or digit), UniFi's "MAC,MODEL-VERSION:".
_HEADER_WORD = (
    r"(?:<\d{1,3}>|\d{1,6}:(?=[A-Za-z])|\d{1,4}|\d{1,2}:\d\d(?::\d\d)?(?:\.\d+)?"
    r"|\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d)?"
    r"|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    rf"|[a-z]+\d?\.(?:{_LEVEL_WORDS})|\d{{1,3}}(?:\.\d{{1,3}}){{3}}|[\w.-]*[-_.]"
    r"|[0-9A-Za-z_-]+,[\w.+,-]+:?|:)"
)
_EMBEDDED_TAG = re.compile(
    rf"\s*(?:{_HEADER_WORD}(?:\s+|(?<=:)(?=[A-Za-z])))*"
    r"(?P<tag>\(?[A-Za-z][\w.-]*\)?)(?:\[\d*\])?:(?:\s+|$)(?P<text>.*)",
    re.DOTALL,
)


def read_source(line: Line) -> Source:
    whole = line.tag_and_msg or (f"{line.program}: {line.msg}" if line.program else line.msg)
    if _plausible_program(line.program):
        return Source(line.program.strip("()"), line.msg, whole)
    embedded = _EMBEDDED_TAG.fullmatch(whole)
    if embedded is not None:
        return Source(embedded["tag"].strip("()"), embedded["text"], whole)
    return Source(None, whole.strip(), whole)


def _plausible_program(program: str) -> bool:
    """False for what rsyslog took for a TAG although it is a date, a number or an address."""
    name = program.strip("()")
    if not _PROGRAM_SHAPE.fullmatch(program) or name.endswith("-") or name.isdigit():
        return False
    return program.lower() not in _MONTHS_AND_DAYS and not _IPV4_SHAPE.fullmatch(program)


# --- values ----------------------------------------------------------------------------------

_MAC = re.compile(r"[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}")
_NOT_A_CLIENT = frozenset({"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"})


def mac_of(token: str | None) -> str | None:
    """A client MAC, lower case and colon separated; None for placeholders and broken values."""
    if not token:
        return None
    token = token.strip("<>()[],.;")
    if not _MAC.fullmatch(token):
        return None
    mac = token.lower().replace("-", ":")
    return None if mac in _NOT_A_CLIENT else mac


def ip_of(token: str | None) -> str | None:
    """An IP address from a token such as ``192.0.2.1``, ``[192.0.2.1]``, ``192.0.2.1:514``,
    ``fe80::1%eth0`` or ``<192.0.2.1:22>``; None for masks, unspecified and broadcast values.
    """
    if not token:
        return None
    for candidate in (token.strip("<>()[],;."), token.strip("<>()[],;.:")):
        candidate = candidate.split("%", 1)[0]
        if candidate.count(":") == 1 and "." in candidate:
            candidate = candidate.split(":", 1)[0]  # IPv4 with a port
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        if address.is_unspecified or str(address) == "255.255.255.255":
            return None
        return str(address)
    return None


_GHZ = re.compile(r"(?<![\d.,])(?P<number>[256](?:[.,]\d+)?) ?GHz")


def band_of_text(text: str) -> str | None:
    """The band a line states in words: ``(2,4 GHz)``, ``5 GHz``, ``Frequenz 5.260 GHz``."""
    found = _GHZ.search(text)
    if found is None:
        return None
    number = found["number"].replace(",", ".")
    return "2.4GHz" if number.startswith("2") else f"{number.split('.', 1)[0]}GHz"


def band_of_iface(iface: str | None) -> str | None:
    """The band an interface name makes unambiguous (MediaTek: raN 2.4 GHz, raiN 5 GHz)."""
    if iface is None:
        return None
    if re.fullmatch(r"rai\d+", iface):
        return "5GHz"
    if re.fullmatch(r"ra\d+", iface):
        return "2.4GHz"
    return None


def is_wan(iface: str | None) -> bool:
    """Whether a network or interface name is the WAN (``wan``, ``wan6``, ``pppoe-wan``, ...)."""
    return iface is not None and "wan" in iface.lower()


def word(text: str | None) -> str | None:
    """A single word (a client hostname), or None for empty or several words."""
    if text is None:
        return None
    text = text.strip()
    return text if text and not any(c.isspace() for c in text) else None
