"""The LogWeave pipeline on this machine as plain processes, fed real router lines.

Starts a throwaway PostgreSQL, a Kafka broker (var/kafka), the three LogWeave services and an
rsyslogd with the project's template, all on 127.0.0.1; sends every line of tests/corpus/ as its
router would, then simulated traffic from `logweave simulate`, through rsyslog's syslog port;
waits until both consumers have everything and prints `logweave status`. Everything stops and is
removed at the end (`--keep` leaves it running until Ctrl-C).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from logweave.simulate import generate  # noqa: E402
from logweave.syslog_header import frame_pasted_line  # noqa: E402
from tests.harness.rsyslog import Rsyslog  # noqa: E402
from tests.harness.stack import LocalStack  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulated", type=int, default=2000, help="simulated lines to send")
    parser.add_argument("--keep", action="store_true", help="keep running until Ctrl-C")
    args = parser.parse_args()

    with LocalStack() as stack:
        print("starting PostgreSQL, Kafka and the LogWeave services ...", flush=True)
        stack.start_services()
        rsyslog = Rsyslog(Path(tempfile.mkdtemp(dir=stack.root)), stack.port)
        rsyslog.start()
        try:
            corpus = [
                frame_pasted_line(line)
                for log in sorted((REPO / "tests" / "corpus").glob("*.log"))
                for line in log.read_bytes().splitlines()
            ]
            rsyslog.send_tcp(corpus)
            print(f"sent {len(corpus)} real router lines from tests/corpus/", flush=True)
            simulated = [line for _, line in generate(span=86400, seed=7)][: args.simulated]
            rsyslog.send_tcp(simulated)
            print(
                f"sent {len(simulated)} simulated lines through rsyslog on "
                f"127.0.0.1:{rsyslog.tcp_port}",
                flush=True,
            )
            _wait_until_settled(stack)
            status = subprocess.run(
                [sys.executable, "-m", "logweave.cli", "status",
                 "--kafka-bootstrap", stack.kafka.bootstrap, "--postgres-dsn", stack.admin_dsn],
                check=False, env={"LOGWEAVE_CONFIG": "/dev/null", "PATH": "/usr/bin:/bin"},
            )  # fmt: skip
            if args.keep:
                print(f"running; send syslog to udp/tcp 127.0.0.1:{rsyslog.tcp_port}; Ctrl-C stops")
                while True:
                    time.sleep(3600)
            return status.returncode
        except KeyboardInterrupt:
            return 0
        finally:
            rsyslog.stop()


def _wait_until_settled(stack: LocalStack, quiet_s: float = 3.0, bound_s: float = 120.0) -> None:
    """Until the row counts stop changing for ``quiet_s`` seconds."""
    last, since, deadline = None, time.monotonic(), time.monotonic() + bound_s
    while time.monotonic() < deadline:
        now = stack.query(
            "SELECT (SELECT count(*) FROM raw_logs), (SELECT count(*) FROM parsed_events)"
        )[0]
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s and now[0] == now[1]:
            return
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
