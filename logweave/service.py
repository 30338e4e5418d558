"""What every LogWeave service shares: systemd notification, signals, backoff and logging."""

from __future__ import annotations

import logging
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType

from sdnotify import SystemdNotifier

log = logging.getLogger("logweave.service")


def setup_logging(level: str) -> None:
    """Plain lines on stderr. journald stamps each line, so only add a time outside it."""
    under_journald = "JOURNAL_STREAM" in os.environ
    fmt = "%(levelname)s %(name)s: %(message)s"
    if not under_journald:
        fmt = "%(asctime)s " + fmt
    logging.basicConfig(level=level.upper(), format=fmt, stream=sys.stderr, force=True)
    logging.getLogger("kafka").setLevel(max(logging.WARNING, logging.getLogger().level))


class Notifier:
    """sd_notify messages to systemd; without NOTIFY_SOCKET every call does nothing.

    The watchdog is fed only through ``beat``: the main loop calls it each time it has made
    progress, so a loop stuck in a Kafka or database call stops feeding it and systemd restarts
    the service.
    """

    def __init__(self) -> None:
        self._enabled = bool(os.environ.get("NOTIFY_SOCKET"))
        self._notifier = SystemdNotifier() if self._enabled else None
        self.watchdog_interval = _watchdog_interval()
        self._last_beat = 0.0

    def _send(self, message: str) -> None:
        if self._notifier is not None:
            self._notifier.notify(message)

    def ready(self, status: str) -> None:
        self._send(f"READY=1\nSTATUS={status}")
        self._last_beat = 0.0
        self.beat()

    def status(self, status: str) -> None:
        self._send(f"STATUS={status}")

    def beat(self) -> None:
        if self.watchdog_interval is None:
            return
        now = time.monotonic()
        if now - self._last_beat >= self.watchdog_interval / 2:
            self._send("WATCHDOG=1")
            self._last_beat = now

    def stopping(self, status: str) -> None:
        self._send(f"STOPPING=1\nSTATUS={status}")

    def close(self) -> None:
        if self._notifier is not None:
            self._notifier.socket.close()
            self._notifier = None


def _watchdog_interval() -> float | None:
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or not usec.isdigit() or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 1_000_000


class Stop:
    """Set by the first SIGTERM or SIGINT; a second one exits at once."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.event.is_set():
            log.warning("forced_exit signal=%s", signal.Signals(signum).name)
            os._exit(1)
        log.info("stop_requested signal=%s", signal.Signals(signum).name)
        self.event.set()

    def __bool__(self) -> bool:
        return self.event.is_set()


class Backoff:
    """Capped exponential backoff with jitter, reset after a success.

    Each wait is half the capped exponential step plus a random part of the other half, so
    services restarted together do not retry in step, and no wait collapses to nothing.
    """

    def __init__(self, initial: float, cap: float, rng: random.Random | None = None) -> None:
        self.initial = initial
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()  # noqa: S311 -- jitter, not secrecy

    def next_delay(self) -> float:
        # The exponent stops growing once the cap is reached: 2.0**1024 would overflow a float,
        # and a long outage (or many failed sends at once) gets that far.
        step = min(self.cap, self.initial * (2.0 ** min(self.attempt, 64)))
        self.attempt += 1
        return float(step / 2 + self._rng.uniform(0, step / 2))

    def reset(self) -> None:
        self.attempt = 0


class RateLimitedLog:
    """At most ``per_minute`` lines per reason, then one line saying how many were held back."""

    def __init__(self, logger: logging.Logger, per_minute: int) -> None:
        self._logger = logger
        self._per_minute = per_minute
        self._windows: dict[str, tuple[float, int, int]] = {}

    def warning(self, reason: str, msg: str, *args: object) -> None:
        now = time.monotonic()
        start, logged, held = self._windows.get(reason, (now, 0, 0))
        if now - start >= 60:
            if held:
                self._logger.warning("rejects_suppressed reason=%s count=%d", reason, held)
            start, logged, held = now, 0, 0
        if logged < self._per_minute:
            self._logger.warning(msg, *args)
            logged += 1
        else:
            held += 1
        self._windows[reason] = (start, logged, held)


def wait_with(stop: Stop, delay: float, beat: Callable[[], None], step: float = 0.5) -> bool:
    """Sleep ``delay`` seconds in small steps, feeding the watchdog; False if asked to stop."""
    deadline = time.monotonic() + delay
    while (left := deadline - time.monotonic()) > 0:
        if stop.event.wait(min(step, left)):
            return False
        beat()
    return True
