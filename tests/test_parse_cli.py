"""``logweave parse``: a router's log as the pipeline reads it, line by line, as text or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from logweave.cli import main

RECEIVED = "2026-06-01T12:00:00+00:00"
UTC_FLAGS = ["--set", "parsing.timezone=UTC", "--set", "parsing.receiver_timezone=UTC"]


def write_log(tmp_path: Path, *lines: bytes, name: str = "router.log") -> Path:
    log = tmp_path / name
    log.write_bytes(b"\n".join(lines) + b"\n")
    return log


def parse_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], *lines: bytes
) -> list[dict[str, Any]]:
    log = write_log(tmp_path, *lines)
    assert main(["parse", "--json", "--received", RECEIVED, *UTC_FLAGS, str(log)]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_json_gives_the_fields_of_each_line_and_marks_a_duplicate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = parse_json(
        tmp_path,
        capsys,
        b"<30>May 31 20:26:43 ap hostapd: phy1-ap0: STA 02:00:00:02:00:02 IEEE 802.11: associated",
        b"<29>May 31 20:26:43 ap hostapd: phy1-ap0: AP-STA-CONNECTED 02:00:00:02:00:02",
    )
    assert first == {
        "file": str(tmp_path / "router.log"),
        "line": 1,
        "kind": "wifi_assoc",
        "mac": "02:00:00:02:00:02",
        "ip": None,
        "hostname": None,
        "iface": "phy1-ap0",
        "ssid": None,
        "band": None,
        "severity": "info",
        "program": "hostapd",
        "parse_ok": True,
        "family": "openwrt",
        "counted": True,
        "device_time": "2026-05-31T20:26:43+00:00",
        "clock_skew": True,
    }
    assert (second["counted"], second["dup_of"], second["severity"]) == (False, 1, "notice")


def test_logread_and_bare_lines_read_as_the_router_would_send_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logread, bare = parse_json(
        tmp_path,
        capsys,
        b"Mon Jun  1 11:59:00 2026 daemon.info dnsmasq-dhcp[1]: DHCPACK(br-lan) 192.168.1.20"
        b" 02:00:00:00:00:20 laptop-1",
        b"DHCPREQUEST(br-lan) 192.168.1.21 02:00:00:00:00:21",
    )
    assert (logread["kind"], logread["hostname"], logread["severity"]) == (
        "dhcp_ack",
        "laptop-1",
        "info",
    )
    assert logread["device_time"] == "2026-06-01T11:59:00+00:00"
    # No header at all: no hostname, no time; rsyslog's defaults fill the rest.
    assert (bare["kind"], bare["mac"], bare["device_time"], bare["severity"]) == (
        "dhcp_request",
        "02:00:00:00:00:21",
        None,
        "notice",
    )


def test_doubled_header_of_a_relay_is_read_after_the_inner_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (line,) = parse_json(
        tmp_path,
        capsys,
        b"Feb  3 14:00:35 router.asus.com Feb  3 14:00:35 dnsmasq-dhcp[11489]: DHCPACK(br0)"
        b" 10.100.0.142 02:00:00:11:00:01",
    )
    assert (line["kind"], line["mac"], line["ip"], line["iface"], line["program"]) == (
        "dhcp_ack",
        "02:00:00:11:00:01",
        "10.100.0.142",
        "br0",
        "dnsmasq-dhcp",
    )


def test_rfc5424_line_with_structured_data_keeps_its_offset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (line,) = parse_json(
        tmp_path,
        capsys,
        b'<134>1 2026-06-01T13:59:58.5+02:00 fw-1 filterlog 355 - [meta sequenceId="8"]'
        b" 97,,,1568,pppoe0,match,block,in,4,0x0,,243,734,0,none,6,tcp,40,203.0.113.5,"
        b"198.51.100.7,40022,22,0,S,13956,,1024,,",
    )
    assert line["device_time"] == "2026-06-01T11:59:58.500000+00:00"
    assert (line["kind"], line["ip"], line["dst"], line["proto"], line["dport"]) == (
        "firewall_drop",
        "203.0.113.5",
        "198.51.100.7",
        "tcp",
        22,
    )
    assert not line["clock_skew"]


def test_invalid_utf8_in_msg_is_mended_and_in_the_tag_is_a_dead_letter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    in_msg, in_tag = parse_json(
        tmp_path,
        capsys,
        b"<30>Jun  1 11:59:00 mt public_dhcp assigned 10.0.0.125 for 02:00:00:1e:00:01 "
        b"\xf2\xe5\xeb-5",
        b"<30>Jun  1 11:59:01 gw d\xe9mon[1]: text",
    )
    assert (in_msg["kind"], in_msg["hostname"], in_msg["counted"]) == ("dhcp_ack", "???-5", True)
    assert (in_tag["dead_letter"], in_tag["counted"]) == ("not_utf8", False)


def test_routeros_record_is_printed_with_what_its_fields_say(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = parse_json(
        tmp_path,
        capsys,
        b"Jun/01/2026 11:59:58 dhcp,debug defconf received request id 24 from 0.0.0.0 '1:2'",
        b"Jun/01/2026 11:59:58 dhcp,debug,packet     chaddr = 02:00:00:1D:00:02",
        b"Jun/01/2026 11:59:58 dhcp,debug,packet     Address-Request = 192.168.100.22",
    )
    assert [(p["kind"], p["mac"], p["ip"], p.get("part_of")) for p in lines] == [
        ("dhcp_request", "02:00:00:1d:00:02", "192.168.100.22", None),
        ("other", None, None, 1),
        ("other", None, None, 1),
    ]


def test_text_output_names_each_line_and_what_it_repeats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = write_log(
        tmp_path,
        b"<30>Jun  1 11:59:50 gw pppd[5863]: LCP terminated by peer",
        b"<29>Jun  1 11:59:50 gw pppd[5863]: Modem hangup",
        b"<30>Jun  1 11:59:50 gw foo[1]: nothing to see",
    )
    assert main(["parse", "--received", RECEIVED, *UTC_FLAGS, str(log)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        str(log),
        "     1  wan_down        program=pppd",
        "     2  wan_down        program=pppd  (repeats line 1)",
        "     3  other           program=foo  (not understood)",
    ]


def test_summary_gives_the_share_understood_per_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    known = write_log(
        tmp_path,
        b"<30>Jun  1 11:59:50 gw pppd[5863]: LCP terminated by peer",
        b"<30>Jun  1 11:59:51 gw foo[1]: nothing to see",
        name="openwrt.log",
    )
    other = write_log(tmp_path, b"<30>Jun  1 11:59:52 gw bar[1]: nor here", name="x.log")
    assert main(["parse", "--summary", "--received", RECEIVED, str(known), str(other)]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows[0] == ["file", "lines", "understood", "events", "read", "by"]
    assert rows[1][1:] == ["2", "1", "(", "50.0%)", "2", "openwrt", "1,", "generic", "1"]
    assert rows[2][1:] == ["1", "0", "(", "0.0%)", "1", "generic", "1"]
    assert rows[3] == ["all", "3", "1", "(", "33.3%)", "3"]


def test_each_router_reads_in_the_zone_its_settings_give_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "logweave.toml"
    config.write_text(
        '[parsing]\ntimezone = "UTC"\nreceiver_timezone = "UTC"\n'
        '[routers."192.0.2.7"]\nname = "cabin"\ntimezone = "America/New_York"\n'
    )
    log = write_log(tmp_path, b"<30>Jun  1 07:59:00 gw dnsmasq[1]: started, version 2.90")
    times = {}
    for router in ("192.0.2.7", "192.0.2.8"):
        command = ["parse", "--json", "--config", str(config), "--received", RECEIVED]
        assert main([*command, "--router", router, str(log)]) == 0
        line = json.loads(capsys.readouterr().out)
        times[router] = (line["device_time"], line["clock_skew"])
    # 07:59 in New York (EDT) is 11:59 UTC, a minute before the receive time; in UTC it would
    # be four hours off, a clock skew.
    assert times == {
        "192.0.2.7": ("2026-06-01T11:59:00+00:00", False),
        "192.0.2.8": ("2026-06-01T07:59:00+00:00", True),
    }


def test_a_line_the_producer_would_refuse_is_shown_as_a_dead_letter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = parse_json(
        tmp_path,
        capsys,
        b"<13>1 0001-01-01T00:00:00+14:00 gw prog - - - before the first year in UTC",
        b"<13>1 2026-06-01T11:59:00Z gw prog - - - fine",
    )
    assert (first["dead_letter"], first["counted"], first["kind"]) == ("bad_field", False, "other")
    assert "dead_letter" not in second


def test_an_unreadable_file_is_named_and_the_others_still_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = write_log(tmp_path, b"<13>May 31 20:26:43 gw prog: hello")
    missing = tmp_path / "missing.log"
    assert main(["parse", "--received", RECEIVED, *UTC_FLAGS, str(missing), str(log)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"logweave parse: cannot read {missing}: No such file or directory\n"
    assert captured.out.splitlines()[0] == str(log)


def test_a_receive_time_near_the_end_of_the_calendar_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["parse", "--received", "9999-12-31T23:00:00-05:00", "-"])
    assert stopped.value.code == 2
    assert "'9999-12-31T23:00:00-05:00' is outside the years 1970-9000" in capsys.readouterr().err
