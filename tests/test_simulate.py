"""``logweave simulate``: deterministic, well-formed RFC 3164 lines covering every scenario."""

from __future__ import annotations

import argparse
import re
import socket
from collections import defaultdict
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import pytest

from logweave import simulate

START = datetime(2024, 10, 8, tzinfo=UTC).timestamp()
DAY = 86400.0

# <PRI>Mmm dd hh:mm:ss HOSTNAME TAG[pid]: MSG
RFC3164 = re.compile(
    rb"<(?P<pri>\d{1,3})>(?P<time>[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d) "
    rb"(?P<host>[\w.-]+) (?P<program>[\w.-]+)(?:\[\d+\])?: (?P<msg>.*)"
)

# Each scenario and the lines that show it, whatever the router family.
SCENARIOS = {
    "assoc": rb"AP-STA-CONNECTED |: Assoc ",
    "auth_failure": rb"AP-STA-POSSIBLE-PSK-MISMATCH |reason: 4-Way Handshake timeout",
    "dhcp_ack": rb"DHCPACK",
    "dhcp_nak": rb"DHCPNAK",
    "wan_down": rb"Interface 'wan' is now down|WAN\(0\) link down|NIC Link is Down",
    "wan_up": rb"Interface 'wan' is now up|WAN\(0\) link up|bound to ",
    "roam": rb"ReAssoc |AP-STA-DISCONNECTED ",
    "deauth": rb"deauthenticated|Deauth",
}


def day(seed: int = 7) -> list[tuple[float, bytes]]:
    return list(simulate.generate(span=DAY, start=START, seed=seed))


def test_the_same_seed_and_start_give_the_same_lines() -> None:
    assert day(seed=7) == day(seed=7)
    assert day(seed=7) != day(seed=8)


def test_count_caps_the_lines_written(tmp_path: Path) -> None:
    out = tmp_path / "router.log"

    simulate.main(["--seed", "1", "--span", "30d", "--count", "1234", "--file", str(out)])

    lines = out.read_bytes().split(b"\n")
    assert len(lines) == 1235 and lines[-1] == b""


def test_times_stay_inside_the_span_in_order() -> None:
    times = [when for when, _ in day()]

    assert times[0] >= START and times[-1] < START + DAY
    assert times == sorted(times)


def test_every_line_is_rfc3164_with_pri_and_its_router_hostname() -> None:
    hosts = set()
    for when, line in day():
        match = RFC3164.fullmatch(line)
        assert match, line
        assert 0 <= int(match["pri"]) <= 191
        stamp = datetime.fromtimestamp(int(when), UTC)
        assert match["time"] == f"{stamp:%b} {stamp.day:2d} {stamp:%H:%M:%S}".encode()
        hosts.add(match["host"])
    assert hosts == {b"OpenWrt-1", b"RT-AX86U-2", b"gw-3"}


def test_each_router_gets_its_own_hostname() -> None:
    lines = simulate.generate(routers=5, clients=40, span=DAY, start=START, seed=3)
    hosts = {match["host"] for _, line in lines if (match := RFC3164.fullmatch(line))}
    assert hosts == {b"OpenWrt-1", b"RT-AX86U-2", b"gw-3", b"OpenWrt-4", b"RT-AX86U-5"}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_day_has_every_scenario(seed: int) -> None:
    text = b"\n".join(line for _, line in day(seed))

    missing = [name for name, pattern in SCENARIOS.items() if not re.search(pattern, text)]
    assert missing == []


def test_clients_keep_their_mac_and_hostname() -> None:
    names: dict[bytes, set[bytes]] = defaultdict(set)
    for _, line in day():
        ack = re.search(rb"DHCPACK\(\S+\) \S+ (\S+) (\S+)$", line)
        if ack:
            names[ack[1]].add(ack[2])
    assert names
    assert all(len(hostnames) == 1 for hostnames in names.values())


def test_openwrt_wan_drop_reads_like_pppd_and_netifd() -> None:
    week = simulate.generate(routers=1, clients=4, span=7 * DAY, start=START, seed=5)
    text = b"\n".join(line for _, line in week)

    for expected in (
        rb"pppd\[\d+\]: Connection terminated\.",
        rb"netifd: Interface 'wan' is now down",
        rb"pppd\[\d+\]: local  IP address 203\.0\.113\.\d+",
        rb"netifd: Interface 'wan' is now up",
    ):
        assert re.search(expected, text), expected


def test_sends_udp_datagrams_to_a_loopback_port() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(5)
        port = receiver.getsockname()[1]

        simulate.main(
            ["--seed", "4", "--start", "2024-10-08", "--count", "20", "--udp", f"127.0.0.1:{port}"]
        )

        datagrams = [receiver.recv(4096) for _ in range(20)]
    expected = islice(simulate.generate(seed=4, span=DAY, start=START), 20)
    assert datagrams == [line for _, line in expected]


@pytest.mark.parametrize(
    "target",
    ["--udp=192.0.2.10:514", "--tcp=192.168.1.2:10514", "--tcp=logs.example.net:514"],
)
def test_refuses_a_destination_that_is_not_loopback(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        simulate.main(["--count", "1", target])

    assert stopped.value.code == 2
    assert "is not a loopback address" in capsys.readouterr().err


def test_allow_remote_lifts_the_loopback_check() -> None:
    assert simulate.destination("192.0.2.10:514", allow_remote=True) == ("192.0.2.10", 514)
    assert simulate.destination("localhost:514", allow_remote=False) == ("127.0.0.1", 514)
    assert simulate.destination("[::1]:514", allow_remote=False) == ("::1", 514)


def test_span_takes_a_number_and_a_unit() -> None:
    assert simulate.parse_span("90m") == 5400
    assert simulate.parse_span("30d") == 30 * DAY
    with pytest.raises(argparse.ArgumentTypeError, match="1y"):
        simulate.parse_span("1y")
