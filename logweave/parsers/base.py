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
