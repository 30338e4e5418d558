"""Ubiquiti UniFi access points and gateways: stahtd's JSON station events, wevent, hostapd, and
the gateways' firewall log lines.

UniFi writes a ``MAC,MODEL-VERSION`` token (``020000160002,UAP-AC-Pro-Gen2-6.0``) where the
syslog HOSTNAME or TAG would be; its hostapd lines are read by the OpenWrt reader and reported
under this family.
"""

from __future__ import annotations

import json
import re

from logweave.parsers.base import Kind, Line, Parsed
from logweave.parsers.common import Source, ip_of, mac_of, read_source
from logweave.parsers.generic import read_netfilter
from logweave.parsers.openwrt import read_hostapd

FAMILY = "unifi"

_DEVICE_TOKEN = re.compile(r"(?:^|\s)(?:[\w-]+,)?[0-9A-Fa-f]{12},[\w.+-]+:?(?:\s|$)")


def parse(line: Line) -> Parsed | None:
    source = read_source(line)
    parsed = _stahtd(source) or _wevent(source) or _firewall(source)
    token = _DEVICE_TOKEN.search(source.whole)
    if parsed is None and token is not None:
        parsed = read_hostapd(source, FAMILY) or _device_line(source.whole[token.end() :])
    return parsed


# What follows the device token: a module's word (``NETDEV:``, ``kernel:``), then its text, or
# nothing at all when the device sent an empty message.
_MODULE = re.compile(r"\s*(?:(?P<module>[\w.-]+):)?\s*(?P<text>.*)", re.DOTALL)


def _device_line(rest: str) -> Parsed:
    """Any other line of a UniFi device: ``other``.

    Its module word is not a syslog TAG, so ``program`` stays None.
    """
    found = _MODULE.fullmatch(rest)
    module = found["module"] if found is not None else None
    return Parsed(kind=Kind.OTHER, family=FAMILY, detail=module or "empty message")


_STAHTD = re.compile(r"stahtd_dump_event\(\): (?P<event>\{.*\})")
# stahtd reports one record per association attempt; "success" is a completed association,
# "fixup" and the rest are its bookkeeping.
_STAHTD_KINDS = {"success": Kind.WIFI_ASSOC}


def _stahtd(source: Source) -> Parsed | None:
    found = _STAHTD.search(source.whole)
    if found is None:
        return None
    try:
        event = json.loads(found["event"])
    except ValueError:
        return None
    if not isinstance(event, dict):
        return None
    event_type = str(event.get("event_type", ""))
    return Parsed(
        kind=_STAHTD_KINDS.get(event_type, Kind.OTHER),
        family=FAMILY,
        mac=mac_of(str(event.get("mac", ""))),
        iface=str(event["vap"]) if event.get("vap") else None,
        program="stahtd",
        detail=f"{event.get('message_type', '')} {event_type}".strip() or None,
    )


_WEVENT = re.compile(
    r"EVENT_STA_(?P<event>[A-Z_]+) (?P<iface>[\w.-]+): (?P<mac>\S+)(?: / (?P<ip>\S+))?"
)
_WEVENT_KINDS = {"JOIN": Kind.WIFI_ASSOC, "LEAVE": Kind.WIFI_DISASSOC}


def _wevent(source: Source) -> Parsed | None:
    found = _WEVENT.search(source.whole)
    if found is None:
        return None
    return Parsed(
        kind=_WEVENT_KINDS.get(found["event"], Kind.OTHER),
        family=FAMILY,
        mac=mac_of(found["mac"]),
        ip=ip_of(found["ip"]),
        iface=found["iface"],
        program="wevent",
        detail=f"EVENT_STA_{found['event']}",
    )


# A USG or UDM rule logs under its name, "[WAN_IN-3001-D]" or "[WAN_LOCAL-default-D]", whose last
# letter is the action (A accept, D drop, R reject), straight before netfilter's IN=.
_RULE_NAME = re.compile(r"\[[\w.-]+-[ADR]\]\s*IN=")


def _firewall(source: Source) -> Parsed | None:
    if not _RULE_NAME.search(source.text):
        return None
    return read_netfilter(source.text, FAMILY)
