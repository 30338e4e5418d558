"""The rsyslog template end to end: real rsyslogd, syslog lines in, contract JSON out over TCP."""

from __future__ import annotations

import json
import re
import selectors
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from logweave import simulate
from logweave.contract import normalise
from tests.harness.rsyslog import Rsyslog, check_config, render_template

pytestmark = pytest.mark.integration

StartRsyslog = Callable[..., Rsyslog]

WAIT_S = 20.0


class Sink:
    """A stand-in for the producer: a TCP listener on 127.0.0.1 that keeps every line it reads.

    ``stop`` closes the listener and every connection, so rsyslog sees the producer go away;
    ``start`` listens again on the same port.
    """

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self.lines: list[bytes] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._running = False

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        listener.setblocking(False)
        self._running = True
        self._thread = threading.Thread(target=self._serve, args=(listener,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def wait_for(self, count: int, timeout: float = WAIT_S) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.lines) >= count:
                    return list(self.lines)
            time.sleep(0.02)
        with self._lock:
            raise AssertionError(f"expected {count} lines within {timeout}s, got {self.lines!r}")

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(line) for line in self.lines]

    def _serve(self, listener: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ)
        try:
            while self._running:
                for key, _ in selector.select(timeout=0.05):
                    if key.fileobj is listener:
                        connection, _ = listener.accept()
                        selector.register(connection, selectors.EVENT_READ, bytearray())
                        continue
                    connection = key.fileobj
                    assert isinstance(connection, socket.socket)
                    if not self._read(connection, key.data):
                        selector.unregister(connection)
                        connection.close()
        finally:
            for key in list(selector.get_map().values()):
                if isinstance(key.fileobj, socket.socket):
                    key.fileobj.close()
            selector.close()

    def _read(self, connection: socket.socket, buffer: bytearray) -> bool:
        """Keep the complete lines that arrived; False when the peer closed or reset."""
        try:
            data = connection.recv(65536)
        except OSError:
            return False
        buffer += data
        *complete, rest = buffer.split(b"\n")
        buffer[:] = rest
        with self._lock:
            self.lines.extend(complete)
        return bool(data)


def _syslog_time(moment: datetime) -> bytes:
    """An RFC 3164 timestamp: no year, no zone, the day padded with a space."""
    return f"{moment:%b} {moment.day:2d} {moment:%H:%M:%S}".encode()


@pytest.fixture
def sink() -> Iterator[Sink]:
    listener = Sink()
    listener.start()
    yield listener
    listener.stop()


def test_role_defaults_render_a_config_rsyslogd_accepts(tmp_path: Path) -> None:
    config = tmp_path / "logweave.conf"
    config.write_text(render_template())

    result = check_config(config)

    assert result.returncode == 0, result.stderr
    text = config.read_text()
    assert 'target="127.0.0.1"\n        port="10514"' in text
    assert 'input(type="imudp" address="0.0.0.0" port="514"' in text
    assert 'input(type="imtcp" address="0.0.0.0" port="514"' in text


def test_an_empty_sender_list_renders_no_filter(tmp_path: Path) -> None:
    config = tmp_path / "logweave.conf"
    config.write_text(render_template(rsyslog_allowed_senders=[]))

    result = check_config(config)

    assert result.returncode == 0, result.stderr
    assert "$fromhost-ip" not in config.read_text()


def test_sender_networks_render_as_number_ranges() -> None:
    text = render_template(rsyslog_allowed_senders=["192.168.1.77/24", "10.0.0.5"])

    low, high = 3232235776, 3232236031  # 192.168.1.0 and 192.168.1.255
    assert f"(ipv42num($fromhost-ip) >= {low} and ipv42num($fromhost-ip) <= {high})" in text
    assert 'or $fromhost-ip == "10.0.0.5"' in text


# The order rsyslog writes the fields in: the contract's, then the optional ones.
FIELD_ORDER = [
    "timereported",
    "timegenerated",
    "hostname",
    "fromhost-ip",
    "programname",
    "syslogtag",
    "severity",
    "facility",
    "msg",
    "uuid",
    "app-name",
    "procid",
    "msgid",
    "structured-data",
]

# Each case: how it is sent, the line ({ts} is an RFC 3164 time of now), and the fields expected
# besides timegenerated and uuid. RFC 3164 lines get rsyslog's "-" for procid, msgid and
# structured-data unless they carry a pid, and app-name is the program name.
LINE_CASES = {
    "rfc3164_over_udp": (
        "udp",
        b"<30>{ts} gw-test hostapd: phy0-ap0: AP-STA-CONNECTED 02:00:00:00:00:01 auth_alg=open",
        {
            "programname": "hostapd",
            "syslogtag": "hostapd:",
            "severity": 6,
            "facility": "3",
            "msg": " phy0-ap0: AP-STA-CONNECTED 02:00:00:00:00:01 auth_alg=open",
        },
    ),
    "rfc3164_with_pid_over_tcp": (
        "lf",
        b"<29>{ts} gw-test dnsmasq-dhcp[1234]: DHCPACK(br-lan) 192.168.1.20 02:00:00:00:00:01 tv-1",
        {
            "programname": "dnsmasq-dhcp",
            "syslogtag": "dnsmasq-dhcp[1234]:",
            "severity": 5,
            "facility": "3",
            "msg": " DHCPACK(br-lan) 192.168.1.20 02:00:00:00:00:01 tv-1",
            "procid": "1234",
        },
    ),
    "rfc5424_with_structured_data_octet_counted": (
        "octet",
        b"<165>1 2024-10-08T20:26:33.123456+02:00 gw-test dnsmasq 1234 DHCP "
        b'[origin@32473 ip="192.168.1.1"][meta sequenceId="7"] DHCPACK(br-lan) 192.168.1.20',
        {
            "timereported": "2024-10-08T20:26:33.123456+02:00",
            "programname": "dnsmasq",
            "syslogtag": "dnsmasq[1234]",
            "severity": 5,
            "facility": "20",
            "msg": "DHCPACK(br-lan) 192.168.1.20",
            "procid": "1234",
            "msgid": "DHCP",
            "structured-data": '[origin@32473 ip="192.168.1.1"][meta sequenceId="7"]',
        },
    ),
    "tab_and_control_characters_escaped": (
        "lf",
        b"<14>{ts} gw-test kernel: eth0:\tlink\x01up",
        {
            "programname": "kernel",
            "syslogtag": "kernel:",
            "severity": 6,
            "facility": "1",
            "msg": " eth0:#011link#001up",
        },
    ),
    "invalid_utf8_in_msg_replaced": (
        "udp",
        b"<30>{ts} gw-test hostapd: SSID caf\xe9 \xc3\xa9t\xc3\xa9 \xe2\x82",
        {
            "programname": "hostapd",
            "syslogtag": "hostapd:",
            "severity": 6,
            "facility": "3",
            "msg": " SSID caf? \u00e9t\u00e9 ??",
        },
    ),
    "no_pri_is_user_notice": (
        "lf",
        b"{ts} gw-test dnsmasq-dhcp[55]: DHCPNAK(br-lan) 192.168.1.20 02:00:00:00:00:01 wrong net",
        {
            "programname": "dnsmasq-dhcp",
            "syslogtag": "dnsmasq-dhcp[55]:",
            "severity": 5,
            "facility": "1",
            "msg": " DHCPNAK(br-lan) 192.168.1.20 02:00:00:00:00:01 wrong net",
            "procid": "55",
        },
    ),
}


def _send(rsyslog: Rsyslog, how: str, line: bytes) -> None:
    if how == "udp":
        rsyslog.send_udp(line)
    else:
        rsyslog.send_tcp(line, framing=how)


@pytest.mark.parametrize("case", LINE_CASES)
def test_syslog_line_arrives_as_one_contract_json_object(
    case: str, rsyslog: StartRsyslog, sink: Sink
) -> None:
    how, line, fields = LINE_CASES[case]
    now = datetime.now(UTC).replace(microsecond=0)
    server = rsyslog(sink.port)

    _send(server, how, line.replace(b"{ts}", _syslog_time(now)))
    [received] = sink.wait_for(1)

    event = json.loads(received)
    assert list(event) == FIELD_ORDER
    expected = {
        "timereported": now.isoformat(),
        "hostname": "gw-test",
        "fromhost-ip": "127.0.0.1",
        "app-name": fields["programname"],
        "procid": "-",
        "msgid": "-",
        "structured-data": "-",
        **fields,
    }
    assert {k: v for k, v in event.items() if k not in ("timegenerated", "uuid")} == expected
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", event["timegenerated"])
    generated = datetime.fromisoformat(event["timegenerated"])
    assert abs((generated - now).total_seconds()) < 60
    assert re.fullmatch(r"[0-9A-F]{32}", event["uuid"])
    assert normalise(event, received=None).id == str(uuid.UUID(event["uuid"]))


def test_every_line_gets_its_own_uuid(rsyslog: StartRsyslog, sink: Sink) -> None:
    server = rsyslog(sink.port)

    server.send_tcp([b"<30>Oct  8 20:26:33 gw-test hostapd: same line"] * 5)

    ids = {json.loads(line)["uuid"] for line in sink.wait_for(5)}
    assert len(ids) == 5


def test_invalid_utf8_in_the_tag_passes_through_raw(rsyslog: StartRsyslog, sink: Sink) -> None:
    """mmutf8fix only mends MSG; the producer dead-letters such a line as not_utf8."""
    server = rsyslog(sink.port)

    server.send_udp(b"<30>Oct  8 20:26:33 gw-test host\xe4pd: x")

    [received] = sink.wait_for(1)
    with pytest.raises(UnicodeDecodeError):
        received.decode("utf-8")
    assert b'"programname":"host", "syslogtag":"host\xe4pd:"' in received


def test_only_allowed_senders_reach_logweave_over_udp_and_tcp(
    rsyslog: StartRsyslog, sink: Sink
) -> None:
    server = rsyslog(sink.port, rsyslog_allowed_senders=["127.0.0.1", "127.0.1.0/24"])
    senders = {"127.0.0.1": True, "127.0.1.9": True, "127.0.0.2": False, "127.0.2.1": False}

    for source in senders:
        server.send_udp(b"<30>Oct  8 20:26:33 gw-test x: udp from " + source.encode(), source)
        server.send_tcp(b"<30>Oct  8 20:26:33 gw-test x: tcp from " + source.encode(), "lf", source)

    allowed = [s for s, ok in senders.items() if ok]
    sink.wait_for(2 * len(allowed))
    time.sleep(0.5)  # time for a wrongly passed line to arrive too
    received = sorted((e["msg"], e["fromhost-ip"]) for e in sink.events())
    assert received == sorted(
        (f" {proto} from {source}", source) for source in allowed for proto in ("udp", "tcp")
    )


def test_simulated_router_lines_keep_their_hostname_and_program(
    rsyslog: StartRsyslog, sink: Sink
) -> None:
    server = rsyslog(sink.port)
    target = f"127.0.0.1:{server.tcp_port}"

    simulate.main(["--seed", "3", "--start", "2024-10-08", "--count", "500", "--tcp", target])

    events = [json.loads(line) for line in sink.wait_for(500)]
    assert {e["hostname"] for e in events} == {"OpenWrt-1", "RT-AX86U-2", "gw-3"}
    programs = {e["programname"] for e in events}
    assert {"hostapd", "dnsmasq-dhcp", "dhcpd", "wlceventd"} <= programs
    assert all(e["msg"].startswith(" ") for e in events)
    assert len({normalise(e, received=None).id for e in events}) == 500


def test_lines_sent_while_the_producer_is_down_arrive_when_it_returns(
    rsyslog: StartRsyslog, sink: Sink
) -> None:
    server = rsyslog(sink.port)
    server.send_tcp(b"<30>Oct  8 20:26:33 gw-test x: before the outage")
    sink.wait_for(1)

    sink.stop()
    lines = [b"<30>Oct  8 20:26:33 gw-test x: queued %d" % n for n in range(200)]
    server.send_tcp(lines)
    time.sleep(1.5)  # rsyslog finds the producer gone and suspends the action
    sink.start()

    _assert_each_delivered(sink, {f" queued {n}" for n in range(200)})
    assert {e["msg"] for e in sink.events()} == {" before the outage"} | {
        f" queued {n}" for n in range(200)
    }


def test_queued_lines_survive_an_rsyslog_restart(rsyslog: StartRsyslog, sink: Sink) -> None:
    sink.stop()
    server = rsyslog(sink.port)
    server.send_tcp([b"<30>Oct  8 20:26:33 gw-test x: spooled %d" % n for n in range(200)])
    time.sleep(1.0)  # rsyslog reads the lines and suspends the action

    server.stop()
    assert [p.name for p in server.queue_files()] == [
        "logweave_forward.00000001",
        "logweave_forward.qi",
    ]
    server.start()
    sink.start()

    _assert_each_delivered(sink, {f" spooled {n}" for n in range(200)})
    assert len(sink.events()) <= 201  # the line in flight at shutdown may come twice
    server.stop()
    assert server.queue_files() == []


def test_a_restart_after_the_producer_dropped_the_connection_loses_at_most_one_line(
    rsyslog: StartRsyslog, sink: Sink
) -> None:
    """The line rsyslog was sending when the connection broke is dropped at shutdown, not saved
    (rsyslog 8.2302); the template's one-line batches keep that to a single line."""
    server = rsyslog(sink.port)
    server.send_tcp(b"<30>Oct  8 20:26:33 gw-test x: before the outage")
    sink.wait_for(1)
    sink.stop()
    server.send_tcp([b"<30>Oct  8 20:26:33 gw-test x: spooled %d" % n for n in range(200)])
    time.sleep(1.0)

    server.stop()
    server.start()
    sink.start()

    _assert_each_delivered(sink, {f" spooled {n}" for n in range(1, 200)})
    time.sleep(0.5)  # time for the lost line to arrive after all, which would be welcome
    lost = {f" spooled {n}" for n in range(200)} - {e["msg"] for e in sink.events()}
    assert lost <= {" spooled 0"}


def _assert_each_delivered(sink: Sink, expected: set[str]) -> None:
    """Every expected line arrives. After an outage rsyslog sends part of a batch again, with
    the same uuid, so the producer gives both copies the same event id."""
    deadline = time.monotonic() + WAIT_S
    events = sink.events()
    while not {e["msg"] for e in events} >= expected and time.monotonic() < deadline:
        time.sleep(0.05)
        events = sink.events()
    uuids_by_msg: dict[str, set[str]] = {}
    for event in events:
        uuids_by_msg.setdefault(event["msg"], set()).add(event["uuid"])
    assert set(uuids_by_msg) >= expected
    assert {msg: ids for msg, ids in uuids_by_msg.items() if len(ids) > 1} == {}
