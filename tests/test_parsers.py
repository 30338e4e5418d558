"""The parsers, one behaviour per test: each kind of line that once read wrong, on lines of our own.

``read`` takes a line as a router sends it and goes the pipeline's way: rsyslog's header
reading (logweave.syslog_header), the event's fields, ``line_from_event``, ``parse``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from types import ModuleType

import pytest

from logweave.contract import Event
from logweave.parsers import (
    REGISTRY,
    generic,
    line_from_event,
    line_from_fields,
    parse,
    record_values,
)
from logweave.parsers.base import Kind, Line, Parsed, Role
from logweave.parsers.common import band_of_iface, band_of_text, ip_of, mac_of, read_source
from logweave.syslog_header import read_header

RECEIVED = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def read(raw: bytes) -> Parsed:
    header = read_header(raw, received=RECEIVED)
    event = Event(
        id="",
        timereported=RECEIVED,
        timegenerated=RECEIVED,
        hostname=header.hostname,
        fromhost_ip="127.0.0.1",
        programname=header.programname,
        syslogtag=header.syslogtag,
        severity=header.severity,
        facility=header.facility,
        msg=header.msg,
        extra={},
    )
    return parse(line_from_event(event))


def essentials(parsed: Parsed) -> tuple[str, str | None, str | None, str | None, str | None]:
    return parsed.kind.value, parsed.mac, parsed.ip, parsed.hostname, parsed.iface


# --- the registry and the Line --------------------------------------------------------------


@pytest.mark.parametrize("family", REGISTRY, ids=[family.FAMILY for family in REGISTRY])
def test_every_family_module_names_itself_and_declines_foreign_lines(
    family: ModuleType,
) -> None:
    assert family.FAMILY
    assert family.parse(Line(program="foo", msg="nothing to see", hostname="h", severity=6)) is None


def test_line_nobody_knows_is_other_and_not_parsed() -> None:
    assert read(b"<30>Jan  2 03:04:05 gw foo[1]: nothing to see") == Parsed(
        kind=Kind.OTHER, family="generic", parse_ok=False, program="foo"
    )


def test_line_from_event_strips_one_leading_space_and_undoes_control_escapes() -> None:
    line = line_from_fields(
        programname="kernel",
        syslogtag="kernel:",
        msg="  sda:#011sda1#015",
        hostname="gw",
        severity=6,
    )
    assert (line.msg, line.tag_and_msg) == (" sda:\tsda1\r", "kernel:  sda:\tsda1\r")


def test_escape_of_a_printable_character_is_left_alone() -> None:
    line = line_from_fields(
        programname="t", syslogtag="t:", msg=" #040#101", hostname="h", severity=6
    )
    assert line.msg == "#040#101"


def test_rfc5424_tag_and_msg_are_joined_with_a_space() -> None:
    line = line_from_fields(
        programname="logread", syslogtag="logread[13]", msg="x y", hostname="h", severity=6
    )
    assert line.tag_and_msg == "logread[13] x y"


# --- rsyslog's header guesses undone -------------------------------------------------------


def test_tagless_dnsmasq_line_is_read_from_the_tag_rsyslog_made_of_it() -> None:
    parsed = read(b"<13>Aug 11 00:23:55 DHCPACK(br-lan) 192.0.2.194 02:00:00:aa:00:03 Mac")
    assert essentials(parsed) == ("dhcp_ack", "02:00:00:aa:00:03", "192.0.2.194", "Mac", "br-lan")
    assert parsed.program is None


def test_relayed_line_with_a_second_header_in_msg_is_read_after_it() -> None:
    parsed = read(
        b"<13>Feb  3 14:00:35 relay.example Feb  3 14:00:35 dnsmasq-dhcp[11]: "
        b"DHCPREQUEST(br0) 10.9.0.142 02:00:00:aa:00:01  "
    )
    assert essentials(parsed) == ("dhcp_request", "02:00:00:aa:00:01", "10.9.0.142", None, "br0")
    assert parsed.program == "dnsmasq-dhcp"


def test_hostname_rsyslog_refused_does_not_hide_the_daemon() -> None:
    parsed = read(
        b"<13>Mar 14 22:47:06 gw--- dhcpd: DHCPNAK on 10.1.1.9 to 02:00:00:aa:00:01 via eth1"
    )
    assert essentials(parsed) == ("dhcp_nak", "02:00:00:aa:00:01", "10.1.1.9", None, "eth1")
    assert parsed.program == "dhcpd"


def test_grep_line_number_before_a_logread_line_is_skipped() -> None:
    parsed = read(
        b"12:Sun May 17 12:36:34 2026 daemon.notice hostapd: phy1-ap0: STA 02:00:00:aa:00:01 "
        b"IEEE 802.11: did not acknowledge authentication response"
    )
    assert essentials(parsed) == ("wifi_auth_fail", "02:00:00:aa:00:01", None, None, "phy1-ap0")
    assert parsed.program == "hostapd"


def test_tab_after_a_bsd_timestamp_still_finds_the_tag() -> None:
    parsed = read(b"<13>Feb 5 13:00:49\tkernel: wan: link state changed to DOWN")
    assert (parsed.kind, parsed.iface, parsed.program) == (Kind.WAN_DOWN, "wan", "kernel")


def test_unifi_device_token_before_the_tag_is_skipped() -> None:
    source = read_source(
        line_from_fields(
            programname="U7PG2,0200aa130002,v4.3.28.11361",
            syslogtag="U7PG2,0200aa130002,v4.3.28.11361:",
            msg=" : stahtd[1989]: [STA-TRACKER] x",
            hostname="127.0.0.1",
            severity=6,
        )
    )
    assert (source.program, source.text) == ("stahtd", "[STA-TRACKER] x")


# --- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "mac"),
    [
        ("02:00:00:0E:00:01,", "02:00:00:0e:00:01"),
        ("02-00-00-1C-00-01", "02:00:00:1c:00:01"),
        ("<MacRemoved>", None),
        ("60:67:20:mob4", None),
        ("02:00:00;01:00:01", None),
        ("00:00:00:00:00:00", None),
        ("ff:ff:ff:ff:ff:ff", None),
        ("0200aa130002", None),
    ],
)
def test_mac_is_normalised_and_placeholders_are_none(token: str, mac: str | None) -> None:
    assert mac_of(token) == mac


@pytest.mark.parametrize(
    ("token", "ip"),
    [
        ("<192.0.2.101:36304>:", "192.0.2.101"),
        ("[203.0.113.12],", "203.0.113.12"),
        ("172.16.1.184%HS@Dot1QSwitch.5", "172.16.1.184"),
        ("2001:db8:0:1::1.", "2001:db8:0:1::1"),
        ("0.0.0.0", None),
        ("255.255.255.255", None),
        ("x.x.x.x", None),
        ("eeeeeeee", None),
    ],
)
def test_ip_is_cleaned_of_ports_brackets_and_scope(token: str, ip: str | None) -> None:
    assert ip_of(token) == ip


def test_band_comes_from_words_or_a_mediatek_interface_name() -> None:
    assert [band_of_text("(2,4 GHz)"), band_of_text("Frequenz 5.260 GHz")] == ["2.4GHz", "5GHz"]
    assert [band_of_iface("rai1"), band_of_iface("ra0"), band_of_iface("wlan0")] == [
        "5GHz",
        "2.4GHz",
        None,
    ]


# --- hostapd --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("what", "kind"),
    [
        ("associated (aid 1)", Kind.WIFI_ASSOC),
        ("reassociated", Kind.WIFI_ASSOC),
        ("disassociated due to inactivity", Kind.WIFI_DISASSOC),
        ("deauthenticated due to local deauth request", Kind.WIFI_DEAUTH),
        ("authenticated", Kind.OTHER),
        ("authentication OK (open system)", Kind.OTHER),
        ("association OK (aid 1)", Kind.OTHER),
    ],
)
def test_hostapd_station_wording_decides_the_kind(what: str, kind: Kind) -> None:
    raw = b"<30>Jan  2 03:04:05 hostapd: wlan0: STA 02:00:00:aa:00:01 IEEE 802.11: " + what.encode()
    parsed = read(raw)
    assert (parsed.kind, parsed.mac, parsed.iface) == (kind, "02:00:00:aa:00:01", "wlan0")


def test_hostapd_events_and_psk_mismatch() -> None:
    kinds = [
        read(b"<29>Jan  2 03:04:05 hostapd: wlan0: " + event + b" 02:00:00:aa:00:01").kind
        for event in (b"AP-STA-CONNECTED", b"AP-STA-DISCONNECTED", b"AP-STA-POSSIBLE-PSK-MISMATCH")
    ]
    assert kinds == [Kind.WIFI_ASSOC, Kind.WIFI_DISASSOC, Kind.WIFI_AUTH_FAIL]


def test_hostapd_event_without_interface_keeps_its_station() -> None:
    parsed = read(b"<29>Jan  2 03:04:05 ap-1 hostapd: EAPOL-4WAY-HS-COMPLETED 02:00:00:aa:00:01")
    assert essentials(parsed) == ("other", "02:00:00:aa:00:01", None, None, None)


def test_hostapd_broken_mac_keeps_the_event_and_drops_the_mac() -> None:
    parsed = read(b"<29>Jan  2 03:04:05 hostapd: wlan1: AP-STA-DISCONNECTED 60:67:20:mob4")
    assert essentials(parsed) == ("wifi_disassoc", None, None, None, "wlan1")


# --- dnsmasq, odhcpd, ISC dhcpd ------------------------------------------------------------


def test_dnsmasq_nak_reason_is_not_a_hostname() -> None:
    parsed = read(
        b"<30>Jan  2 03:04:05 dnsmasq-dhcp[1]: DHCPNAK(br-lan) 192.0.2.114 02:00:00:aa:00:02 "
        b"wrong network"
    )
    assert essentials(parsed) == ("dhcp_nak", "02:00:00:aa:00:02", "192.0.2.114", None, "br-lan")


def test_dnsmasq_inform_is_other_but_keeps_the_client() -> None:
    parsed = read(
        b"<30>Jan  2 03:04:05 dnsmasq-dhcp[1]: DHCPINFORM(br0) 10.1.0.3 02:00:00:aa:00:02 "
    )
    assert essentials(parsed) == ("other", "02:00:00:aa:00:02", "10.1.0.3", None, "br0")


def test_dnsmasq_discover_without_an_address() -> None:
    parsed = read(b"<30>Jan  2 03:04:05 dnsmasq-dhcp[1]: DHCPDISCOVER(br-lan) 02:00:00:aa:00:03")
    assert essentials(parsed) == ("dhcp_discover", "02:00:00:aa:00:03", None, None, "br-lan")


def test_odhcpd_ack_to_broadcast_names_no_client() -> None:
    parsed = read(
        b"<27>Jan  2 03:04:05 odhcpd[1642]: Sent DHCPV4_MSG_ACK to ff:ff:ff:ff:ff:ff - "
        b"255.255.255.255"
    )
    assert essentials(parsed) == ("dhcp_ack", None, None, None, None)


def test_isc_request_takes_the_requested_address_not_the_server_identifier() -> None:
    parsed = read(
        b"<30>Jan  2 03:04:05 gw dhcpd[7]: DHCPREQUEST for 10.1.1.22 (10.1.1.2) from "
        b"02:00:00:aa:00:01 (desk-1) via eth0: wrong network."
    )
    assert essentials(parsed) == (
        "dhcp_request",
        "02:00:00:aa:00:01",
        "10.1.1.22",
        "desk-1",
        "eth0",
    )
    assert parsed.detail == "wrong network."


def test_isc_release_through_a_relay_has_no_interface() -> None:
    parsed = read(
        b"<30>Jan  2 03:04:05 gw dhcpd[7]: DHCPRELEASE of 10.1.0.37 from 02:00:00:aa:00:02 "
        b"(pc-2) via 10.2.0.2 (found) uid 01:02:00:00:aa:00:02"
    )
    assert essentials(parsed) == ("dhcp_release", "02:00:00:aa:00:02", "10.1.0.37", "pc-2", None)


def test_isc_bootp_request_is_other() -> None:
    parsed = read(b"<30>Jan  2 03:04:05 gw dhcpd: BOOTREQUEST from 02:00:00:aa:00:01 via eth0: x")
    assert essentials(parsed) == ("other", "02:00:00:aa:00:01", None, None, "eth0")


# --- WAN ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kind", "iface"),
    [
        (b"<29>Jan  2 03:04:05 netifd: Interface 'wan' is now down", Kind.WAN_DOWN, "wan"),
        (
            b"<29>Jan  2 03:04:05 netifd: Interface 'wan6' has link connectivity loss",
            Kind.WAN_DOWN,
            "wan6",
        ),
        (b"<29>Jan  2 03:04:05 netifd: Interface 'lan' is now up", Kind.OTHER, "lan"),
        (
            b"<29>Jan  2 03:04:05 netifd: Network device 'pppoe-wan' link is up",
            Kind.WAN_UP,
            "pppoe-wan",
        ),
        (b"<29>Jan  2 03:04:05 netifd: Network device 'eth1' link is down", Kind.OTHER, "eth1"),
        (b"<29>Jan  2 03:04:05 netifd: Interface 'wan' is setting up now", Kind.OTHER, "wan"),
        (
            b"<13>Jan  2 03:04:05 mwan3track[2]: Interface wan (wan) is offline",
            Kind.WAN_DOWN,
            "wan",
        ),
    ],
)
def test_interface_state_counts_for_the_wan_only(raw: bytes, kind: Kind, iface: str) -> None:
    parsed = read(raw)
    assert (parsed.kind, parsed.iface) == (kind, iface)


def test_renewed_wan_lease_is_not_the_wan_coming_up() -> None:
    parsed = read(
        b"<29>Jan  2 03:04:05 netifd: wan (2702): udhcpc: lease of 198.51.100.62 obtained"
    )
    assert essentials(parsed) == ("other", None, "198.51.100.62", None, "wan")


def test_pppd_session_end_is_wan_down() -> None:
    kinds = [
        read(b"<30>Jan  2 03:04:05 pppd[5863]: " + text).kind
        for text in (b"LCP terminated by peer", b"Modem hangup", b"Connect time 0.1 minutes.")
    ]
    assert kinds == [Kind.WAN_DOWN, Kind.WAN_DOWN, Kind.OTHER]


def test_pppd_routine_session_lines_are_a_known_other_and_its_failures_are_not_swallowed() -> None:
    readings = [
        (parsed.kind, parsed.family, parsed.parse_ok)
        for parsed in (
            read(b"<29>Jan  2 03:04:05 gw pppd[7]: " + text)
            for text in (
                b"pppd 2.4.9 started by root, uid 0",
                b"CHAP authentication succeeded",
                b"Sent 60 bytes, received 60 bytes.",
                b"Exit.",
                b"Exit status 1 from plugin",
                b"Couldn't allocate PPP unit 0 as it is already in use",
            )
        )
    ]
    assert readings == [(Kind.OTHER, "openwrt", True)] * 4 + [(Kind.OTHER, "generic", False)] * 2


def test_kernel_link_state_counts_for_a_port_named_wan_only() -> None:
    assert [
        (parsed.kind, parsed.iface)
        for parsed in (
            read(
                b"<6>Jan  2 03:04:05 kernel: [86737.4] mt7530 mdio-bus:1f wan: Link is Up - 1Gbps"
            ),
            read(b"<6>Jan  2 03:04:05 kernel: [ 3665.0] eth1: link down"),
        )
    ] == [(Kind.WAN_UP, "wan"), (Kind.OTHER, "eth1")]


def test_asus_hnd_port_is_the_wan_by_the_port_map() -> None:
    line = (
        b"<6>Jul 14 19:12:46 kernel: %s (Int switch port: 3) (Logical Port: 3) (phyId: c)"
        b" Link DOWN."
    )
    assert [read(line % port).kind for port in (b"eth0", b"eth1")] == [Kind.WAN_DOWN, Kind.OTHER]


def test_asus_wan_connection_line_split_by_rsyslog_is_read_whole() -> None:
    assert [
        read(b"<13>May  3 10:00:00 WAN(0) Connection: WAN(0) link down.").kind,
        read(b"<13>May  3 10:00:00 WAN Connection: WAN was restored.").kind,
    ] == [Kind.WAN_DOWN, Kind.WAN_UP]


def test_merlin_wan_event_stage() -> None:
    parsed = read(
        b"<13>Jul 14 19:13:57 (wan-event): 16438   Script not defined for wan-event: wan0-stopping"
    )
    assert (parsed.kind, parsed.iface, parsed.program) == (Kind.WAN_DOWN, "wan0", "wan-event")


# --- system errors --------------------------------------------------------------------------


def test_err_level_daemon_line_is_not_a_system_error() -> None:
    parsed = read(
        b"<27>Jan  2 03:04:05 uhttpd[1825]: luci: accepted login on / for root from 192.0.2.5"
    )
    assert (parsed.kind, parsed.parse_ok) == (Kind.OTHER, False)


def test_kernel_line_at_err_or_worse_is_a_system_error() -> None:
    assert [
        read(b"<%d>Jan  2 03:04:05 kernel: zswap: pool not available" % pri).kind
        for pri in (3, 1, 4)
    ] == [
        Kind.SYSTEM_ERROR,
        Kind.SYSTEM_ERROR,
        Kind.OTHER,
    ]


def test_oom_kill_and_crash_loop_are_system_errors_at_any_level() -> None:
    assert [
        read(b"<4>[ 1770.3] procd invoked oom-killer: gfp_mask=0x14201ca").kind,
        read(
            b"<13>Dec 29 20:09:48 gw procd: Instance odhcpd::instance1 s in a crash loop 6 crashes"
        ).kind,
        read(b"<6>[ 1770.2] [ 1272]     0  1272      267        7 dropbear").kind,
    ] == [Kind.SYSTEM_ERROR, Kind.SYSTEM_ERROR, Kind.OTHER]


def test_ssh_password_failure_is_not_a_wifi_auth_failure() -> None:
    parsed = read(
        b"<36>Jan  2 03:04:05 dropbear[11882]: Bad password attempt for 'root' from "
        b"203.0.113.11:29745"
    )
    assert essentials(parsed) == ("other", None, None, None, None)
    assert parsed.parse_ok


# --- other families ------------------------------------------------------------------------


def test_wlceventd_events_by_name() -> None:
    line = (
        b"<13>May  5 01:05:19 syslog: WLCEVENTD wlceventd_proc_event(449): eth1: %s "
        b"02:00:00:0E:00:01, status: 0, reason: x (0)"
    )
    kinds = [read(line % event).kind for event in (b"Assoc", b"Auth", b"Disassoc", b"Deauth_ind")]
    assert kinds == [Kind.WIFI_ASSOC, Kind.OTHER, Kind.WIFI_DISASSOC, Kind.WIFI_DEAUTH]
    assert read(line % b"Assoc").mac == "02:00:00:0e:00:01"


def test_filterlog_block_is_a_drop_from_the_source_address() -> None:
    parsed = read(
        b"<134>Sep 23 13:24:36 filterlog: 42,,,1000004720,em0,match,block,in,4,0x0,,255,47903,"
        b"0,none,17,udp,233,192.0.2.11,224.0.0.251,5353,5353,213"
    )
    assert essentials(parsed) == ("firewall_drop", None, "192.0.2.11", None, "em0")


def test_filterlog_pass_is_other() -> None:
    parsed = read(
        b"<134>Sep 23 13:24:36 filterlog: 61,,,1464380017,re0,match,pass,in,4,0x0,,64,64145,0,"
        b"none,17,udp,59,192.0.2.103,192.0.2.1,48582,53,39"
    )
    assert (parsed.kind, parsed.ip) == (Kind.OTHER, "192.0.2.103")


def test_bare_ipv6_filterlog_csv_cut_at_its_first_colon_is_joined_again() -> None:
    parsed = read(
        b"<13>7,,,1000000105,igb1,match,block,in,6,0x00,0x00000,1,Options,0,32,fe80::ff:fe00:2,"
        b"ff02::1,HBH,PADN,RTALERT,0x0000,"
    )
    assert essentials(parsed) == ("firewall_drop", None, "fe80::ff:fe00:2", None, "igb1")


def test_routeros_lease_assignment_is_an_ack() -> None:
    parsed = read(b"<30>dhcp1 assigned 10.1.0.125 for 02:00:00:1E:00:01 laptop-7")
    assert essentials(parsed) == ("dhcp_ack", "02:00:00:1e:00:01", "10.1.0.125", "laptop-7", None)


@pytest.mark.parametrize(
    ("raw", "kind", "family", "parse_ok"),
    [
        (b"<31>Jul 25 20:44:03 gw dhcp,debug lease bound, init-reboot, extending", "other",
         "mikrotik", True),
        (b"<30>Jul 25 20:44:03 gw system,info,account user admin logged in from 10.1.0.2 via web",
         "other", "mikrotik", True),
        (b"<30>Jul 25 20:44:03 gw pppoe,ppp,info pppoe-out1: disconnected", "wan_down",
         "mikrotik", True),
        (b"<30>Jul 25 20:44:09 gw pppoe,ppp,info pppoe-out1: connected", "wan_up", "mikrotik",
         True),
        # A PPPoE server's session with a subscriber is not the router's WAN.
        (b"<30>Jul 25 20:44:09 gw pppoe,ppp,info <pppoe-user1>: connected", "other", "mikrotik",
         True),
        # Under the error or critical topic the generic reader decides.
        (b"<27>Jul 25 20:44:03 gw system,error,critical login failure for user admin", "other",
         "generic", False),
    ],
)  # fmt: skip
def test_routeros_topic_lines(raw: bytes, kind: str, family: str, parse_ok: bool) -> None:
    parsed = read(raw)
    assert (parsed.kind.value, parsed.family, parsed.parse_ok, parsed.program) == (
        kind,
        family,
        parse_ok,
        None,
    )


def test_fritzbox_line_reencoded_from_latin1_still_reads() -> None:
    parsed = read(
        b"<13>20:52:31\tWLAN-Ger\xe4t angemeldet (5 GHz), 433 Mbit/s, tab-1, IP 192.0.2.220."
    )
    assert (parsed.kind, parsed.ip, parsed.hostname, parsed.band) == (
        Kind.WIFI_ASSOC,
        "192.0.2.220",
        "tab-1",
        "5GHz",
    )


def test_netgear_dos_attack_is_a_drop_from_the_attacker() -> None:
    parsed = read(
        b"<13>[DoS attack: FIN Scan] (1) attack packets in last 20 sec from ip [203.0.113.12], "
        b"Monday, Apr 26,2021 11:20:24"
    )
    assert essentials(parsed) == ("firewall_drop", None, "203.0.113.12", None, None)


def test_kernel_uptime_stamp_is_no_netgear_event() -> None:
    assert (
        read(
            b"<3>Jan  2 03:04:05 kernel: [    0.77] bam-dma-engine: num-channels unspecified"
        ).family
        == "generic"
    )


def test_unifi_stahtd_success_is_an_association_and_fixup_is_not() -> None:
    line = (
        b"<14>Feb 13 19:19:26 U7PG2,0200aa130002,v4.3.28.11361: : stahtd[1989]: "
        b'[STA-TRACKER].stahtd_dump_event(): {"vap":"ath2","mac":"02:00:00:aa:00:01",'
        b'"event_type":"%s"}'
    )
    assert [
        (parsed.kind, parsed.mac, parsed.iface, parsed.family)
        for parsed in (read(line % b"success"), read(line % b"fixup"))
    ] == [
        (Kind.WIFI_ASSOC, "02:00:00:aa:00:01", "ath2", "unifi"),
        (Kind.OTHER, "02:00:00:aa:00:01", "ath2", "unifi"),
    ]


def test_tplink_dhcp_server_lines() -> None:
    assert [
        essentials(read(b"<14>Aug  7 21:31:54 DHCP: DHCPS:Send ACK to 192.0.2.100")),
        essentials(read(b"<14>Aug  7 21:31:58 DHCP: DHCPS:Recv REQUEST from 02:00:00:26:00:01")),
        essentials(read(b"<14>Aug  7 21:58:44 DHCP: DHCPC Recv ACK from server ffffffff")),
    ] == [
        ("dhcp_ack", None, "192.0.2.100", None, None),
        ("dhcp_request", "02:00:00:26:00:01", None, None, None),
        ("other", None, None, None, None),
    ]


def test_generic_reads_an_unknown_daemons_dhcp_ack() -> None:
    parsed = generic.parse(
        Line(
            program="dhcpsrv",
            msg="DHCPACK sent 192.0.2.7 to 02:00:00:aa:00:07",
            hostname="gw",
            severity=6,
        )
    )
    assert essentials(parsed) == ("dhcp_ack", "02:00:00:aa:00:07", "192.0.2.7", None, None)


# --- firewall drops: where from, where to, what --------------------------------------------


def firewall(parsed: Parsed) -> tuple[str, str | None, str | None, str | None, int | None]:
    return parsed.kind.value, parsed.ip, parsed.dst, parsed.proto, parsed.dport


def test_filterlog_drop_names_source_destination_protocol_and_port() -> None:
    parsed = read(
        b"<134>Sep 23 13:24:36 filterlog: 42,,,1000004720,em0,match,block,in,4,0x0,,255,47903,0,"
        b"none,17,udp,233,192.168.101.11,224.0.0.251,5353,5353,213"
    )
    assert firewall(parsed) == ("firewall_drop", "192.168.101.11", "224.0.0.251", "udp", 5353)


def test_filterlog_ipv6_icmp_drop_has_no_port() -> None:
    parsed = read(
        b"<134>Jan 21 12:33:53 filterlog: 5,,,1000000003,vtnet0,match,block,in,6,0x00,0x00000,"
        b"255,ICMPv6,58,144,fe80::ff:fe00:1,ff02::1,"
    )
    assert firewall(parsed) == ("firewall_drop", "fe80::ff:fe00:1", "ff02::1", "icmpv6", None)


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [(b"[WAN_LOCAL-default-D]", "firewall_drop"), (b"[WAN_IN-3001-A]", "other")],
)
def test_unifi_gateway_rule_suffix_says_whether_the_packet_was_dropped(
    prefix: bytes, kind: str
) -> None:
    parsed = read(
        b"<4>Jul 14 17:44:32 USG kernel: "
        + prefix
        + b"IN=eth0 OUT= MAC=02:00:00:00:00:01:02:00:00:00:00:02:08:00 SRC=203.0.113.9 "
        b"DST=198.51.100.2 LEN=44 TOS=0x00 PREC=0x00 TTL=50 ID=1 PROTO=TCP SPT=40000 DPT=23 "
        b"WINDOW=1024 RES=0x00 SYN URGP=0"
    )
    assert firewall(parsed) == (kind, "203.0.113.9", "198.51.100.2", "tcp", 23)
    assert parsed.family == "unifi"


def test_netfilter_line_with_a_drop_prefix_is_a_drop_on_any_linux_router() -> None:
    parsed = read(
        b"<4>Jun  1 10:00:00 OpenWrt kernel: [ 812.5] drop wan in: IN=eth1 OUT= MAC=ff "
        b"SRC=203.0.113.8 DST=198.51.100.3 LEN=40 PROTO=UDP SPT=5000 DPT=1900 LEN=20"
    )
    assert firewall(parsed) == ("firewall_drop", "203.0.113.8", "198.51.100.3", "udp", 1900)
    assert parsed.iface == "eth1"


@pytest.mark.parametrize(("prefix", "kind"), [(b"DROP-WAN ", "firewall_drop"), (b"", "other")])
def test_routeros_firewall_line_is_a_drop_when_its_log_prefix_says_so(
    prefix: bytes, kind: str
) -> None:
    parsed = read(
        b"<30>Jun  1 10:00:00 MikroTik firewall,info "
        + prefix
        + b"input: in:ether1 out:(unknown 0), connection-state:new src-mac 02:00:00:00:00:05, "
        b"proto TCP (SYN), 203.0.113.7:51234->198.51.100.1:8291, len 60"
    )
    assert firewall(parsed) == (kind, "203.0.113.7", "198.51.100.1", "tcp", 8291)


# --- gateway monitor, repeats, records -------------------------------------------------------


@pytest.mark.parametrize(
    ("msg", "kind"),
    [
        (b"dpinger[1234]: WAN_DHCP 198.51.100.1: Alarm latency 10394us stddev 3451us loss 22%",
         "wan_down"),
        (b"dpinger[1234]: WAN_DHCP 198.51.100.1: Clear latency 9810us stddev 1234us loss 0%",
         "wan_up"),
        (b"dpinger[88]: GATEWAY ALARM: WAN_GW (Addr: 198.51.100.1 Alarm: 1 RTT: 0ms RTTd: 0ms "
         b"Loss: 100%)", "wan_down"),
        (b"dpinger[88]: GATEWAY ALARM: WAN_GW (Addr: 198.51.100.1 Alarm: 0 RTT: 8ms RTTd: 1ms "
         b"Loss: 0%)", "wan_up"),
        (b"dpinger[88]: send_interval 500ms  loss_interval 2000ms  time_period 60000ms", "other"),
        (b"dhcpleases[7]: Sending HUP signal to dns daemon(4242)", "other"),
    ],
)  # fmt: skip
def test_pfsense_and_opnsense_gateway_monitor_reports_the_wan(msg: bytes, kind: str) -> None:
    parsed = read(b"<29>Jun  1 10:00:00 fw " + msg)
    assert (parsed.kind.value, parsed.family) == (kind, "pfsense")


@pytest.mark.parametrize(
    "raw",
    [
        b"<13>Jun  1 10:00:00 gw syslogd: last message repeated 3 times",
        b"<13>Jun  1 10:00:00 gw last message repeated 3 times",
        b"<13>Jun  1 10:00:00 gw kernel: message repeated 2 times: [ eth0: link down]",
    ],
)
def test_repeated_message_notice_is_a_repeat_of_the_line_before(raw: bytes) -> None:
    assert read(raw).role is Role.REPEAT


def test_kernel_line_carries_its_uptime_stamp_as_its_identity() -> None:
    console = read(b"[32193.531060] ieee80211 phy1: staid 2 deleted")
    relayed = read(b"<6>Nov 18 19:09:30 gw kernel: [32193.531060] ieee80211 phy1: staid 2 deleted")
    assert (
        console.fingerprint
        == relayed.fingerprint
        == ("[32193.531060] ieee80211 phy1: staid 2 deleted")
    )


def test_oom_kill_names_its_victim_as_the_subject() -> None:
    decision = read(b"<3>[ 1770.3] Out of memory: Kill process 472 (askfirst) score 0")
    report = read(b"<3>[ 1770.4] Killed process 472 (askfirst) total-vm:904kB")
    assert decision.subject == report.subject == "oom kill 472"


def test_routeros_packet_record_opens_and_its_fields_say_what_they_are() -> None:
    opening = read(b"<31>Jul 25 20:44:03 defconf sending ack with id 242 to 192.168.100.22")
    field = read(b'<31>Jul 25 20:44:03 dhcp,debug,packet     Host-Name = "phone-4"')
    assert (opening.kind, opening.role, opening.ip) == (
        Kind.DHCP_ACK,
        Role.RECORD_START,
        "192.168.100.22",
    )
    assert (field.role, field.field) == (Role.RECORD_FIELD, ("Host-Name", '"phone-4"'))
    assert record_values(
        "mikrotik", {"chaddr": "02:00:00:1D:00:02", "ciaddr": "0.0.0.0", "Host-Name": '"p-4"'}
    ) == {"mac": "02:00:00:1d:00:02", "hostname": "p-4"}


def test_fritzbox_date_or_time_alone_is_a_fragment_of_the_next_entry() -> None:
    assert read(b"03.02.23").role is Role.FRAGMENT
    assert read(b"19:04:10").role is Role.FRAGMENT


# --- program: the daemon as the parser read it, not whatever rsyslog took for a TAG ---------


@pytest.mark.parametrize(
    ("raw", "family"),
    [
        (
            b"Jul/25/2026 20:44:03 dhcp,debug defconf received request id 24 from 0.0.0.0 '1:2'",
            "mikrotik",
        ),
        (
            b"<30>Jun  1 10:00:00 gw public_dhcp assigned 10.1.0.5 for 02:00:00:AA:00:01 pc-1",
            "mikrotik",
        ),
        (b"<14>Jun  1 10:00:00 box WLAN-Autokanal: Kanal 36 (Frequenz 5.180 GHz)", "fritzbox"),
        (b"<14>Sw 0200aa180001,USW-Lite-8-1.8.6.694: NETDEV: Setup PVID... done", "unifi"),
    ],
)
def test_line_of_a_firmware_without_tags_names_no_program(raw: bytes, family: str) -> None:
    parsed = read(raw)
    assert (parsed.family, parsed.parse_ok, parsed.program) == (family, True, None)


def test_tagless_dnsmasq_line_has_no_program_of_its_first_word() -> None:
    parsed = read(b"Tue Aug 11 00:23:55 DHCPACK(br-lan) 192.168.1.194 02:00:00:aa:00:03 pc")
    assert (parsed.kind, parsed.iface, parsed.program) == (Kind.DHCP_ACK, "br-lan", None)


@pytest.mark.parametrize(
    "raw",
    [
        b"<14>Jul 14 17:44:32 0200aa2e0001,UAP-AC-LR-5.43.38+12731: ",
        b"<14>Jul 14 17:44:35 U7PG2,0200aa2e0002,v4.3.28.11361:",
    ],
)
def test_unifi_header_with_an_empty_message_is_an_understood_other(raw: bytes) -> None:
    parsed = read(raw)
    assert (parsed.kind, parsed.family, parsed.parse_ok, parsed.program) == (
        Kind.OTHER,
        "unifi",
        True,
        None,
    )


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"<46>Dec  1 09:49:56 syslogd exiting", "syslogd exiting"),
        (b"<46>Dec  1 17:49:56 syslogd started: BusyBox v1.25.1", "syslogd started"),
    ],
)
def test_busybox_syslogd_start_and_stop_name_syslogd_not_a_host(raw: bytes, detail: str) -> None:
    parsed = read(raw)
    assert (parsed.kind, parsed.parse_ok, parsed.program, parsed.detail) == (
        Kind.OTHER,
        True,
        "syslogd",
        detail,
    )


def test_a_host_named_syslogd_still_has_its_daemons_read() -> None:
    parsed = read(
        b"<30>Dec  1 09:49:56 syslogd dnsmasq-dhcp[1]: DHCPACK(br-lan) 10.0.0.2 02:00:00:aa:00:04"
    )
    assert (parsed.kind, parsed.program) == (Kind.DHCP_ACK, "dnsmasq-dhcp")


def test_a_line_longer_than_the_readers_take_is_kept_unread_and_quickly() -> None:
    started = time.monotonic()
    parsed = parse(
        Line(program="kernel", msg="x" * 65000, hostname="gw", severity=6, tag_and_msg="")
    )
    assert time.monotonic() - started < 1.0
    assert (parsed.kind, parsed.family, parsed.parse_ok, parsed.program, parsed.detail) == (
        Kind.OTHER,
        "generic",
        False,
        "kernel",
        "line of 65000 characters, longer than the 4096 read",
    )
