"""sd_notify over a real datagram socket, the backoff and the rate-limited reject log."""

import logging
import os
import random
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from logweave.service import Backoff, Notifier, RateLimitedLog


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(1)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    yield sock
    sock.close()


def received(sock: socket.socket) -> list[str]:
    messages = []
    sock.setblocking(False)
    try:
        while True:
            messages.append(sock.recv(4096).decode())
    except BlockingIOError:
        return messages


def test_ready_status_and_watchdog_reach_systemd(notify_socket: socket.socket) -> None:
    notifier = Notifier()
    assert notifier.watchdog_interval == 2.0
    notifier.ready("received=0")
    notifier.beat()  # too soon after the first ping: nothing sent
    notifier.status("received=5")
    notifier.stopping("draining")
    notifier.close()
    assert received(notify_socket) == [
        "READY=1\nSTATUS=received=0",
        "WATCHDOG=1",
        "STATUS=received=5",
        "STOPPING=1\nSTATUS=draining",
    ]


def test_watchdog_is_off_for_another_pid(
    notify_socket: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHDOG_PID", "1")
    notifier = Notifier()
    notifier.beat()
    notifier.close()
    assert notifier.watchdog_interval is None
    assert received(notify_socket) == []


def test_outside_systemd_notifications_do_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    notifier = Notifier()
    notifier.ready("x")
    notifier.beat()


def test_backoff_doubles_up_to_the_cap_with_jitter_and_resets() -> None:
    backoff = Backoff(1.0, 8.0, random.Random(7))
    delays = [backoff.next_delay() for _ in range(6)]
    steps = [1, 2, 4, 8, 8, 8]
    assert all(step / 2 <= d <= step for d, step in zip(delays, steps, strict=True))
    assert len(set(delays)) == 6
    backoff.reset()
    assert 0.5 <= backoff.next_delay() <= 1.0


def test_reject_log_is_bounded_per_reason(caplog: pytest.LogCaptureFixture) -> None:
    limited = RateLimitedLog(logging.getLogger("test.rejects"), per_minute=3)
    with caplog.at_level(logging.WARNING):
        for i in range(10):
            limited.warning("not_json", "input_rejected reason=not_json n=%d", i)
        limited.warning("too_long", "input_rejected reason=too_long")
    assert [r.getMessage() for r in caplog.records] == [
        "input_rejected reason=not_json n=0",
        "input_rejected reason=not_json n=1",
        "input_rejected reason=not_json n=2",
        "input_rejected reason=too_long",
    ]


def test_backoff_stays_at_its_cap_after_thousands_of_failures() -> None:
    backoff = Backoff(0.5, 30.0, random.Random(7))
    delays = [backoff.next_delay() for _ in range(3000)]
    assert min(delays[-100:]) >= 15.0
    assert max(delays) <= 30.0
