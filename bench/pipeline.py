"""Benchmark: events per second through producer -> Kafka -> both consumers -> PostgreSQL.

Starts a local stack (throwaway PostgreSQL, a Kafka broker from var/kafka, the three services),
sends simulated router traffic as rsyslog's JSON lines over TCP to the producer, and prints the
end-to-end rate for each consumer and the peak resident memory of each Python process. Figures,
not assertions: run it with `make bench` and compare runs on the same machine.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from logweave.simulate import generate
from logweave.syslog_header import read_header
from tests.harness.stack import LocalStack


def json_lines(count: int, seed: int) -> list[bytes]:
    """Simulated syslog lines turned into the JSON the rsyslog template would send."""
    lines = []
    routers = ["192.168.101.1", "192.168.102.1", "192.168.103.1"]
    for n, (moment, raw) in enumerate(generate(routers=3, clients=36, span=30 * 86400, seed=seed)):
        if n >= count:
            break
        received = datetime.fromtimestamp(moment, UTC)
        header = read_header(raw, received=received)
        event = {k: v for k, v in header.event_fields().items() if v is not None}
        event["timegenerated"] = received.isoformat()
        event["fromhost-ip"] = routers[n % 3]
        event["uuid"] = uuid.uuid4().hex.upper()  # as rsyslog's $uuid
        lines.append(json.dumps(event).encode() + b"\n")
    return lines


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    print(f"generating {args.events} events ...", flush=True)
    lines = json_lines(args.events, args.seed)
    count = len(lines)
    with LocalStack() as stack:
        stack.start_services()
        print(f"stack up in {stack.root}; sending {count} events", flush=True)
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", stack.port)) as sock:
            for i in range(0, count, 1000):
                sock.sendall(b"".join(lines[i : i + 1000]))
        sent = time.monotonic() - started
        stack.wait_for_rows("raw_logs", count, timeout=1800)
        raw = time.monotonic() - started
        stack.wait_for_rows("parsed_events", count, timeout=1800)
        metrics = time.monotonic() - started
        rss = {name: peak_rss_mib(s.proc.pid) for name, s in stack.services.items() if s.proc}
        dead = stack.query("SELECT count(*) FROM dead_letters")[0][0]
        duplicates = count - stack.query("SELECT count(DISTINCT event_id) FROM raw_logs")[0][0]

    print(f"events:                  {count}")
    print(f"accepted by producer:    {count / sent:,.0f} events/s ({sent:.1f} s)")
    print(f"all in raw_logs:         {count / raw:,.0f} events/s end to end ({raw:.1f} s)")
    print(f"all in metrics tables:   {count / metrics:,.0f} events/s end to end ({metrics:.1f} s)")
    print(f"dead letters: {dead}, duplicate ids: {duplicates}")
    for name, mib in rss.items():
        print(f"peak RSS {name:<9} {mib:6.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
