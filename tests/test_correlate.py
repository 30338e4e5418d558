"""One event, several lines: duplicates and parts are told from events, in order, whatever the
batches. Lines are fed as their routers send them, through ``logweave parse``'s reading.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from logweave.config import Settings
from logweave.correlate import Amendment, Reading, Stream
from logweave.parse_cli import LineReading, event_of, read_log
from logweave.reader import EventReader, EventReading
from logweave.syslog_header import frame_pasted_line, read_header

RECEIVED = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CORPUS = Path(__file__).parent / "corpus"


def read(*lines: bytes) -> list[LineReading]:
    return read_log(list(lines), Settings(), RECEIVED, "192.0.2.1")


def marks(readings: list[LineReading]) -> list[tuple[bool, int | None, int | None]]:
    return [(r.counted, r.dup_of, r.part_of) for r in readings]


def test_hostapd_association_and_its_control_event_are_one_event() -> None:
    readings = read(
        b"<30>Jun  1 11:59:58 ap hostapd: wlan0: STA 02:00:00:00:00:01 IEEE 802.11: associated",
        b"<29>Jun  1 11:59:58 ap hostapd: wlan0: AP-STA-CONNECTED 02:00:00:00:00:01",
    )
    assert [r.parsed.kind.value for r in readings] == ["wifi_assoc", "wifi_assoc"]
    assert marks(readings) == [(True, None, None), (False, 1, None)]


def test_station_associating_on_the_other_radio_within_the_window_is_a_new_event() -> None:
    readings = read(
        b"<30>Jun  1 11:59:50 ap hostapd: wlan0: STA 02:00:00:00:00:01 IEEE 802.11: associated",
        b"<29>Jun  1 11:59:55 ap hostapd: wlan1: AP-STA-CONNECTED 02:00:00:00:00:01",
    )
    assert marks(readings) == [(True, None, None), (True, None, None)]


def test_pppd_and_netifd_report_one_wan_drop() -> None:
    readings = read(
        b"<30>Jun  1 11:59:50 gw pppd[5863]: LCP terminated by peer",
        b"<29>Jun  1 11:59:50 gw pppd[5863]: Modem hangup",
        b"<30>Jun  1 11:59:50 gw pppd[5863]: Sent PADT",
        b"<29>Jun  1 11:59:51 gw netifd: Interface 'wan' is now down",
    )
    expected = [(True, None, None), (False, 1, None), (True, None, None), (False, 1, None)]
    assert marks(readings) == expected


def test_the_same_words_again_are_a_new_event() -> None:
    # A flapping WAN says "is now down" twice; a client retries its DHCPREQUEST.
    readings = read(
        b"<29>Jun  1 11:59:40 gw netifd: Interface 'wan' is now down",
        b"<29>Jun  1 11:59:47 gw netifd: Interface 'wan' is now down",
        b"<30>Jun  1 11:59:48 gw dnsmasq-dhcp[9]: DHCPREQUEST(br-lan) 10.0.0.9 02:00:00:00:00:02",
        b"<30>Jun  1 11:59:58 gw dnsmasq-dhcp[9]: DHCPREQUEST(br-lan) 10.0.0.9 02:00:00:00:00:02",
    )
    assert [r.counted for r in readings] == [True, True, True, True]


def test_other_words_outside_the_window_are_a_new_event() -> None:
    readings = read(
        b"<29>Jun  1 11:58:00 gw netifd: Interface 'wan' is now down",
        b"<30>Jun  1 11:59:00 gw pppd[1]: LCP terminated by peer",
    )
    assert [r.counted for r in readings] == [True, True]


def test_a_state_change_in_between_ends_the_duplicate() -> None:
    readings = read(
        b"<29>Jun  1 11:59:40 gw netifd: Interface 'wan' is now down",
        b"<29>Jun  1 11:59:41 gw netifd: Interface 'wan' is now up",
        b"<30>Jun  1 11:59:42 gw pppd[1]: LCP terminated by peer",
    )
    assert [r.counted for r in readings] == [True, True, True]


def test_last_message_repeated_repeats_the_line_before_and_counts_nothing() -> None:
    readings = read(
        b"<30>Jun  1 11:59:40 gw hostapd: wlan0: STA 02:00:00:00:00:03 IEEE 802.11: deauthenticated"
        b" due to inactivity",
        b"<13>Jun  1 11:59:55 gw syslogd: last message repeated 4 times",
        b"<13>Jun  1 11:59:59 gw syslogd: last message repeated 2 times",
    )
    assert marks(readings) == [(True, None, None), (False, 1, None), (False, 1, None)]
    assert readings[1].parsed.kind.value == "wifi_deauth"
    assert readings[1].parsed.mac == "02:00:00:00:00:03"


def test_oom_kill_decision_and_report_are_one_error_and_the_next_oom_is_another() -> None:
    readings = read(
        b"<3>[ 1770.321636] Out of memory: Kill process 472 (askfirst) score 0",
        b"<3>[ 1770.336553] Killed process 472 (askfirst) total-vm:904kB",
        b"<4>[ 1770.377252] procd invoked oom-killer: gfp_mask=0x14201ca",
    )
    assert [r.parsed.kind.value for r in readings] == ["system_error"] * 3
    assert marks(readings) == [(True, None, None), (False, 1, None), (True, None, None)]


def test_kernel_message_from_the_console_and_from_syslog_is_one() -> None:
    readings = read(
        b"[32193.531060] ieee80211 phy1: staid 2 deleted",
        b"<6>Jun  1 11:59:30 gw kernel: [32193.531060] ieee80211 phy1: staid 2 deleted",
        b"<6>Jun  1 11:59:31 gw kernel: [32193.532000] ieee80211 phy1: staid 2 deleted",
    )
    # The third has a stamp of its own: the kernel said it again.
    assert marks(readings) == [(True, None, None), (False, 1, None), (True, None, None)]


def test_routeros_record_fields_belong_to_their_record_which_learns_the_client() -> None:
    readings = read(
        b"<31>Jun  1 11:59:59 gw defconf received request id 24 from 0.0.0.0 '1:2:0:0:0:0:9'",
        b"<31>Jun  1 11:59:59 gw     chaddr = 02:00:00:00:00:09",
        b'<31>Jun  1 11:59:59 gw     Host-Name = "phone-9"',
        b"<31>Jun  1 11:59:59 gw     Address-Request = 192.168.88.20",
        b"<31>Jun  1 11:59:59 gw lease bound, init-reboot, extending",
        b"<31>Jun  1 11:59:59 gw     Msg-Type = ack",
    )
    head = readings[0]
    assert (head.parsed.kind.value, head.parsed.mac, head.parsed.ip, head.parsed.hostname) == (
        "dhcp_request",
        "02:00:00:00:00:09",
        "192.168.88.20",
        "phone-9",
    )
    assert [r.parsed.mac for r in readings[1:4]] == [None, None, None]
    # The record ends at a line of its own; a field after that has no record.
    assert marks(readings) == [(True, None, None)] + [(False, None, 1)] * 3 + [
        (True, None, None),
        (True, None, None),
    ]


def test_field_lines_far_from_the_open_record_in_time_are_not_its_own() -> None:
    readings = read(
        b"<31>Jun  1 11:59:59 gw defconf received request id 24 from 10.0.0.9 '1:2:0:0:0:0:9'",
        b"<31>May 30 08:00:00 gw     chaddr = 02:00:00:00:00:09",
    )
    assert marks(readings) == [(True, None, None), (True, None, None)]
    assert readings[0].parsed.mac is None


def test_fritzbox_date_and_time_lines_are_parts_of_the_entry_that_follows() -> None:
    readings = read(
        b"03.02.23",
        b"19:04:10",
        b"Internetverbindung wurde getrennt.",
    )
    assert marks(readings) == [(False, None, 3), (False, None, 3), (True, None, None)]


def test_bare_line_after_a_line_is_its_wrapped_end() -> None:
    readings = read(
        b"<27>Jun  1 11:59:59 gw dnsmasq[8904]: bad IPv6 address at line 25 of",
        b"/etc/dnsmasq.conf",
    )
    assert marks(readings) == [(True, None, None), (False, None, 1)]


def test_client_identity_of_duplicates_is_the_mac_so_two_clients_are_two_events() -> None:
    readings = read(
        b"<29>Jun  1 11:59:58 ap hostapd: wlan0: AP-STA-CONNECTED 02:00:00:00:00:01",
        b"<30>Jun  1 11:59:58 ap hostapd: wlan0: STA 02:00:00:00:00:02 IEEE 802.11: associated",
    )
    assert [r.counted for r in readings] == [True, True]


@pytest.mark.parametrize("file", ["openwrt", "mikrotik", "fritzbox", "edge-cases", "tplink"])
def test_reading_gives_the_same_result_however_the_stream_is_cut_into_batches(file: str) -> None:
    raw = (CORPUS / f"{file}.log").read_bytes().split(b"\n")[:-1]
    settings = Settings()
    events = [
        event_of(read_header(frame_pasted_line(line), received=RECEIVED), RECEIVED, "192.0.2.1")
        for line in raw
    ]

    whole = EventReader(settings)
    in_one = [whole.read(e, ref=str(n)) for n, e in enumerate(events, 1)]

    # One event per batch: the context goes through its JSON form, as through router_streams.
    in_batches = []
    state: dict[str, object] = {}
    for n, e in enumerate(events, 1):
        streams = {k: Stream.from_json(json.loads(json.dumps(v))) for k, v in state.items()}
        reader = EventReader(settings, streams)
        in_batches.append(reader.read(e, ref=str(n)))
        state = {k: stream.to_json() for k, stream in reader.streams.items()}

    def outcome(pair: tuple[EventReading, list[Amendment]]) -> tuple[Reading, list[Amendment]]:
        read_, amendments = pair
        return read_.reading, amendments

    assert [outcome(p) for p in in_batches] == [outcome(p) for p in in_one]
