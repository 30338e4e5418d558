"""The fallback reader: shapes every router firmware shares, then ``other`` with parse_ok False.

It reads syslogd's "last message repeated", kernel lines (netfilter log lines, link state, OOM,
oopses, and kernel messages at err or worse), crashes and crash loops of daemons, and DHCP and
Wi-Fi station lines in wordings no family parser knows. The severity alone makes a
``system_error`` only for the kernel: daemons log routine events at err (LuCI logins, old
OpenWrt builds log everything at "error"), so a daemon's err line counts only when its words
say it failed.
"""

from __future__ import annotations

import dataclasses
import re

from logweave.parsers.base import Kind, Line, Parsed, Role
from logweave.parsers.common import DHCP_KINDS, Source, ip_of, is_wan, mac_of, read_source

FAMILY = "generic"

_ERR = 3  # syslog severity err: err, crit, alert and emerg are <= 3
_DMESG_TIME = re.compile(r"\[\s*\d+\.\d+\]\s*")


def parse(line: Line) -> Parsed:
    source = read_source(line)
    repeat = _repeat(source) or _syslogd_itself(line)
    if repeat is not None:
        return repeat
    kernel = _kernel_text(source)
    parsed = (
        (read_netfilter(kernel, FAMILY) if kernel is not None else None)
        or _link(source, kernel)
        or _failure(source, kernel, line.severity)
        or _dhcp(source)
        or _station(source)
        or Parsed(kind=Kind.OTHER, family=FAMILY, parse_ok=False, program=_program(source, kernel))
    )
    stamp = _DMESG_TIME.match(source.text) if kernel is not None else None
    if stamp is not None:
        # The uptime stamp names one kernel message, whichever way it reached us.
        fingerprint = f"{stamp.group(0).strip()} {kernel.strip() if kernel else ''}"
        parsed = dataclasses.replace(parsed, fingerprint=fingerprint)
    return parsed


# BusyBox and sysklogd write the first form, rsyslog's own reduction the second.
_REPEAT = re.compile(r"(?:last )?message repeated (?P<times>\d+) times?\b")


def _repeat(source: Source) -> Parsed | None:
    # rsyslog may have taken "last" for the HOSTNAME and "message" for the TAG.
    found = _REPEAT.match(source.text.strip()) or _REPEAT.match(source.whole.strip())
    if found is None:
        return None
    return Parsed(
        kind=Kind.OTHER,
        family=FAMILY,
        program=source.program,
        detail=f"repeated {found['times']} times",
        role=Role.REPEAT,
    )


# BusyBox syslogd's own start and stop lines have no colon after the daemon's name ("syslogd
# exiting", "syslogd started: BusyBox v1.25.1"), so rsyslog reads "syslogd" as the HOSTNAME.
_SYSLOGD_ITSELF = re.compile(r"(?:exiting|started: BusyBox v\S+)\s*")


def _syslogd_itself(line: Line) -> Parsed | None:
    if line.hostname != "syslogd" or not _SYSLOGD_ITSELF.fullmatch(line.tag_and_msg):
        return None
    what = line.tag_and_msg.split(":", 1)[0].strip()
    return Parsed(kind=Kind.OTHER, family=FAMILY, program="syslogd", detail=f"syslogd {what}")


def _kernel_text(source: Source) -> str | None:
    """The kernel's message without its uptime stamp, or None when the kernel did not write it.

    A raw dmesg line pasted or relayed without a tag is the kernel's too.
    """
    if source.program == "kernel" or (source.program is None and _DMESG_TIME.match(source.text)):
        return _DMESG_TIME.sub("", source.text, count=1)
    return None


def _program(source: Source, kernel: str | None) -> str | None:
    return "kernel" if kernel is not None else source.program


# A netfilter LOG line: "<prefix>IN=eth0 OUT= MAC=... SRC=a DST=b ... PROTO=TCP SPT=1 DPT=2".
_NETFILTER = re.compile(
    r"(?P<prefix>.*?)\s*IN=(?P<iface>\S*) OUT=\S*\s.*?\bSRC=(?P<src>\S+) DST=(?P<dst>\S+)"
    r".*?\bPROTO=(?P<proto>\S+)(?:.*?\bDPT=(?P<dport>\d+))?"
)
# The rule's log prefix says what it did: a word, or the UniFi gateway's rule-name suffix
# ("[WAN_LOCAL-default-D]": D drop, R reject, A accept).
_NETFILTER_DROP = re.compile(r"drop|reject|block|deny|-[DR]\]", re.IGNORECASE)


def read_netfilter(text: str, family: str) -> Parsed | None:
    """A kernel netfilter LOG line: a firewall drop when its prefix names one, else other."""
    found = _NETFILTER.search(text)
    if found is None:
        return None
    prefix = found["prefix"].strip()
    return Parsed(
        kind=Kind.FIREWALL_DROP if _NETFILTER_DROP.search(prefix) else Kind.OTHER,
        family=family,
        ip=ip_of(found["src"]),
        iface=found["iface"] or None,
        program="kernel",
        detail=prefix or None,
        dst=ip_of(found["dst"]),
        proto=found["proto"].lower(),
        dport=int(found["dport"]) if found["dport"] else None,
    )


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
# The OOM killer's decision and its report of the kill both name the victim's pid.
_OOM_VICTIM = re.compile(r"\bKill(?:ed)? process (?P<pid>\d+)")


def _failure(source: Source, kernel: str | None, severity: int) -> Parsed | None:
    text = kernel if kernel is not None else source.text
    found = _ANY_FAILURE.search(text)
    if found is None and kernel is not None:
        found = _KERNEL_FAILURE.search(kernel)
    if found is None and not (kernel is not None and severity <= _ERR):
        return None
    victim = _OOM_VICTIM.search(text)
    return Parsed(
        kind=Kind.SYSTEM_ERROR,
        family=FAMILY,
        program=_program(source, kernel),
        detail=text.strip()[:200] or None,
        subject=f"oom kill {victim['pid']}" if victim else None,
    )


_DHCP_VERB = re.compile(r"\bDHCP(?P<verb>DISCOVER|OFFER|REQUEST|ACK|NAK|RELEASE)\b")
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
        kind=DHCP_KINDS[found["verb"]],
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
