"""Run the three LogWeave services as real processes, listening to their sd_notify messages."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


class Service:
    """One LogWeave program in its own process, with a notify socket the test reads."""

    def __init__(self, module: str, args: list[str], workdir: Path, env: dict[str, str]) -> None:
        self.module = module
        self.args = args
        self.workdir = workdir
        self.env = env
        self.messages: list[tuple[float, str]] = []
        self.proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._reader: threading.Thread | None = None
        self.log_path = workdir / f"{module.rsplit('.', 1)[-1]}.log"

    def start(self, watchdog_s: float | None = None) -> Service:
        self.messages = []
        notify_path = self.workdir / f"notify-{self.module.rsplit('.', 1)[-1]}"
        notify_path.unlink(missing_ok=True)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(notify_path))
        self._sock.settimeout(0.2)
        self._reader = threading.Thread(target=self._read, args=(self._sock,), daemon=True)
        self._reader.start()
        env = {**os.environ, **self.env, "NOTIFY_SOCKET": str(notify_path)}
        env.pop("WATCHDOG_USEC", None)
        if watchdog_s is not None:
            env["WATCHDOG_USEC"] = str(int(watchdog_s * 1_000_000))
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", self.module, *self.args],
                stdout=log,
                stderr=log,
                env=env,
                cwd=self.workdir,
            )
        return self

    def _read(self, sock: socket.socket) -> None:
        while True:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            self.messages.append((time.monotonic(), data.decode()))

    def wait_for(self, text: str, timeout: float = 60.0) -> None:
        """Wait until a notify message containing ``text`` arrives, or fail with the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in m for _, m in self.messages):
                return
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.05)
        pytest.fail(f"{self.module} sent no {text!r} in {timeout}s; log:\n{self.log_tail()}")

    def wait_ready(self, timeout: float = 90.0) -> Service:
        self.wait_for("READY=1", timeout)
        return self

    def last_status(self) -> str:
        statuses = [m for _, m in self.messages if "STATUS=" in m]
        return statuses[-1].split("STATUS=", 1)[1] if statuses else ""

    def watchdog_times(self) -> list[float]:
        return [t for t, m in self.messages if "WATCHDOG=1" in m]

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; the exit code, or fail if it does not stop within ``timeout``."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            pytest.fail(f"{self.module} ignored SIGTERM for {timeout}s:\n{self.log_tail()}")
        self._close_socket()
        return code

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._close_socket()

    def _close_socket(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._reader is not None:
            self._reader.join(2)

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """Factory: ``services("logweave.producer", [flags], env={...})`` -> an unstarted Service."""
    started: list[Service] = []

    def make(module: str, args: list[str], env: dict[str, str] | None = None) -> Service:
        service = Service(module, args, tmp_path, {"LOGWEAVE_CONFIG": "/dev/null", **(env or {})})
        started.append(service)
        return service

    yield make
    for service in started:
        service.kill()
