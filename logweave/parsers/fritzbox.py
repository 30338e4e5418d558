"""AVM FRITZ!Box event log (German wording): Wi-Fi devices, Internet connection, logins.

The FRITZ!Box writes umlauts in UTF-8, or in ISO-8859-1 where a relay re-encoded the line; the
second arrives with each invalid byte replaced (``WLAN-Ger?t``), so the patterns allow for it.
"""

from __future__ import annotations

import re

from logweave.parsers.base import Kind, Line, Parsed, Role
from logweave.parsers.common import Source, band_of_text, ip_of, mac_of, read_source, word

FAMILY = "fritzbox"

_DEVICE = r"WLAN-Ger\S{0,3}t"
_STATION = re.compile(
    rf"{_DEVICE} (?P<verb>angemeldet|wurde abgemeldet|hat sich abgemeldet)"
    r" \((?P<band>[^)]*)\),(?: [\d,.]+ [MG]bit/s,)? (?P<host>[^,]+), IP (?P<ip>[^,\s]+?)"
    r"(?:, MAC (?P<mac>[^,\s]+?))?\.?$"
)
_AUTH_FAILED = re.compile(
    rf"(?:WLAN-Anmeldung|Anmeldung (?:des |am )?{_DEVICE}) ist gescheitert"
    r".*?(?:MAC (?P<mac>[\w:]+))?"
)
_INTERNET = re.compile(
    r"Internetverbindung wurde (?P<state>erfolgreich hergestellt|getrennt)"
    r"(?:.*?IP-Adresse: (?P<ip>[^,\s]+))?"
)
_LOGIN = re.compile(
    r"des Benutzers \S+ an der FRITZ!Box-Benutzeroberfl\S* von IP-Adresse (?P<ip>\S+)"
)
_CHANNEL = re.compile(r"WLAN-Autokanal:")
_DATE_OR_TIME = re.compile(r"\d\d\.\d\d\.\d\d|\d\d:\d\d:\d\d")


def parse(line: Line) -> Parsed | None:
    source = read_source(line)
    return _station(source) or _other_events(source) or _date_alone(line)


def _station(source: Source) -> Parsed | None:
    found = _STATION.search(source.whole)
    if found is not None:
        return Parsed(
            kind=Kind.WIFI_ASSOC if found["verb"] == "angemeldet" else Kind.WIFI_DISASSOC,
            family=FAMILY,
            mac=mac_of(found["mac"]),
            ip=ip_of(found["ip"]),
            hostname=word(found["host"]),
            band=band_of_text(found["band"]),
            detail=found["verb"],
        )
    failed = _AUTH_FAILED.search(source.whole)
    if failed is not None:
        return Parsed(
            kind=Kind.WIFI_AUTH_FAIL, family=FAMILY, mac=mac_of(failed["mac"]), detail="gescheitert"
        )
    return None


def _other_events(source: Source) -> Parsed | None:
    internet = _INTERNET.search(source.whole)
    if internet is not None:
        up = internet["state"] != "getrennt"
        return Parsed(
            kind=Kind.WAN_UP if up else Kind.WAN_DOWN,
            family=FAMILY,
            ip=ip_of(internet["ip"]) if up else None,
            detail=internet["state"],
        )
    login = _LOGIN.search(source.whole)
    if login is not None:
        return Parsed(kind=Kind.OTHER, family=FAMILY, ip=ip_of(login["ip"]), detail="login")
    if _CHANNEL.search(source.whole):
        band = band_of_text(source.whole)
        return Parsed(kind=Kind.OTHER, family=FAMILY, band=band, detail="auto channel")
    return None


def _date_alone(line: Line) -> Parsed | None:
    """The web page shows each entry as date, time and text on three lines.

    rsyslog takes a date such as ``03.02.23`` alone on a line for the HOSTNAME, so the line's
    text is then its hostname.
    """
    text = (line.tag_and_msg or line.msg).strip() or line.hostname.strip()
    if not _DATE_OR_TIME.fullmatch(text):
        return None
    return Parsed(
        kind=Kind.OTHER,
        family=FAMILY,
        detail="date or time of the next entry",
        role=Role.FRAGMENT,
    )
