"""OpenWrt and the firmware built on it: hostapd, dnsmasq, odhcpd, netifd, mwan3, pppd, dropbear.

hostapd and dnsmasq run on most Linux routers, so their readers are public and other families
call them with their own family name. Kernel lines are read by ``generic``: every Linux
firmware writes them the same way.
"""

from __future__ import annotations

import re

from logweave.parsers.base import Kind, Line, Parsed
from logweave.parsers.common import (
    DHCP_KINDS,
    Source,
    band_of_iface,
    ip_of,
    is_wan,
    mac_of,
    read_source,
    word,
)

FAMILY = "openwrt"


def parse(line: Line) -> Parsed | None:
    source = read_source(line)
    return (
        read_hostapd(source, FAMILY)
        or read_dnsmasq(source, FAMILY)
        or _odhcpd(source)
        or _netifd(source)
        or _mwan3(source)
        or _pppd(source)
        or _dropbear(source)
        or _logread(source)
    )


# --- hostapd ---------------------------------------------------------------------------------

_HOSTAPD_EVENT = re.compile(
    r"(?:(?P<iface>[\w.-]+): )?(?P<event>AP-STA-[A-Z-]+|CTRL-EVENT-[A-Z-]+|EAPOL-4WAY-HS-COMPLETED)"
    r"(?: (?P<mac>\S+))?"
)
_HOSTAPD_STA = re.compile(
    r"(?P<iface>[\w.-]+): STA (?P<mac>\S+) (?P<module>IEEE 802\.11|IEEE 802\.1X|WPA|RADIUS|MLME"
    r"|DRIVER|WMM|HOSTAPD|ACL): (?P<what>.*)"
)
_EVENT_KINDS = {
    "AP-STA-CONNECTED": Kind.WIFI_ASSOC,
    "AP-STA-DISCONNECTED": Kind.WIFI_DISASSOC,
    "AP-STA-POSSIBLE-PSK-MISMATCH": Kind.WIFI_AUTH_FAIL,
    "CTRL-EVENT-EAP-FAILURE": Kind.WIFI_AUTH_FAIL,
}
# hostapd's IEEE 802.11 and 802.1X wording, first match wins ("disassociated" before
# "associated", and "authenticated" alone is the open-system step, not an association).
_STA_KINDS = (
    (re.compile(r"(?:re)?associated\b"), Kind.WIFI_ASSOC),
    (re.compile(r"disassociated\b"), Kind.WIFI_DISASSOC),
    (re.compile(r"deauthenticated\b"), Kind.WIFI_DEAUTH),
    (re.compile(r"did not acknowledge authentication response"), Kind.WIFI_AUTH_FAIL),
    (re.compile(r"authentication failed"), Kind.WIFI_AUTH_FAIL),
)


def read_hostapd(source: Source, family: str) -> Parsed | None:
    """hostapd's station lines (``iface: STA mac MODULE: text``) and control events."""
    found = _HOSTAPD_STA.search(source.text) or _HOSTAPD_STA.search(source.whole)
    if found is not None:
        kind = Kind.OTHER
        for pattern, candidate in _STA_KINDS:
            if pattern.match(found["what"]):
                kind = candidate
                break
        return _wifi(kind, found["mac"], found["iface"], found["what"], source, family)
    # Searched in the text after the tag, so that "hostapd: " is not taken for an interface.
    found = _HOSTAPD_EVENT.search(source.text)
    if found is not None and (found["iface"] or source.program in ("hostapd", "wpa_supplicant")):
        kind = _EVENT_KINDS.get(found["event"], Kind.OTHER)
        return _wifi(kind, found["mac"], found["iface"], found["event"], source, family)
    return None


def _wifi(
    kind: Kind, mac: str | None, iface: str | None, detail: str, source: Source, family: str
) -> Parsed:
    return Parsed(
        kind=kind,
        family=family,
        mac=mac_of(mac),
        iface=iface,
        band=band_of_iface(iface),
        program=source.program or "hostapd",
        detail=detail.strip() or None,
    )


# --- dnsmasq ---------------------------------------------------------------------------------

_DNSMASQ = re.compile(r"\bDHCP(?P<verb>[A-Z]{2,12})\((?P<iface>[^)\s]{0,32})\)(?P<rest>(?: \S*)*)")
_DNSMASQ_NAME_DROPPED = re.compile(r"Ignoring domain \S+ for DHCP host name (?P<host>\S+)")


def read_dnsmasq(source: Source, family: str) -> Parsed | None:
    """dnsmasq's ``DHCPVERB(iface) [ip] mac [name or reason]`` lines (DHCPv4 server side)."""
    found = _DNSMASQ.search(source.whole)
    if found is None:
        dropped = _DNSMASQ_NAME_DROPPED.search(source.whole)
        if dropped is None:
            return None
        return Parsed(
            kind=Kind.OTHER,
            family=family,
            hostname=dropped["host"],
            program=source.program,
            detail="dhcp_hostname_domain_dropped",
        )
    words = found["rest"].split()
    ip = ip_of(words[0]) if words else None
    if ip is not None:
        words = words[1:]
    mac = mac_of(words[0]) if words else None
    extra = " ".join(words[1:]) if words else ""
    kind = DHCP_KINDS.get(found["verb"], Kind.OTHER)
    # Only an ACK names the client; after a NAK, DECLINE or RELEASE the words are the reason.
    hostname = word(extra) if kind is Kind.DHCP_ACK else None
    return Parsed(
        kind=kind,
        family=family,
        mac=mac,
        ip=ip,
        hostname=hostname,
        iface=found["iface"] or None,
        program=source.program,
        detail=f"DHCP{found['verb']}" + (f": {extra}" if extra and hostname is None else ""),
    )


# --- odhcpd ----------------------------------------------------------------------------------

_ODHCPD_RECEIVED = re.compile(
    r"[Rr]eceived DHCPV4_MSG_(?P<verb>[A-Z]+) from (?P<mac>\S+)(?: on (?P<iface>\S+))?"
)
_ODHCPD_SENT = re.compile(r"Sent DHCPV4_MSG_(?P<verb>[A-Z]+) to (?P<mac>\S+) - (?P<ip>\S+)")
_ODHCPD_BYTES = re.compile(r"Received \d+ Bytes from (?P<ip>[^%\s]+)%(?P<iface>[^@\s]+)")
_ODHCPD_GOT = re.compile(r"Got DHCPv4 request(?: on (?P<iface>\S+))?")


def _odhcpd(source: Source) -> Parsed | None:
    for pattern in (_ODHCPD_RECEIVED, _ODHCPD_SENT):
        found = pattern.search(source.whole)
        if found is not None:
            values = found.groupdict()
            return Parsed(
                kind=DHCP_KINDS.get(found["verb"], Kind.OTHER),
                family=FAMILY,
                mac=mac_of(values.get("mac")),
                ip=ip_of(values.get("ip")),
                iface=values.get("iface"),
                program=source.program,
                detail=f"DHCPV4_MSG_{found['verb']}",
            )
    for pattern in (_ODHCPD_BYTES, _ODHCPD_GOT):
        found = pattern.search(source.whole)
        if found is not None:
            values = found.groupdict()
            return Parsed(
                kind=Kind.OTHER,
                family=FAMILY,
                ip=ip_of(values.get("ip")),
                iface=values.get("iface"),
                program=source.program,
            )
    return None


# --- netifd and mwan3 ------------------------------------------------------------------------

_NETIFD_STATE = re.compile(
    r"(?P<what>Interface|Network device) '(?P<iface>[^']+)' (?P<state>is now up|is now down"
    r"|link is up|link is down|has link connectivity loss|has link connectivity|is setting up now"
    r"|is disabled|is enabled|has lost the connection)"
)
_NETIFD_UP = frozenset({"is now up", "link is up", "has link connectivity"})
_NETIFD_DOWN = frozenset(
    {"is now down", "link is down", "has link connectivity loss", "has lost the connection"}
)
_NETIFD_PROTO = re.compile(r"(?P<iface>[\w.-]+) \(\d+\): (?P<text>.*)")
_UDHCPC_ADDRESS = re.compile(
    r"(?:[Ll]ease of (?P<lease>\S+) obtained|unicasting a release of (?P<release>\S+) to)"
)


def _netifd(source: Source) -> Parsed | None:
    found = _NETIFD_STATE.search(source.whole)
    if found is not None:
        iface, state = found["iface"], found["state"]
        kind = Kind.OTHER
        if is_wan(iface) and state in _NETIFD_UP:
            kind = Kind.WAN_UP
        elif is_wan(iface) and state in _NETIFD_DOWN:
            kind = Kind.WAN_DOWN
        return Parsed(kind=kind, family=FAMILY, iface=iface, program=source.program, detail=state)
    if source.program != "netifd":
        return None
    # "wan (4940): udhcpc: ..." is a protocol handler netifd runs for the interface; a lease
    # obtained again is a renewal, not the WAN coming up (netifd says "is now up" for that).
    found = _NETIFD_PROTO.match(source.text)
    if found is None:
        return None
    address = _UDHCPC_ADDRESS.search(found["text"])
    ip = None if address is None else ip_of(address["lease"] or address["release"])
    return Parsed(
        kind=Kind.OTHER,
        family=FAMILY,
        ip=ip,
        iface=found["iface"],
        program=source.program,
        detail=found["text"].strip() or None,
    )


_MWAN3_STATE = re.compile(
    r"Interface (?P<iface>[\w.-]+) \([^)]*\) is (?P<state>online|offline|connecting|disconnecting)"
)
_MWAN3_HOTPLUG = re.compile(r"Detect (?P<event>ifup|ifdown) event on interface (?P<iface>[\w.-]+)")


def _mwan3(source: Source) -> Parsed | None:
    found = _MWAN3_STATE.search(source.whole)
    if found is not None:
        iface, state = found["iface"], found["state"]
        kind = Kind.OTHER
        if is_wan(iface) and state == "online":
            kind = Kind.WAN_UP
        elif is_wan(iface) and state == "offline":
            kind = Kind.WAN_DOWN
        return Parsed(kind=kind, family=FAMILY, iface=iface, program=source.program, detail=state)
    found = _MWAN3_HOTPLUG.search(source.whole)
    if found is not None:
        return Parsed(
            kind=Kind.OTHER,
            family=FAMILY,
            iface=found["iface"],
            program=source.program,
            detail=found["event"],
        )
    return None


# --- pppd and dropbear -----------------------------------------------------------------------

# pppd's own words when the session ends, and when it has an address again.
_PPP_DOWN = re.compile(
    r"LCP terminated by peer|Modem hangup|Connection terminated\.?$|Terminating on signal"
    r"|No response to \d+ echo-requests|Serial link appears to be disconnected"
)
_PPP_UP = re.compile(r"local +IP address (?P<ip>\S+)")
# pppd's routine lines around a session, known and counted as "other": start, plugin, PPPoE
# discovery, authentication, the peer's addresses, statistics and exit. Its failures are left to
# the generic reader, which knows failure words.
_PPP_ROUTINE = re.compile(
    r"pppd [\d.]+ started by|Plugin \S+ loaded|PPP session is \d+|Connected to \S+ via interface"
    r"|Using interface|Connect: \S+ <--> |Renamed interface|(?:PAP|CHAP|EAP) authentication"
    r" succeeded|Remote message:|peer from calling number \S+ authorized|remote +IP address"
    r"|(?:primary|secondary) +DNS address|(?:local|remote) +LL address|Connect time [\d.]+ minutes"
    r"|Sent \d+ bytes, received \d+ bytes|Sent PADT|Exit\.$"
)


def _pppd(source: Source) -> Parsed | None:
    if source.program != "pppd":
        return None
    text = source.text.strip()
    if _PPP_DOWN.search(text):
        return Parsed(kind=Kind.WAN_DOWN, family=FAMILY, program="pppd", detail=text)
    up = _PPP_UP.search(text)
    if up is not None:
        return Parsed(
            kind=Kind.WAN_UP, family=FAMILY, ip=ip_of(up["ip"]), program="pppd", detail=text
        )
    routine = _PPP_ROUTINE.match(text)
    if routine is not None:
        return Parsed(kind=Kind.OTHER, family=FAMILY, program="pppd", detail=routine.group(0))
    return None


# SSH logins are not Wi-Fi events: these lines are known and counted as "other".
_DROPBEAR = re.compile(
    r"(?P<what>Bad password attempt|Login attempt for nonexistent user|Exit before auth"
    r"|Client trying multiple usernames|Password auth succeeded|Pubkey auth succeeded"
    r"|Exit \([^)]*\)|Child connection from|Max auth tries reached)"
)


def _dropbear(source: Source) -> Parsed | None:
    if source.program != "dropbear":
        return None
    found = _DROPBEAR.search(source.text)
    if found is None:
        return None
    return Parsed(kind=Kind.OTHER, family=FAMILY, program="dropbear", detail=found["what"])


# logd's remote logging (logread -r) names the log server it reaches.
_LOGREAD = re.compile(r"Logread connected to (?P<ip>\S+)")


def _logread(source: Source) -> Parsed | None:
    found = _LOGREAD.search(source.whole)
    if found is None:
        return None
    return Parsed(
        kind=Kind.OTHER,
        family=FAMILY,
        ip=ip_of(found["ip"]),
        program="logread",
        detail="remote log server",
    )
