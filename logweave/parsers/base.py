"""What a parser returns: one typed record per event, the input of the metrics tables."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    WIFI_ASSOC = "wifi_assoc"
    WIFI_DISASSOC = "wifi_disassoc"
    WIFI_DEAUTH = "wifi_deauth"
    WIFI_AUTH_FAIL = "wifi_auth_fail"
    DHCP_DISCOVER = "dhcp_discover"
    DHCP_OFFER = "dhcp_offer"
    DHCP_REQUEST = "dhcp_request"
    DHCP_ACK = "dhcp_ack"
    DHCP_NAK = "dhcp_nak"
    DHCP_RELEASE = "dhcp_release"
    WAN_UP = "wan_up"
    WAN_DOWN = "wan_down"
    SYSTEM_ERROR = "system_error"
    FIREWALL_DROP = "firewall_drop"
    OTHER = "other"

    @property
    def group(self) -> str:
        """The metrics table family: wifi, dhcp, wan, system, firewall or other."""
        return self.value.split("_", 1)[0]


class Role(StrEnum):
    """How a line stands to the lines around it, as far as the line itself shows."""

    EVENT = "event"  # a report of its own
    RECORD_START = "record_start"  # opens a record whose fields follow one per line (RouterOS)
    RECORD_FIELD = "record_field"  # one ``name = value`` line of the record opened before it
    FRAGMENT = "fragment"  # the date or time of the entry on the next line (Fritz!Box page)
    REPEAT = "repeat"  # syslogd's "last message repeated N times"


# Kinds that count as a problem for a client device in metrics_device_daily.
PROBLEM_KINDS = frozenset({Kind.WIFI_DEAUTH, Kind.WIFI_AUTH_FAIL, Kind.DHCP_NAK})


@dataclass(frozen=True, slots=True)
class Line:
    """The parts of an event a parser reads: the syslog tag's program and the message text.

    ``msg`` has rsyslog's leading space removed and its ``#011``-style control escapes
    (which rsyslog writes for TAB and friends) turned back into the characters.
    ``tag_and_msg`` is the syslog TAG and MSG joined again as the router wrote them (escapes
    undone): rsyslog's RFC 3164 reading takes the first word for HOSTNAME or TAG when a line has
    no proper tag, so a parser that finds nothing in ``msg`` can look at the whole text. Empty
    when the caller had no TAG to give.
    """

    program: str
    msg: str
    hostname: str
    severity: int
    tag_and_msg: str = ""


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parser's reading of one line. Fields a line does not carry stay None."""

    kind: Kind
    family: str
    parse_ok: bool = True
    mac: str | None = None
    ip: str | None = None
    hostname: str | None = None
    iface: str | None = None
    ssid: str | None = None
    band: str | None = None
    program: str | None = None
    detail: str | None = None
    # Firewall drops: the source is ``ip``; these are where the packet was going.
    dst: str | None = None
    proto: str | None = None
    dport: int | None = None
    role: Role = Role.EVENT
    # A RECORD_FIELD's name and value, as written (``("chaddr", "02:00:...")``).
    field: tuple[str, str] | None = None
    # What the event is about when neither the MAC nor the WAN says it: two reports of one kind
    # about one subject close in time are one event (the pid an OOM kill names, for one).
    subject: str | None = None
    # The line's own identity when it carries one that survives a second delivery path: the
    # kernel's uptime stamp and text, the same whether read from the console or from syslog.
    fingerprint: str | None = None
