"""logweave.syslog_header reads a line as rsyslog 8.2302 does; the expected values below are what
rsyslogd 8.2302.0 wrote through a jsonf template for the same bytes (imudp, DNS off).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from logweave.syslog_header import Header, frame_pasted_line, read_header

RECEIVED = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)


def read(raw: bytes, received: datetime = RECEIVED) -> Header:
    return read_header(raw, received=received, fromhost="127.0.0.1")


def test_rfc3164_line_gives_every_header_field() -> None:
    header = read(
        b"<30>Oct  8 20:26:33 OpenWrt dnsmasq-dhcp[1]: DHCPACK(br-lan) 192.168.1.2 "
        b"02:00:00:00:00:01 phone"
    )
    assert header == Header(
        facility=3,
        severity=6,
        timereported="2026-10-08T20:26:33+00:00",
        hostname="OpenWrt",
        hostname_in_line=True,
        syslogtag="dnsmasq-dhcp[1]:",
        programname="dnsmasq-dhcp",
        msg=" DHCPACK(br-lan) 192.168.1.2 02:00:00:00:00:01 phone",
        protocol=0,
        app_name="dnsmasq-dhcp",
        procid="1",
        msgid="-",
        structured_data="-",
        valid_utf8=True,
        dead_letter=None,
    )


def test_msg_keeps_the_space_after_the_tag_colon() -> None:
    assert read(b"<13>Jan  2 03:04:05 h t: x").msg == " x"


def test_line_without_pri_is_user_notice() -> None:
    header = read(b"Jan  2 03:04:05 h t: x")
    assert (header.facility, header.severity) == (1, 5)


def test_malformed_pri_is_the_invld_facility_and_is_not_parsed_further() -> None:
    header = read(b"<999>Jan  2 03:04:05 h t: x")
    assert (header.facility, header.severity, header.hostname, header.syslogtag) == (
        24,
        7,
        "127.0.0.1",
        "",
    )
    assert (header.msg, header.timereported, header.dead_letter) == (
        "<999>Jan  2 03:04:05 h t: x",
        None,
        None,
    )


def test_empty_pri_brackets_mean_priority_zero() -> None:
    header = read(b"<>Jan  2 03:04:05 h t: x")
    assert (header.facility, header.severity, header.syslogtag) == (0, 0, "t:")


def test_tag_without_colon_makes_the_program_the_hostname() -> None:
    header = read(b"<13>Dec  1 09:49:56 syslogd exiting")
    assert (header.hostname, header.syslogtag, header.programname, header.msg) == (
        "syslogd",
        "exiting",
        "exiting",
        "",
    )


def test_tag_with_a_space_makes_its_first_word_the_hostname() -> None:
    header = read(b"<13>May  3 10:00:00 WAN Connection: WAN was restored.")
    assert (header.hostname, header.syslogtag, header.msg) == (
        "WAN",
        "Connection:",
        " WAN was restored.",
    )


def test_hostname_is_taken_even_without_a_timestamp() -> None:
    header = read(b"<13>main 020000160002,UAP-AC-Pro-Gen2-6.0 stahtd: stahtd[1999]: x")
    assert (header.timereported, header.hostname, header.syslogtag, header.msg) == (
        None,
        "main",
        "020000160002,UAP-AC-Pro-Gen2-6.0",
        " stahtd: stahtd[1999]: x",
    )


def test_hostname_must_end_in_a_letter_or_digit() -> None:
    header = read(b"<13>Mar 14 22:47:06 v--------- dhcpd: DHCPDISCOVER from x via eth0")
    assert (header.hostname, header.hostname_in_line, header.syslogtag, header.msg) == (
        "127.0.0.1",
        False,
        "v---------",
        " dhcpd: DHCPDISCOVER from x via eth0",
    )


def test_slash_is_no_hostname_character_and_ends_the_program_name() -> None:
    header = read(b"<13>Jan  2 03:04:05 h/x t: x")
    assert (header.hostname, header.syslogtag, header.programname, header.msg) == (
        "127.0.0.1",
        "h/x",
        "h",
        " t: x",
    )


def test_line_starting_with_a_bracket_is_headerless() -> None:
    header = read(b"<6>[ 1770.286635] [ 1272] dropbear")
    assert (header.hostname, header.syslogtag, header.programname, header.msg) == (
        "127.0.0.1",
        "",
        "",
        "[ 1770.286635] [ 1272] dropbear",
    )
    assert (header.severity, header.app_name) == (6, "-")


def test_control_characters_are_escaped_and_one_trailing_lf_dropped() -> None:
    header = read(b"<13>Feb 5 13:00:49\tkernel: ovpns2: link state changed to UP\r\n")
    # The TAB ends the timestamp, so there is none; "Feb" is taken for the hostname.
    assert (header.timereported, header.hostname, header.syslogtag, header.msg) == (
        None,
        "Feb",
        "5",
        " 13:00:49#011kernel: ovpns2: link state changed to UP#015",
    )


def test_empty_pid_brackets_give_an_empty_procid() -> None:
    header = read(b"<30>2017-05-29T00:09:32+10:00 netifd[]: Interface 'wan' is now up")
    assert (header.timereported, header.programname, header.procid, header.hostname) == (
        "2017-05-29T00:09:32+10:00",
        "netifd",
        "",
        "127.0.0.1",
    )


def test_bsd_timestamp_takes_year_and_offset_from_the_receive_time() -> None:
    berlin_winter = timezone(timedelta(hours=1))
    received = datetime(2026, 12, 4, 15, 0, tzinfo=berlin_winter)
    # The offset is the receive time's, even for a date in summer time.
    assert read(b"<13>Jul  2 03:04:05 h t: x", received).timereported == (
        "2026-07-02T03:04:05+01:00"
    )


def test_bsd_timestamp_with_leading_year_and_fraction() -> None:
    assert read(b"<13>2020 Jan  2 03:04:05.678 h t: x").timereported == (
        "2020-01-02T03:04:05.678+00:00"
    )


def test_bsd_timestamp_with_year_after_the_day() -> None:
    assert read(b"<13>Jan  2 2021 03:04:05 h t: x").timereported == "2021-01-02T03:04:05+00:00"


def test_rfc5424_fields_and_tag() -> None:
    header = read(
        b"<134>1 2020-12-29T17:30:17.897251+00:00 fw-3.home.arpa filterlog 35553 - - 97,,,block"
    )
    assert header == Header(
        facility=16,
        severity=6,
        timereported="2020-12-29T17:30:17.897251+00:00",
        hostname="fw-3.home.arpa",
        hostname_in_line=True,
        syslogtag="filterlog[35553]",
        programname="filterlog",
        msg="97,,,block",
        protocol=1,
        app_name="filterlog",
        procid="35553",
        msgid="-",
        structured_data="-",
        valid_utf8=True,
        dead_letter=None,
    )


def test_rfc5424_structured_data_and_msgid() -> None:
    header = read(
        b'<13>1 2023-09-21T08:09:21+02:00 fw-4 dhclient 5856 ID1 [meta sequenceId="8"] '
        b"New IP Address (igb1): <WANIP>"
    )
    assert (header.msgid, header.structured_data, header.msg) == (
        "ID1",
        '[meta sequenceId="8"]',
        "New IP Address (igb1): <WANIP>",
    )


def test_rfc5424_without_procid_has_the_app_name_alone_as_tag() -> None:
    assert read(b"<13>1 - fw-4 dhclient - - - New IP").syslogtag == "dhclient"


def test_rfc5424_nil_timestamp_means_the_receive_time() -> None:
    assert read(b"<13>1 - fw-4 dhclient - - - New IP").timereported is None


def test_rfc5424_missing_structured_data_reports_the_msgid_there() -> None:
    header = read(b"<13>1 2023-09-21T08:09:21+02:00 fw-4 dhclient - ID47 New IP")
    assert (header.msgid, header.structured_data, header.msg) == ("ID47", "ID47", "New IP")


def test_invalid_utf8_in_msg_becomes_question_marks() -> None:
    header = read(b"<13>Jan  2 03:04:05 h t: Ger\xe4t a\xf2\xe5\xeb-5")
    assert (header.msg, header.valid_utf8) == (" Ger?t a???-5", True)


def test_invalid_utf8_in_the_tag_is_left_raw_and_dead_lettered() -> None:
    header = read(b"<13>Jan  2 03:04:05 h t\xe4g: x")
    assert (header.syslogtag, header.programname, header.valid_utf8, header.dead_letter) == (
        "t\ufffdg:",
        "t",
        False,
        "not_utf8",
    )


def test_received_time_must_carry_a_timezone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        read_header(b"<13>x", received=datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("pasted", "framed"),
    [
        (
            b"Mon Oct  7 20:34:11 2024 user.info mwan3track[2223]: Detect ifup",
            b"<14>Oct  7 20:34:11 mwan3track[2223]: Detect ifup",
        ),
        (
            b"Tue Aug 11 00:23:55 DHCPACK(br-lan) 192.168.100.194",
            b"<13>Aug 11 00:23:55 DHCPACK(br-lan) 192.168.100.194",
        ),
        (
            b"May 29 15:39:25 unknown cron.err crond[993]: time disparity",
            b"<75>May 29 15:39:25 unknown crond[993]: time disparity",
        ),
        (
            b"Sat Sep  7 20:49:45 2013 security.err dropbear[1031]: Bad password",
            b"<35>Sep  7 20:49:45 dropbear[1031]: Bad password",
        ),
        (
            b"2017-05-29T00:09:32+10:00 notice netifd[]: Interface 'wan' is now up",
            b"<13>2017-05-29T00:09:32+10:00 netifd[]: Interface 'wan' is now up",
        ),
        (
            b"Jul/25/2026 20:44:00 dhcp,debug,packet     Msg-Type = ack",
            b"<31>Jul 25 20:44:00 dhcp,debug,packet     Msg-Type = ack",
        ),
        (
            b'"1596857513","Aug  7 21:31:54","DHCP","INFO","DHCPS:Send ACK to 192.168.100.100"',
            b"<14>Aug  7 21:31:54 DHCP: DHCPS:Send ACK to 192.168.100.100",
        ),
        (b"<4>Jul 14 17:44:35 U7PG2,0200002e0002:", b"<4>Jul 14 17:44:35 U7PG2,0200002e0002:"),
        (
            b"Aug 21 03:35:01 ap-1 hostapd: wlan1-1: x",
            b"<13>Aug 21 03:35:01 ap-1 hostapd: wlan1-1: x",
        ),
        (
            b"[DoS attack: STORM] from ip [203.0.113.13]",
            b"<13>[DoS attack: STORM] from ip [203.0.113.13]",
        ),
    ],
)
def test_pasted_line_is_framed_as_the_router_sends_it(pasted: bytes, framed: bytes) -> None:
    assert frame_pasted_line(pasted) == framed
