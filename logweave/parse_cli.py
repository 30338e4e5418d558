"""``logweave parse FILE...``: how LogWeave reads a router's log, before trusting the dashboards.

Each file is one router's log, as the router sends it (with or without ``<PRI>``, RFC 3164 or
5424) or as its ``logread``, web page or export shows it. Every line is framed as the router
would have sent it, read the way rsyslog's header reading and the LogWeave template give it to
the pipeline, and then read exactly as the metrics consumer reads it (logweave.reader), the
router's earlier lines included. So what this prints is what parsed_events would hold.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from logweave.config import Settings
from logweave.contract import SEVERITY_NAMES, ContractError, Event, normalise
from logweave.correlate import Amendment
from logweave.parsers import line_from_event, parse
from logweave.parsers.base import Parsed
from logweave.reader import EventReader
from logweave.syslog_header import Header, frame_pasted_line, read_header
from logweave.timeinfo import host_zone

DEFAULT_ROUTER = "127.0.0.1"
_FIRST_YEAR, _LAST_YEAR = 1970, 9000


@dataclass
class LineReading:
    """One line of a file as the pipeline would store it."""

    number: int
    text: str
    parsed: Parsed
    severity: int
    program: str | None
    counted: bool
    device_time: datetime | None = None
    clock_skew: bool = False
    dup_of: int | None = None
    part_of: int | None = None
    dead_letter: str | None = None

    def to_json(self, file: str) -> dict[str, Any]:
        parsed = self.parsed
        out: dict[str, Any] = {
            "file": file,
            "line": self.number,
            "kind": parsed.kind.value,
            "mac": parsed.mac,
            "ip": parsed.ip,
            "hostname": parsed.hostname,
            "iface": parsed.iface,
            "ssid": parsed.ssid,
            "band": parsed.band,
            "severity": SEVERITY_NAMES[self.severity],
            "program": self.program,
            "parse_ok": parsed.parse_ok,
            "family": parsed.family,
            "counted": self.counted,
            "device_time": self.device_time.isoformat() if self.device_time else None,
            "clock_skew": self.clock_skew,
        }
        for name in ("dst", "proto", "dport"):
            if getattr(parsed, name) is not None:
                out[name] = getattr(parsed, name)
        if self.dup_of is not None:
            out["dup_of"] = self.dup_of
        if self.part_of is not None:
            out["part_of"] = self.part_of
        if self.dead_letter is not None:
            out["dead_letter"] = self.dead_letter
        return out


def read_log(
    raw_lines: Sequence[bytes], settings: Settings, received: datetime, router: str
) -> list[LineReading]:
    """Every line of one router's log, read in order as the pipeline reads them."""
    reader = EventReader(settings)
    # rsyslog writes a BSD time with its own zone's offset; the reader takes it back out there.
    received = received.astimezone(reader.receiver_zone)
    readings: dict[int, LineReading] = {}
    for number, raw in enumerate(raw_lines, start=1):
        header = read_header(frame_pasted_line(raw), received=received, fromhost=router)
        try:
            event = event_of(header, received, router)
        except ContractError as exc:
            # The producer would refuse it; read only its text, to show what it says.
            header = replace(header, dead_letter=exc.reason)
            event = normalise(
                {"msg": header.msg, "timegenerated": received.isoformat(), "fromhost-ip": router},
                received=None,
            )
        if header.dead_letter is not None:
            # The producer refuses the line; nothing after it sees it. Shown for what it says.
            parsed = parse(line_from_event(event))
            readings[number] = LineReading(
                number,
                header.msg,
                parsed,
                event.severity,
                parsed.program,
                counted=False,
                dead_letter=header.dead_letter,
            )
            continue
        read, amendments = reader.read(event, ref=str(number))
        reading = read.reading
        readings[number] = LineReading(
            number,
            header.msg,
            reading.parsed,
            event.severity,
            read.program,
            counted=reading.counted,
            device_time=read.time.at,
            clock_skew=read.time.clock_skew,
            dup_of=int(reading.dup_of) if reading.dup_of else None,
            part_of=int(reading.part_of) if reading.part_of else None,
        )
        for amendment in amendments:
            _amend(readings[int(amendment.ref)], amendment)
    return [readings[number] for number in sorted(readings)]


def event_of(header: Header, received: datetime, router: str) -> Event:
    """The event the producer would publish for this header, as rsyslog's template fills it."""
    data = {
        **header.event_fields(),
        "timereported": header.timereported or received.isoformat(),
        "timegenerated": received.isoformat(),
        "fromhost-ip": router,
    }
    return normalise(data, received=None)


def _amend(reading: LineReading, amendment: Amendment) -> None:
    reading.parsed = replace(
        reading.parsed,
        mac=amendment.mac or reading.parsed.mac,
        ip=amendment.ip or reading.parsed.ip,
        hostname=amendment.hostname or reading.parsed.hostname,
    )
    if amendment.part_of is not None:
        reading.part_of = int(amendment.part_of)


# --- output -------------------------------------------------------------------------------------


def print_lines(file: str, readings: list[LineReading], out: TextIO) -> None:
    print(file, file=out)
    for reading in readings:
        parsed = reading.parsed
        values = [
            f"{name}={value}"
            for name in ("mac", "ip", "hostname", "iface", "ssid", "band", "dst", "proto", "dport")
            if (value := getattr(parsed, name)) is not None
        ]
        if reading.program:
            values.append(f"program={reading.program}")
        notes = []
        if not parsed.parse_ok:
            notes.append("not understood")
        if reading.dup_of is not None:
            notes.append(f"repeats line {reading.dup_of}")
        if reading.part_of is not None:
            notes.append(f"part of line {reading.part_of}")
        if reading.clock_skew:
            notes.append("clock skew")
        if reading.dead_letter is not None:
            notes.append(f"dead letter: {reading.dead_letter}")
        note = f"  ({'; '.join(notes)})" if notes else ""
        print(f"{reading.number:>6}  {parsed.kind.value:<15} {' '.join(values)}{note}", file=out)


def print_summary(results: list[tuple[str, list[LineReading]]], out: TextIO) -> None:
    """Per file (one router's log each): the share of lines understood, and who read them."""
    width = max([len(file) for file, _ in results] + [4])
    print(f"{'file':<{width}}  lines  understood         events  read by", file=out)
    totals: Counter[str] = Counter()
    for file, readings in results:
        lines = [r for r in readings if r.dead_letter is None]
        understood = sum(r.parsed.parse_ok for r in lines)
        events = sum(r.counted for r in lines)
        families = Counter(r.parsed.family for r in lines)
        by = ", ".join(f"{family} {n}" for family, n in families.most_common())
        dead = len(readings) - len(lines)
        by += f", dead letters {dead}" if dead else ""
        print(
            f"{file:<{width}}  {len(readings):>5}  {understood:>5} {_share(understood, len(lines))}"
            f"  {events:>6}  {by}",
            file=out,
        )
        totals.update(lines=len(readings), read=len(lines), understood=understood, events=events)
    print(
        f"{'all':<{width}}  {totals['lines']:>5}  {totals['understood']:>5}"
        f" {_share(totals['understood'], totals['read'])}  {totals['events']:>6}",
        file=out,
    )


def _share(part: int, whole: int) -> str:
    return f"({100 * part / whole:5.1f}%)" if whole else "(  -  )"


# --- command ------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="a router's log; - for stdin")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON object per line")
    output.add_argument("--summary", action="store_true", help="share of lines understood per file")
    parser.add_argument(
        "--router",
        default=DEFAULT_ROUTER,
        metavar="ADDRESS",
        help="the router's sender address, for its [routers] settings (default %(default)s)",
    )
    parser.add_argument(
        "--received",
        type=_moment,
        metavar="TIME",
        help="when the lines arrived, ISO 8601 with offset (default now); "
        "years of RFC 3164 times are counted back from it",
    )


def run(args: argparse.Namespace, settings: Settings, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    received = args.received or datetime.now(host_zone())
    results = []
    unreadable = False
    for file, raw_lines in _files(args.files):
        if raw_lines is None:
            unreadable = True
            continue
        readings = read_log(raw_lines, settings, received, args.router)
        if args.json:
            for reading in readings:
                print(json.dumps(reading.to_json(file), ensure_ascii=False), file=out)
        elif not args.summary:
            print_lines(file, readings, out)
        results.append((file, readings))
    if args.summary:
        print_summary(results, out)
    return 2 if unreadable else 0


def _files(names: Sequence[str]) -> Iterator[tuple[str, list[bytes] | None]]:
    """Each file's lines; None (after saying why on stderr) for a file that cannot be read."""
    for name in names:
        try:
            data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        except OSError as exc:
            print(f"logweave parse: cannot read {name}: {exc.strerror or exc}", file=sys.stderr)
            yield name, None
            continue
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        yield name, lines


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset")
    # Times are moved between zones and years counted back from it: keep clear of year 1 and 9999.
    if not _FIRST_YEAR <= moment.year <= _LAST_YEAR:
        raise argparse.ArgumentTypeError(
            f"{text!r} is outside the years {_FIRST_YEAR}-{_LAST_YEAR}"
        )
    return moment
