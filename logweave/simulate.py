"""``logweave simulate``: believable syslog from a few home routers and their Wi-Fi clients.

Each router is one firmware family and prints what its daemons print: OpenWrt (hostapd,
dnsmasq-dhcp, netifd, pppd, kernel), ASUSWRT-Merlin (Broadcom wlceventd, dnsmasq, WAN_Connection)
and a Linux gateway with ISC dhcpd, hostapd and dhclient. Clients keep their MAC address and
hostname, join and leave on a daily rhythm, roam between the 2.4 and 5 GHz radios, renew their
leases, now and then type a wrong Wi-Fi password or come back with an address from another
network (DHCPNAK); WAN links drop and return, and daemons fail occasionally.

Lines are RFC 3164 with PRI and each router's own HOSTNAME, in simulated-time order. The same
seed and start give the same lines. Sent through one rsyslog on one machine, every line has the
same fromhost-ip (the simulator's address): tell the routers apart by hostname.

``generate`` is the engine; ``main`` adds pacing and the outputs (file, stdout, UDP, TCP).
"""

from __future__ import annotations

import argparse
import heapq
import ipaddress
import itertools
import random
import re
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import BinaryIO

# Facilities and severities (RFC 5424 numbers) the daemons below log with.
KERN, USER, DAEMON, CRON, AUTHPRIV = 0, 1, 3, 9, 10
ERR, WARNING, NOTICE, INFO = 3, 4, 5, 6

_DAY = 86400.0
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# One line of an episode: seconds after the episode starts, PRI, TAG (with [pid]) and MSG.
Say = tuple[float, int, str, str]


def say(offset: float, facility: int, severity: int, tag: str, msg: str) -> Say:
    return (offset, facility * 8 + severity, tag, msg)


def generate(
    routers: int = 3,
    clients: int = 24,
    span: float = _DAY,
    start: float | None = None,
    seed: int | None = None,
) -> Iterator[tuple[float, bytes]]:
    """Yield ``(sim_time, line)`` in time order for ``span`` seconds from ``start``.

    ``sim_time`` is a Unix time in seconds; ``line`` is one RFC 3164 message with PRI and no
    trailing newline. ``start`` defaults to now minus ``span``.
    """
    if routers < 1 or clients < 0 or span <= 0:
        raise ValueError("routers must be >= 1, clients >= 0 and span > 0")
    first = time.time() - span if start is None else start
    return Simulation(routers, clients, first, first + span, random.Random(seed)).run()


# --- clients -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Habits:
    """How a kind of device behaves; times are means in seconds."""

    session: float
    away: float
    roam: float  # 0: stays on one radio
    wrong_psk: float  # chance that a join fails on the password
    foreign_lease: float  # chance that it asks for an address from another network first
    sleeps_at_night: bool


HABITS = {
    "phone": Habits(3 * 3600, 2 * 3600, 2 * 3600, 0.02, 0.15, True),
    "laptop": Habits(4 * 3600, 6 * 3600, 4 * 3600, 0.02, 0.10, True),
    "tv": Habits(3 * 3600, 10 * 3600, 0, 0.0, 0.0, True),
    "iot": Habits(2 * _DAY, 600, 0, 0.0, 0.02, False),
    "visitor": Habits(3600, 8 * 3600, 2 * 3600, 0.5, 0.5, True),
}
_KINDS = ("phone", "phone", "laptop", "iot", "iot", "tv", "phone", "laptop", "iot", "visitor")


@dataclass(slots=True)
class Client:
    mac: str
    hostname: str  # "" when the device sends none
    kind: str
    habits: Habits
    router: Router
    host_octet: int
    five_ghz: bool  # the radio it is on now
    online: bool = False
    session: int = 0  # bumped at each join and leave, so stale scheduled events are dropped
    lease_until: float = 0.0
    aid: int = 1

    @property
    def ip(self) -> str:
        return f"{self.router.subnet}.{self.host_octet}"


def _client_hostname(kind: str, rng: random.Random) -> str:
    tag = "".join(rng.choices("0123456789abcdef", k=6))
    names = {
        "phone": ("iPhone", f"Pixel-{rng.randint(5, 9)}", f"Galaxy-S{rng.randint(20, 24)}", ""),
        "laptop": (f"LAPTOP-{tag.upper()}", "MacBook-Pro", f"ThinkPad-{tag[:4]}"),
        "tv": ("LGwebOSTV", "Living-Room-TV", "Chromecast"),
        "iot": (f"esp32-{tag}", f"shellyplug-s-{tag.upper()}", "", "HS110"),
        "visitor": ("Galaxy-A54", "iPhone", ""),
    }[kind]
    return rng.choice(names)


def _random_mac(rng: random.Random, local: bool) -> str:
    octets = [rng.randrange(256) for _ in range(6)]
    # Phones and laptops use a random, locally administered address per network.
    octets[0] = (octets[0] & 0xFC) | (0x02 if local else 0x00)
    return ":".join(f"{o:02x}" for o in octets)


# --- routers -------------------------------------------------------------------------------------


class Router:
    """One router: its hostname, addresses and daemons, and what they print for each episode."""

    lan = ""
    radios = ("", "")  # the 2.4 GHz and the 5 GHz interface
    lease = 43200.0
    rekey = 0.0  # seconds between logged group-key rekeys per station; 0: the firmware logs none

    def __init__(self, hostname: str, subnet: str, rng: random.Random, start: float) -> None:
        self.hostname = hostname
        self.subnet = subnet
        self.rng = rng
        self.boot = start - rng.uniform(3600, 30 * _DAY)
        self.wan_since = self.boot + 60
        self.wan_ip = f"203.0.113.{rng.randint(10, 250)}"
        self.wan_gateway = "203.0.113.1"
        self.dnsmasq_pid = rng.randint(900, 4000)

    def radio(self, five_ghz: bool) -> str:
        return self.radios[1] if five_ghz else self.radios[0]

    def kernel(self, offset: float, severity: int, now: float, msg: str) -> Say:
        """A kernel line with the uptime stamp printk puts in front (OpenWrt keeps it)."""
        return say(offset, KERN, severity, "kernel", f"[{now + offset - self.boot:12.6f}] {msg}")

    # Wi-Fi: what the access point daemon prints
    def join(self, c: Client) -> list[Say]:
        raise NotImplementedError

    def leave(self, c: Client) -> list[Say]:
        raise NotImplementedError

    def wrong_psk(self, c: Client) -> list[Say]:
        raise NotImplementedError

    def roam(self, c: Client, old: str) -> list[Say]:
        raise NotImplementedError

    def group_rekey(self, c: Client) -> list[Say]:
        return []

    # DHCP: dnsmasq unless the family says otherwise
    def _dnsmasq(self, offset: float, what: str, *fields: str) -> Say:
        tag = f"dnsmasq-dhcp[{self.dnsmasq_pid}]"
        return say(offset, DAEMON, INFO, tag, f"{what}({self.lan}) {' '.join(fields)}")

    def dhcp_new(self, c: Client, at: float) -> list[Say]:
        named = (c.ip, c.mac, c.hostname) if c.hostname else (c.ip, c.mac)
        return [
            self._dnsmasq(at, "DHCPDISCOVER", c.mac),
            self._dnsmasq(at, "DHCPOFFER", c.ip, c.mac),
            self._dnsmasq(at + 0.01, "DHCPREQUEST", c.ip, c.mac),
            self._dnsmasq(at + 0.01, "DHCPACK", *named),
        ]

    def dhcp_renew(self, c: Client, at: float) -> list[Say]:
        named = (c.ip, c.mac, c.hostname) if c.hostname else (c.ip, c.mac)
        return [
            self._dnsmasq(at, "DHCPREQUEST", c.ip, c.mac),
            self._dnsmasq(at, "DHCPACK", *named),
        ]

    def dhcp_nak(self, c: Client, at: float, foreign: str) -> list[Say]:
        reason = self.rng.choice(("wrong network", "wrong address"))
        return [
            self._dnsmasq(at, "DHCPREQUEST", foreign, c.mac),
            self._dnsmasq(at, "DHCPNAK", foreign, c.mac, reason),
        ]

    # WAN and faults
    def wan_outage(self, now: float, downtime: float) -> list[Say]:
        raise NotImplementedError

    def fault(self, now: float) -> list[Say]:
        raise NotImplementedError


class HostapdRouter(Router):
    """Wi-Fi through hostapd, as OpenWrt and most Linux access points run it."""

    rekey = 3600.0

    def _ap(self, offset: float, severity: int, iface: str, msg: str) -> Say:
        return say(offset, DAEMON, severity, "hostapd", f"{iface}: {msg}")

    def _sta(self, offset: float, iface: str, c: Client, event: str) -> Say:
        return self._ap(offset, INFO, iface, f"STA {c.mac} IEEE 802.11: {event}")

    def join(self, c: Client) -> list[Say]:
        iface = self.radio(c.five_ghz)
        return [
            self._sta(0.0, iface, c, "authenticated"),
            self._sta(0.004, iface, c, f"associated (aid {c.aid})"),
            self._ap(0.05, NOTICE, iface, f"AP-STA-CONNECTED {c.mac} auth_alg=open"),
            self._ap(0.05, INFO, iface, f"STA {c.mac} WPA: pairwise key handshake completed (RSN)"),
            self._ap(0.05, NOTICE, iface, f"EAPOL-4WAY-HS-COMPLETED {c.mac}"),
        ]

    def leave(self, c: Client) -> list[Say]:
        iface = self.radio(c.five_ghz)
        gone = self._ap(0.0, NOTICE, iface, f"AP-STA-DISCONNECTED {c.mac}")
        if self.rng.random() < 0.4:  # walked out of range: the AP times the station out
            return [
                self._sta(0.0, iface, c, "disassociated due to inactivity"),
                gone,
                self._sta(1.0, iface, c, "deauthenticated due to inactivity (timer DEAUTH/REMOVE)"),
            ]
        if self.rng.random() < 0.1:  # band steering or the owner kicked it
            return [gone, self._sta(0.0, iface, c, "deauthenticated due to local deauth request")]
        return [gone, self._sta(0.0, iface, c, "disassociated")]

    def wrong_psk(self, c: Client) -> list[Say]:
        iface = self.radio(c.five_ghz)
        lines = [
            self._sta(0.0, iface, c, "authenticated"),
            self._sta(0.004, iface, c, f"associated (aid {c.aid})"),
        ]
        for attempt in range(self.rng.randint(1, 3)):
            mismatch = f"AP-STA-POSSIBLE-PSK-MISMATCH {c.mac}"
            lines.append(self._ap(1.0 + attempt, NOTICE, iface, mismatch))
        lines.append(self._sta(7.0, iface, c, "deauthenticated due to local deauth request"))
        return lines

    def roam(self, c: Client, old: str) -> list[Say]:
        left = [
            self._ap(0.0, NOTICE, old, f"AP-STA-DISCONNECTED {c.mac}"),
            self._sta(0.0, old, c, "disassociated"),
        ]
        return left + [(0.2 + at, pri, tag, msg) for at, pri, tag, msg in self.join(c)]

    def group_rekey(self, c: Client) -> list[Say]:
        msg = f"STA {c.mac} WPA: group key handshake completed (RSN)"
        return [self._ap(0.0, INFO, self.radio(c.five_ghz), msg)]

    def radio_reset(self, iface: str, offset: float) -> list[Say]:
        return [
            self._ap(offset, INFO, iface, "interface state ENABLED->DISABLED"),
            self._ap(offset, NOTICE, iface, "AP-DISABLED"),
            self._ap(offset + 4.0, INFO, iface, "interface state DISABLED->ENABLED"),
            self._ap(offset + 4.0, NOTICE, iface, "AP-ENABLED"),
        ]


class OpenWrt(HostapdRouter):
    """OpenWrt 23.05 on a MediaTek router, WAN over PPPoE."""

    lan = "br-lan"
    radios = ("phy0-ap0", "phy1-ap0")
    lease = 43200.0

    def __init__(self, hostname: str, subnet: str, rng: random.Random, start: float) -> None:
        super().__init__(hostname, subnet, rng, start)
        self.pppd_pid = rng.randint(2000, 9000)

    def _ppp(self, offset: float, severity: int, msg: str) -> Say:
        return say(offset, DAEMON, severity, f"pppd[{self.pppd_pid}]", msg)

    def _netifd(self, offset: float, msg: str) -> Say:
        return say(offset, DAEMON, NOTICE, "netifd", msg)

    def wan_outage(self, now: float, downtime: float) -> list[Say]:
        if self.rng.random() < 0.5:
            cause = [self._ppp(0.0, INFO, "LCP terminated by peer")]
        else:  # the line went quiet: pppd's LCP echoes find out
            cause = [
                self._ppp(0.0, NOTICE, "No response to 5 echo-requests"),
                self._ppp(0.0, NOTICE, "Serial link appears to be disconnected."),
            ]
        minutes = (now - self.wan_since) / 60
        sent, received = self.rng.randint(10**6, 10**10), self.rng.randint(10**7, 10**11)
        down = [
            *cause,
            self._ppp(0.0, INFO, f"Connect time {minutes:.1f} minutes."),
            self._ppp(0.0, INFO, f"Sent {sent} bytes, received {received} bytes."),
            self._ppp(0.0, NOTICE, "Modem hangup"),
            self._ppp(0.0, NOTICE, "Connection terminated."),
            self._netifd(0.1, "Network device 'pppoe-wan' link is down"),
            self._netifd(0.1, "Interface 'wan' is now down"),
            self._ppp(1.2, INFO, "Exit."),
            self._netifd(3.0, "Interface 'wan' is setting up now"),
        ]

        # netifd starts a new pppd, which tries until the ISP answers again.
        self.pppd_pid += self.rng.randint(20, 400)
        self.wan_ip = f"203.0.113.{self.rng.randint(10, 250)}"
        t = max(downtime, 4.0)
        self.wan_since = now + t
        concentrator = _random_mac(self.rng, local=False)
        up = [
            self._ppp(3.1, INFO, "Plugin pppoe.so loaded."),
            self._ppp(3.1, NOTICE, "pppd 2.4.9 started by root, uid 0"),
            self._ppp(t, INFO, f"PPP session is {self.rng.randint(1000, 60000)}"),
            self._ppp(t, INFO, f"Connected to {concentrator} via interface eth1"),
            self._ppp(t, INFO, "Using interface pppoe-wan"),
            self._ppp(t, NOTICE, "Connect: pppoe-wan <--> eth1"),
            self._ppp(t + 1.0, NOTICE, "CHAP authentication succeeded"),
            self._ppp(
                t + 1.0, NOTICE, f"peer from calling number {concentrator.upper()} authorized"
            ),
            self._ppp(t + 1.1, NOTICE, f"local  IP address {self.wan_ip}"),
            self._ppp(t + 1.1, NOTICE, f"remote IP address {self.wan_gateway}"),
            self._ppp(t + 1.1, NOTICE, "primary   DNS address 198.51.100.53"),
            self._ppp(t + 1.1, NOTICE, "secondary DNS address 198.51.100.54"),
            self._netifd(t + 1.2, "Network device 'pppoe-wan' link is up"),
            self._netifd(t + 1.2, "Interface 'wan' is now up"),
            say(
                t + 1.7,
                USER,
                NOTICE,
                "firewall",
                "Reloading firewall due to ifup of wan (pppoe-wan)",
            ),
        ]
        return down + up

    def fault(self, now: float) -> list[Say]:
        choice = self.rng.randrange(5)
        if choice == 0:
            guid = uuid.UUID(int=self.rng.getrandbits(128))
            crash = f"ath10k_pci 0000:01:00.0: firmware crashed! (guid {guid})"
            return [self.kernel(0.0, ERR, now, crash), *self.radio_reset(self.radios[1], 2.0)]
        if choice == 1:
            full = "nf_conntrack: nf_conntrack: table full, dropping packet"
            return [self.kernel(0.0, WARNING, now, full)]
        if choice == 2:
            crashes = self.rng.randint(5, 9)
            msg = (
                f"Instance dnsmasq::cfg01411c s in a crash loop {crashes} crashes, "
                "0 seconds since last crash"
            )
            return [say(0.0, DAEMON, WARNING, "procd", msg)]
        if choice == 3:
            victim = self.rng.randint(1000, 9000)
            oom = (
                f"Out of memory: Killed process {victim} (dnsmasq) total-vm:6240kB, "
                "anon-rss:2312kB, file-rss:4kB, shmem-rss:0kB"
            )
            return [self.kernel(0.0, ERR, now, oom)]
        port = self.rng.choice(("lan1", "lan2", "lan3", "lan4"))
        return [
            self.kernel(0.0, INFO, now, f"mt7530 mdio-bus:1f {port}: Link is Down"),
            self.kernel(0.0, INFO, now, f"br-lan: port 1({port}) entered disabled state"),
            self.kernel(9.0, INFO, now, f"mt7530 mdio-bus:1f {port}: Link is Up - 1Gbps/Full"),
        ]


class AsusMerlin(Router):
    """ASUSWRT-Merlin on an RT-AX86U: Broadcom Wi-Fi events through wlceventd, no uptime stamps."""

    lan = "br0"
    radios = ("eth6", "eth7")
    lease = 86400.0

    _OK = "status: 0, reason: d11 RC reserved (0)"
    _LEAVING_BSS = "Disassociated because sending station is leaving (or has left) BSS (8)"
    _LEAVING_ESS = (
        "Deauthenticated because sending station is leaving (or has left) IBSS or ESS (3)"
    )

    def _wlc(self, offset: float, line: int, iface: str, event: str, mac: str, rest: str) -> Say:
        # wlceventd prints the MAC in upper case; the number is its source line, per event.
        msg = f"WLCEVENTD wlceventd_proc_event({line}): {iface}: {event} {mac.upper()}, {rest}"
        return say(offset, USER, INFO, "wlceventd", msg)

    def join(self, c: Client) -> list[Say]:
        iface = self.radio(c.five_ghz)
        return [
            self._wlc(0.0, 420, iface, "Auth", c.mac, self._OK),
            self._wlc(0.01, 449, iface, "Assoc", c.mac, self._OK),
        ]

    def leave(self, c: Client) -> list[Say]:
        iface = self.radio(c.five_ghz)
        if self.rng.random() < 0.5:
            reason = f"status: 0, reason: {self._LEAVING_BSS}"
            return [self._wlc(0.0, 401, iface, "Disassoc", c.mac, reason)]
        reason = f"status: 0, reason: {self._LEAVING_ESS}"
        return [self._wlc(0.0, 386, iface, "Deauth_ind", c.mac, reason)]

    def wrong_psk(self, c: Client) -> list[Say]:
        iface = self.radio(c.five_ghz)
        timeout = "status: 0, reason: 4-Way Handshake timeout (15)"
        return [
            self._wlc(0.0, 420, iface, "Auth", c.mac, self._OK),
            self._wlc(0.01, 449, iface, "Assoc", c.mac, self._OK),
            self._wlc(5.0, 367, iface, "Deauth", c.mac, timeout),
        ]

    def roam(self, c: Client, old: str) -> list[Say]:
        iface = self.radio(c.five_ghz)
        return [
            self._wlc(0.0, 401, old, "Disassoc", c.mac, f"status: 0, reason: {self._LEAVING_BSS}"),
            self._wlc(0.3, 420, iface, "Auth", c.mac, self._OK),
            self._wlc(0.31, 466, iface, "ReAssoc", c.mac, self._OK),
        ]

    def wan_outage(self, now: float, downtime: float) -> list[Say]:
        port = "eth0 (Int switch port: 3) (Logical Port: 3) (phyId: c)"
        t = max(downtime, 3.0)
        return [
            say(0.0, KERN, INFO, "kernel", f"{port} Link DOWN."),
            say(1.0, USER, NOTICE, "WAN_Connection", "WAN(0) link down."),
            say(t, KERN, INFO, "kernel", f"{port} Link Up at 1000 mbps full duplex"),
            say(t + 2.0, USER, NOTICE, "WAN_Connection", "WAN(0) link up."),
            say(t + 4.0, USER, NOTICE, "WAN_Connection", "WAN was restored."),
        ]

    def fault(self, now: float) -> list[Say]:
        choice = self.rng.randrange(4)
        if choice == 0:
            return [say(0.0, KERN, WARNING, "kernel", "nf_conntrack: table full, dropping packet")]
        if choice == 1:  # the clock jumped when NTP synced; benign but logged at err
            minutes = self.rng.randint(1000, 30_000_000)
            tag = f"crond[{self.rng.randint(500, 3000)}]"
            return [say(0.0, CRON, ERR, tag, f"time disparity of {minutes} minutes detected")]
        if choice == 2:
            victim = self.rng.randint(1000, 9000)
            oom = f"Out of memory: Kill process {victim} (httpd) score 812 or sacrifice child"
            return [say(0.0, KERN, ERR, "kernel", oom)]
        tag = f"dnsmasq[{self.dnsmasq_pid}]"
        return [say(0.0, DAEMON, WARNING, tag, "failed to send packet: Network unreachable")]


class IscGateway(HostapdRouter):
    """A Linux box as router: hostapd, ISC dhcpd on the LAN, dhclient on an Intel NIC for WAN."""

    lan = "eth1"
    radios = ("wlan0", "wlan1")
    lease = 3600.0

    def __init__(self, hostname: str, subnet: str, rng: random.Random, start: float) -> None:
        super().__init__(hostname, subnet, rng, start)
        self.dhclient_pid = rng.randint(500, 3000)
        self.server_ip = f"{subnet}.1"

    def _dhcpd(self, offset: float, msg: str, severity: int = INFO) -> Say:
        return say(offset, DAEMON, severity, "dhcpd", msg)

    def _who(self, c: Client) -> str:
        return f"{c.mac} ({c.hostname})" if c.hostname else c.mac

    def dhcp_new(self, c: Client, at: float) -> list[Say]:
        via, who = f"via {self.lan}", self._who(c)
        return [
            self._dhcpd(at, f"DHCPDISCOVER from {c.mac} {via}"),
            self._dhcpd(at + 1.0, f"DHCPOFFER on {c.ip} to {who} {via}"),
            self._dhcpd(at + 1.02, f"DHCPREQUEST for {c.ip} ({self.server_ip}) from {who} {via}"),
            self._dhcpd(at + 1.02, f"DHCPACK on {c.ip} to {who} {via}"),
        ]

    def dhcp_renew(self, c: Client, at: float) -> list[Say]:
        via, who = f"via {self.lan}", self._who(c)
        lines = [self._dhcpd(at, f"DHCPREQUEST for {c.ip} from {who} {via}")]
        if self.rng.random() < 0.3:
            age = self.rng.randint(10, 800)
            lines.append(
                self._dhcpd(
                    at,
                    f"reuse_lease: lease age {age} (secs) under 25% threshold, "
                    f"reply with unaltered, existing lease for {c.ip}",
                )
            )
        lines.append(self._dhcpd(at, f"DHCPACK on {c.ip} to {who} {via}"))
        return lines

    def dhcp_nak(self, c: Client, at: float, foreign: str) -> list[Say]:
        via = f"via {self.lan}"
        return [
            self._dhcpd(at, f"DHCPREQUEST for {foreign} from {self._who(c)} {via}: wrong network."),
            self._dhcpd(at, f"DHCPNAK on {foreign} to {c.mac} {via}"),
        ]

    def wan_outage(self, now: float, downtime: float) -> list[Say]:
        nic = "e1000e 0000:02:00.0 eth0: NIC Link is"
        dhclient = f"dhclient[{self.dhclient_pid}]"
        t = max(downtime, 3.0)
        renewal = self.rng.randint(1200, 1800)
        ack = f"DHCPACK of {self.wan_ip} from {self.wan_gateway}"
        return [
            say(0.0, KERN, INFO, "kernel", f"{nic} Down"),
            say(t, KERN, INFO, "kernel", f"{nic} Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx"),
            say(
                t + 1.0,
                DAEMON,
                INFO,
                dhclient,
                f"DHCPREQUEST for {self.wan_ip} on eth0 to 255.255.255.255 port 67",
            ),
            say(t + 1.1, DAEMON, INFO, dhclient, ack),
            say(
                t + 1.2,
                DAEMON,
                INFO,
                dhclient,
                f"bound to {self.wan_ip} -- renewal in {renewal} seconds.",
            ),
        ]

    def fault(self, now: float) -> list[Say]:
        if self.rng.random() < 0.5:
            stranger = _random_mac(self.rng, local=True)
            network = f"network {self.subnet}.0/24"
            full = f"DHCPDISCOVER from {stranger} via {self.lan}: {network}: no free leases"
            return [self._dhcpd(0.0, full, ERR)]
        iface = self.radios[self.rng.randrange(2)]
        failed = say(0.0, DAEMON, ERR, "hostapd", "nl80211: Failed to set beacon parameters")
        return [failed, *self.radio_reset(iface, 0.0)]


# Families in the order --routers adds them, with the LAN subnet their firmware uses by default.
FAMILIES: tuple[tuple[type[Router], str, str], ...] = (
    (OpenWrt, "OpenWrt", "192.168.1"),
    (AsusMerlin, "RT-AX86U", "192.168.50"),
    (IscGateway, "gw", "10.0.0"),
)


# --- simulation ---------------------------------------------------------------------------------

_WAN_EVERY = 12 * 3600.0
_FAULT_EVERY = 6 * 3600.0
_STRANGER_EVERY = 8 * 3600.0  # a device that is not ours tries the network with an old password

# A scheduled entry: time, tie-breaker, then either a line (hostname, PRI, TAG, MSG; no episode)
# or an episode to play at that time (the line fields empty).
Episode = Callable[[float], None]
_Entry = tuple[float, int, str, int, str, str, Episode | None]


class Simulation:
    """A discrete-event simulation: episodes schedule lines and later episodes on one heap."""

    def __init__(
        self, routers: int, clients: int, start: float, end: float, rng: random.Random
    ) -> None:
        self.start, self.end, self.rng = start, end, rng
        self.routers = [self._router(n, start) for n in range(routers)]
        self.clients = [self._client(n) for n in range(clients)]
        self._heap: list[_Entry] = []
        self._seq = itertools.count()

    def run(self) -> Iterator[tuple[float, bytes]]:
        for client in self.clients:
            self._begin(client)
        for router in self.routers:
            self._at(self._later(self.start, _WAN_EVERY), partial(self._wan, router))
            self._at(self._later(self.start, _FAULT_EVERY), partial(self._fault, router))
            self._at(self._later(self.start, _STRANGER_EVERY), partial(self._stranger, router))

        heap, pop, end = self._heap, heapq.heappop, self.end
        stamp_second, stamp = -1, ""
        while heap:
            when, _, host, pri, tag, msg, episode = pop(heap)
            if when >= end:
                return
            if episode is not None:
                episode(when)
                continue
            second = int(when)
            if second != stamp_second:
                stamp_second, stamp = second, _rfc3164_time(second)
            yield when, f"<{pri}>{stamp} {host} {tag}: {msg}".encode()

    def _router(self, n: int, start: float) -> Router:
        family, name, subnet = FAMILIES[n % len(FAMILIES)]
        prefix, third = subnet.rsplit(".", 1)
        third_octet = int(third) + n // len(FAMILIES)  # a second router of a family: next /24
        return family(f"{name}-{n + 1}", f"{prefix}.{third_octet}", self.rng, start)

    def _client(self, n: int) -> Client:
        kind = _KINDS[n % len(_KINDS)]
        habits = HABITS[kind]
        slot = n // len(self.routers)
        return Client(
            mac=_random_mac(self.rng, local=kind in ("phone", "laptop", "visitor")),
            hostname=_client_hostname(kind, self.rng),
            kind=kind,
            habits=habits,
            router=self.routers[n % len(self.routers)],
            host_octet=100 + slot % 150,
            five_ghz=habits.roam > 0 and self.rng.random() < 0.7,
            aid=1 + slot % 60,
        )

    # scheduling --------------------------------------------------------------------------------

    def _at(self, when: float, episode: Episode) -> None:
        heapq.heappush(self._heap, (when, next(self._seq), "", 0, "", "", episode))

    def _play(self, when: float, router: Router, lines: list[Say]) -> None:
        host, push, heap, seq = router.hostname, heapq.heappush, self._heap, self._seq
        for offset, pri, tag, msg in lines:
            push(heap, (when + offset, next(seq), host, pri, tag, msg, None))

    def _later(self, when: float, mean: float, c: Client | None = None) -> float:
        """A time about ``mean`` seconds after ``when``; people's devices skip the small hours."""
        t = when + self.rng.expovariate(1 / mean)
        if c is not None and c.habits.sleeps_at_night and 1 <= (t % _DAY) / 3600 < 6:
            t = t - t % _DAY + 6 * 3600 + self.rng.expovariate(1 / 3600)
        return t

    # client episodes: each checks that the session it was scheduled for is still the current one

    def _begin(self, c: Client) -> None:
        """Most devices are already connected when the simulation starts, mid-lease."""
        if self.rng.random() < (0.9 if c.kind == "iot" else 0.5):
            self._connected(c, self.start, self.start - self.rng.uniform(0, c.router.lease / 2))
        else:
            self._at(self._later(self.start, c.habits.away, c), partial(self._arrive, c))

    def _arrive(self, c: Client, when: float) -> None:
        router, habits = c.router, c.habits
        if self.rng.random() < habits.wrong_psk:
            self._play(when, router, router.wrong_psk(c))
            self._at(when + self.rng.uniform(20, 300), partial(self._arrive, c))
            return

        lines = router.join(c)
        dhcp_at = 0.3 + self.rng.random()
        if self.rng.random() < habits.foreign_lease:
            foreign = f"172.20.10.{self.rng.randint(2, 14)}"  # a phone hotspot's network
            lines += router.dhcp_nak(c, dhcp_at, foreign)
            dhcp_at += self.rng.uniform(1, 4)
            lines += router.dhcp_new(c, dhcp_at)
        elif when < c.lease_until:
            lines += router.dhcp_renew(c, dhcp_at)
        else:
            lines += router.dhcp_new(c, dhcp_at)
        self._play(when, router, lines)
        self._connected(c, when, when)

    def _connected(self, c: Client, when: float, leased: float) -> None:
        router, habits = c.router, c.habits
        c.online = True
        c.session += 1
        c.lease_until = leased + router.lease
        self._at(self._later(when, habits.session, c), partial(self._leave, c, c.session))
        self._at(leased + router.lease / 2, partial(self._renew, c, c.session))
        if habits.roam:
            self._at(self._later(when, habits.roam), partial(self._roam, c, c.session))
        if router.rekey:
            rekey_at = when + self.rng.uniform(0, router.rekey)
            self._at(rekey_at, partial(self._rekey, c, c.session))

    def _leave(self, c: Client, session: int, when: float) -> None:
        if not (c.online and c.session == session):
            return
        self._play(when, c.router, c.router.leave(c))
        c.online = False
        c.session += 1
        self._at(self._later(when, c.habits.away, c), partial(self._arrive, c))

    def _roam(self, c: Client, session: int, when: float) -> None:
        if not (c.online and c.session == session):
            return
        old = c.router.radio(c.five_ghz)
        c.five_ghz = not c.five_ghz
        lines = c.router.roam(c, old)
        if self.rng.random() < 0.5:  # many phones confirm their lease after a roam
            lines += c.router.dhcp_renew(c, 1.0)
        self._play(when, c.router, lines)
        self._at(self._later(when, c.habits.roam), partial(self._roam, c, session))

    def _renew(self, c: Client, session: int, when: float) -> None:
        if not (c.online and c.session == session):
            return
        self._play(when, c.router, c.router.dhcp_renew(c, 0.0))
        c.lease_until = when + c.router.lease
        self._at(when + c.router.lease / 2, partial(self._renew, c, session))

    def _rekey(self, c: Client, session: int, when: float) -> None:
        if not (c.online and c.session == session):
            return
        self._play(when, c.router, c.router.group_rekey(c))
        self._at(when + c.router.rekey, partial(self._rekey, c, session))

    # router episodes ---------------------------------------------------------------------------

    def _wan(self, router: Router, when: float) -> None:
        downtime = self.rng.choice((5.0, 30.0, 90.0, 600.0)) * self.rng.uniform(0.5, 1.5)
        self._play(when, router, router.wan_outage(when, downtime))
        self._at(self._later(when + downtime, _WAN_EVERY), partial(self._wan, router))

    def _fault(self, router: Router, when: float) -> None:
        self._play(when, router, router.fault(when))
        self._at(self._later(when, _FAULT_EVERY), partial(self._fault, router))

    def _stranger(self, router: Router, when: float) -> None:
        stranger = Client(
            mac=_random_mac(self.rng, local=True),
            hostname="",
            kind="visitor",
            habits=HABITS["visitor"],
            router=router,
            host_octet=0,
            five_ghz=self.rng.random() < 0.5,
            aid=self.rng.randint(1, 30),
        )
        self._play(when, router, router.wrong_psk(stranger))
        self._at(self._later(when, _STRANGER_EVERY), partial(self._stranger, router))


def _rfc3164_time(second: int) -> str:
    """``Mmm dd hh:mm:ss`` in UTC with the day padded by a space, as BSD syslog writes it."""
    tm = time.gmtime(second)
    month = _MONTHS[tm.tm_mon - 1]
    return f"{month} {tm.tm_mday:2d} {tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}"


# --- command line ---------------------------------------------------------------------------------

_SPAN = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_span(text: str) -> float:
    match = _SPAN.fullmatch(text.strip())
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration such as 90m, 1h or 30d: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_start(text: str) -> float:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO time such as 2024-10-08T06:00: {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def destination(text: str, allow_remote: bool) -> tuple[str, int]:
    """``HOST:PORT``, refused unless the host is a loopback address or remote sending is allowed.

    Names other than ``localhost`` are not looked up for the check, so it sends no DNS query.
    """
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    if host == "localhost":
        host = "127.0.0.1"
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not allow_remote:
        raise ValueError(
            f"{host} is not a loopback address: simulated traffic stays on this machine "
            "unless --allow-remote is given"
        )
    return host, int(port)


class Output:
    """Where lines go: blocks of newline-terminated lines to a file or a TCP connection, or one
    UDP datagram per line."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._file: BinaryIO | None = None
        self._sock: socket.socket | None = None
        self._udp_target: tuple[str, int] | None = None
        if args.udp:
            self._udp_target = args.udp
            self._sock = socket.socket(_address_family(args.udp[0]), socket.SOCK_DGRAM)
        elif args.tcp:
            self._sock = socket.create_connection(args.tcp, timeout=10)
        elif args.file in (None, "-"):
            self._file = sys.stdout.buffer
        else:
            self._file = open(args.file, "wb")  # noqa: SIM115 - closed in close()

    def write(self, line: bytes) -> None:
        if self._udp_target is not None and self._sock is not None:
            self._sock.sendto(line, self._udp_target)
            return
        self._pending.append(line)
        self._pending_bytes += len(line) + 1
        if self._pending_bytes >= 1 << 16:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        block = b"\n".join(self._pending) + b"\n"
        self._pending.clear()
        self._pending_bytes = 0
        if self._sock is not None:
            self._sock.sendall(block)
        elif self._file is not None:
            self._file.write(block)
            self._file.flush()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            if self._sock is not None:
                self._sock.close()
            if self._file is not None and self._file is not sys.stdout.buffer:
                self._file.close()


def _address_family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="logweave simulate",
        description=(
            "Write simulated home-router syslog: RFC 3164 lines with PRI, one HOSTNAME per router. "
            "Sent through one rsyslog on one machine, all lines share one fromhost-ip."
        ),
    )
    parser.add_argument(
        "--routers",
        type=int,
        default=3,
        help="routers, in turn OpenWrt, ASUSWRT-Merlin and an ISC dhcpd gateway (default 3)",
    )
    parser.add_argument("--clients", type=int, default=24, help="client devices (default 24)")
    parser.add_argument(
        "--span",
        type=parse_span,
        default=_DAY,
        help="simulated time covered: 90m, 1h, 30d, 2w (default 1d)",
    )
    parser.add_argument(
        "--start",
        type=parse_start,
        help="simulated start as an ISO time, UTC without a zone (default: now minus --span)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="lines per second of wall time; 0 sends as fast as possible (default)",
    )
    parser.add_argument(
        "--count", type=int, help="at most this many lines; the end of --span may come first"
    )
    parser.add_argument(
        "--seed", type=int, help="random seed; with the same --start the same lines come out"
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--udp", metavar="HOST:PORT", help="send each line as one UDP datagram")
    output.add_argument("--tcp", metavar="HOST:PORT", help="send newline-terminated lines over TCP")
    output.add_argument(
        "--file", metavar="PATH", help="write lines to PATH, - for stdout (default)"
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --udp or --tcp host that is not a loopback address",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        for name in ("udp", "tcp"):
            if getattr(args, name):
                setattr(args, name, destination(getattr(args, name), args.allow_remote))
    except ValueError as exc:
        parser.error(str(exc))
    if args.routers < 1 or args.clients < 0 or (args.count is not None and args.count < 0):
        parser.error("--routers must be at least 1; --clients and --count must not be negative")
    if args.rate < 0:
        parser.error("--rate must not be negative")

    lines = generate(args.routers, args.clients, args.span, args.start, args.seed)
    if args.count is not None:
        lines = itertools.islice(lines, args.count)
    output = Output(args)
    began = time.monotonic()
    written = 0
    try:
        for _, line in lines:
            if args.rate:
                ahead = began + written / args.rate - time.monotonic()
                if ahead > 0:
                    output.flush()  # what is due goes out before the wait
                    time.sleep(ahead)
            output.write(line)
            written += 1
    except (BrokenPipeError, KeyboardInterrupt):
        pass
    finally:
        output.close()
    elapsed = max(time.monotonic() - began, 1e-9)
    rate = written / elapsed
    print(f"logweave simulate: {written} lines in {elapsed:.1f}s ({rate:,.0f}/s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
