"""pytest plugin: a real rsyslogd running LogWeave's rsyslog template on free 127.0.0.1 ports.

The ``rsyslog`` fixture is a factory. Each call renders roles/rsyslog/templates/logweave.conf.j2
(role defaults, then test values), wraps it in a minimal main config and starts
``rsyslogd -n`` on it. Everything the daemon writes stays under the test's tmp dir: no /dev/log
(imuxsock and imklog are not loaded), no /var/spool/rsyslog, a pid file of its own, and no DNS
lookups, so the only traffic is on 127.0.0.1. rsyslogd's stderr and its own log lines are printed
at teardown, which pytest shows only when the test failed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

ROLE = Path(__file__).resolve().parents[2] / "roles" / "rsyslog"
TEMPLATE = "logweave.conf.j2"
RSYSLOGD = shutil.which("rsyslogd", path="/usr/sbin:/usr/bin:/sbin") or "/usr/sbin/rsyslogd"

START_TIMEOUT_S = 10.0
# rsyslogd waits up to about a second for a suspended action before it saves its queue to disk.
STOP_TIMEOUT_S = 15.0

_MAIN_CONFIG = """\
# rsyslogd for one test: nothing outside {root}, no local log sockets, no name lookups.
global(workDirectory="{work}" net.enableDNS="off" processInternalMessages="on")

# rsyslog's own messages (errors, suspended actions), printed when a test fails.
*.* action(type="omfile" file="{internal_log}")

include(file="{logweave_conf}")
"""


def role_defaults() -> dict[str, Any]:
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert isinstance(defaults, dict)
    return defaults


def render_template(**values: Any) -> str:
    """The template as the role renders it (Ansible trims block lines), with test values."""
    defaults = role_defaults()
    unknown = sorted(set(values) - set(defaults))
    if unknown:
        raise KeyError(f"not variables of the rsyslog role: {', '.join(unknown)}")
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ROLE / "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - rsyslog configuration, not HTML
    )
    return environment.get_template(TEMPLATE).render({**defaults, **values})


def check_config(path: Path) -> subprocess.CompletedProcess[str]:
    """``rsyslogd -N1``: the daemon's own validation of a config file."""
    return subprocess.run(
        [RSYSLOGD, "-N1", "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


class Rsyslog:
    """One rsyslogd with the LogWeave template; UDP and TCP share one port, as in production."""

    def __init__(self, root: Path, forward_port: int, **values: Any) -> None:
        self.root = root
        self.work_dir = root / "work"
        self.work_dir.mkdir()
        self.udp_port = self.tcp_port = _free_port()
        self.forward_port = forward_port
        self.config_path = root / "logweave.conf"
        self.config_path.write_text(
            render_template(
                rsyslog_listen_address="127.0.0.1",
                rsyslog_syslog_port=self.udp_port,
                rsyslog_forward_host="127.0.0.1",
                rsyslog_forward_port=forward_port,
                rsyslog_work_directory=str(self.work_dir),
                **values,
            )
        )
        self.internal_log = root / "rsyslogd-internal.log"
        self.main_config = root / "rsyslog.conf"
        self.main_config.write_text(
            _MAIN_CONFIG.format(
                root=root,
                work=self.work_dir,
                internal_log=self.internal_log,
                logweave_conf=self.config_path,
            )
        )
        self.pid_file = root / "rsyslogd.pid"
        self.stderr_path = root / "rsyslogd.stderr"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("rsyslogd is already running")
        env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
        env["TZ"] = "UTC"  # RFC 3164 times carry no zone; rsyslog reads them as local time
        with self.stderr_path.open("ab") as stderr:
            self._process = subprocess.Popen(
                [RSYSLOGD, "-n", "-f", str(self.main_config), "-i", str(self.pid_file)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                env=env,
            )
        self._wait_until_listening()

    def stop(self) -> None:
        """SIGTERM and wait, bounded; rsyslogd saves its queue to disk on the way out."""
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
            raise RuntimeError(
                f"rsyslogd ignored SIGTERM for {STOP_TIMEOUT_S}s\n{self.report()}"
            ) from None

    def send_udp(self, message: bytes, source: str = "127.0.0.1") -> None:
        """One datagram; ``source`` is another loopback address to act as a different sender."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((source, 0))
            sock.sendto(message, ("127.0.0.1", self.udp_port))

    def send_tcp(
        self,
        messages: bytes | Sequence[bytes],
        framing: str = "lf",
        source: str = "127.0.0.1",
    ) -> None:
        """One connection carrying the messages, newline-terminated or octet-counted."""
        if isinstance(messages, bytes):
            messages = [messages]
        if framing == "lf":
            stream = b"".join(m if m.endswith(b"\n") else m + b"\n" for m in messages)
        elif framing == "octet":
            stream = b"".join(b"%d %s" % (len(m), m) for m in messages)
        else:
            raise ValueError(f"framing must be 'lf' or 'octet', got {framing!r}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((source, 0))
            sock.settimeout(5)
            sock.connect(("127.0.0.1", self.tcp_port))
            sock.sendall(stream)

    def queue_files(self) -> list[Path]:
        return sorted(self.work_dir.glob("logweave_forward*"))

    def report(self) -> str:
        parts = [f"rsyslogd config: {self.config_path}"]
        for title, path in (("stderr", self.stderr_path), ("internal log", self.internal_log)):
            text = path.read_text(errors="replace") if path.exists() else "(none)"
            parts.append(f"--- rsyslogd {title} ---\n{text.rstrip()}")
        return "\n".join(parts)

    def _wait_until_listening(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise RuntimeError(f"rsyslogd exited with {code} at start\n{self.report()}")
            if _udp_bound(self.udp_port) and _tcp_accepts(self.tcp_port):
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"rsyslogd not listening after {START_TIMEOUT_S}s\n{self.report()}")


@pytest.fixture
def rsyslog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Rsyslog]]:
    """``rsyslog(forward_port, **role_variables)`` starts an rsyslogd and returns it."""
    started: list[Rsyslog] = []

    def start(forward_port: int, **values: Any) -> Rsyslog:
        instance = Rsyslog(tmp_path_factory.mktemp("rsyslog"), forward_port, **values)
        started.append(instance)
        instance.start()
        return instance

    yield start
    failures = []
    for instance in started:
        try:
            instance.stop()
        except RuntimeError as exc:
            failures.append(str(exc))
        print(instance.report())
    if failures:
        pytest.fail("\n".join(failures))


def _free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (the template uses one for both)."""
    for _ in range(100):
        with (
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
        ):
            tcp.bind(("127.0.0.1", 0))
            port: int = tcp.getsockname()[1]
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no port free for both UDP and TCP on 127.0.0.1")


def _tcp_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _udp_bound(port: int) -> bool:
    """Whether some socket holds the UDP port. Probing by binding could steal it from rsyslogd."""
    suffix = f":{port:04X}"
    with open("/proc/net/udp") as table:
        next(table)
        return any(line.split()[1].endswith(suffix) for line in table)
