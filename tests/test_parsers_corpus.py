"""Every line of tests/corpus/: framed as the router sends it, read as rsyslog reads it, parsed.

Each file is read as one router's log, the way ``logweave parse`` and the metrics consumer read
it (logweave.parse_cli.read_log): each line parsed, then set among the lines before it, so that
a multi-line record's opening line carries what its field lines say. The files in DONE must
match their expectations on every line: kind, MAC, IP and program, and the hostname,
interface, SSID, band and the header's severity where the expectation names them; and each
event must count once: a ``part_of`` line belongs to the line it names, and of lines that
report one event (``dup_of``) exactly one counts. The report test prints, for every file, the
share of lines whose kind, MAC and IP match and the share of the other fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from logweave.config import Settings
from logweave.contract import SEVERITY_NAMES
from logweave.parse_cli import LineReading, read_log
from logweave.parsers.base import Parsed

CORPUS = Path(__file__).parent / "corpus"
RECEIVED = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

DONE = (
    "asus-merlin",
    "dd-wrt",
    "edge-cases",
    "fritzbox",
    "isc-dhcp",
    "linksys",
    "mikrotik",
    "netgear",
    "openwrt",
    "pfsense",
    "rfc5424",
    "tplink",
    "unifi",
)

# Expectations we hold to be wrong: the value the parser is held to instead, and why. The
# corpus files stay as published.
DISPUTED: dict[tuple[str, int], tuple[dict[str, Any], str]] = {
    ("openwrt", 90): (
        {"mac": "02:00:00:09:00:01"},
        "hostapd's EAPOL-4WAY-HS-COMPLETED names the station whose handshake completed, a "
        "well-formed client MAC; the same station's MAC is expected on the neighbouring "
        "hostapd lines 84-89, 'other' ones included, and the README nulls a MAC only when it "
        "is absent, all-zero, a placeholder or malformed",
    ),
    ("edge-cases", 15): (
        {"hostname": "???????-5"},
        "the hostname is Windows-1251 bytes, which are not UTF-8; rsyslog's mmutf8fix (which the "
        "template runs before writing JSON) replaces each invalid byte with '?', so the decoded "
        "Cyrillic name never reaches LogWeave",
    ),
}

# Where the corpus marks an earlier line as the duplicate of a later one (hostapd's
# "associated" before its AP-STA-CONNECTED), LogWeave counts the first report and marks the
# later ones: it reads a router's lines as they arrive and cannot point at a line still to come.
# The event counts once either way; these are the first lines and the later ones marked instead.
FORWARD_DUPLICATES = {
    ("openwrt", 15): (16,),
    ("openwrt", 29): (30,),
    ("openwrt", 86): (87,),
    ("openwrt", 104): (105, 106),
    ("tplink", 22): (24,),
}

STRICT_FIELDS = ("kind", "mac", "ip")
# Held to the expectation too, where it names them (program always: null when no TAG names one).
FIELDS = ("hostname", "iface", "ssid", "band", "program")
REPORTED_FIELDS = ("hostname", "iface", "ssid", "band")


@dataclass(frozen=True)
class Case:
    file: str
    number: int
    raw: bytes
    expected: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.file}:{self.number}"


def load(file: str) -> list[Case]:
    lines = (CORPUS / f"{file}.log").read_bytes().split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    expectations = [
        json.loads(text)
        for text in (CORPUS / f"{file}.expect.jsonl").read_text().splitlines()
        if text.strip()
    ]
    assert len(lines) == len(expectations), f"{file}: lines and expectations differ in number"
    cases = []
    for number, (raw, expected) in enumerate(zip(lines, expectations, strict=True), start=1):
        assert expected["line"] == number
        override, _reason = DISPUTED.get((file, number), ({}, ""))
        cases.append(Case(file, number, raw, {**expected, **override}))
    return cases


def all_files() -> list[str]:
    return sorted(path.name.removesuffix(".log") for path in CORPUS.glob("*.log"))


_READINGS: dict[str, list[LineReading]] = {}


def readings(file: str) -> list[LineReading]:
    """The file read as one router's log (once per test run)."""
    if file not in _READINGS:
        raw = (CORPUS / f"{file}.log").read_bytes().split(b"\n")
        if raw[-1] == b"":
            raw.pop()
        _READINGS[file] = read_log(raw, Settings(), RECEIVED, "127.0.0.1")
    return _READINGS[file]


def reading_of(case: Case) -> LineReading:
    return readings(case.file)[case.number - 1]


def value(parsed: Parsed, field: str) -> Any:
    return parsed.kind.value if field == "kind" else getattr(parsed, field)


def mismatches(case: Case, reading: LineReading) -> list[str]:
    parsed = reading.parsed
    wrong = [
        f"{field}: got {value(parsed, field)!r}, expected {case.expected[field]!r}"
        for field in STRICT_FIELDS
        if value(parsed, field) != case.expected[field]
    ]
    for field in FIELDS:
        got = reading.program if field == "program" else getattr(parsed, field)
        if field in case.expected and got != case.expected[field]:
            wrong.append(f"{field}: got {got!r}, expected {case.expected[field]!r}")
    severity = case.expected.get("severity")
    if severity is not None and SEVERITY_NAMES[reading.severity] != severity:
        wrong.append(f"severity: got {SEVERITY_NAMES[reading.severity]!r}, expected {severity!r}")
    return wrong


def counting_mismatches(case: Case, reading: LineReading) -> list[str]:
    """Whether the line counts as an event when, and only when, the corpus says it is one."""
    expected = case.expected
    if "part_of" in expected:
        if reading.counted or reading.part_of != expected["part_of"]:
            return [f"part_of: got {reading.part_of!r}, expected {expected['part_of']!r}"]
        return []
    group = dup_group(case.file, case.number)
    if len(group) > 1:
        counted = [n for n in sorted(group) if readings(case.file)[n - 1].counted]
        if len(counted) != 1:
            return [f"lines {sorted(group)} report one event; counted: {counted}"]
        return []
    if not reading.counted:
        return [f"not counted (dup_of {reading.dup_of}, part_of {reading.part_of})"]
    return []


def dup_group(file: str, number: int) -> set[int]:
    """The lines that report the same event as ``number``, by the corpus's dup_of marks."""
    links = {(c.number, c.expected["dup_of"]) for c in load(file) if "dup_of" in c.expected}
    group = {number}
    while True:
        grown = group | {b for a, b in links if a in group} | {a for a, b in links if b in group}
        if grown == group:
            return group
        group = grown


DONE_CASES = [case for file in DONE for case in load(file)]


@pytest.mark.parametrize("case", DONE_CASES, ids=[case.id for case in DONE_CASES])
def test_done_family_line_reads_as_expected(case: Case) -> None:
    reading = reading_of(case)
    wrong = mismatches(case, reading) + counting_mismatches(case, reading)
    assert not wrong, f"{case.id} {case.raw!r}: " + "; ".join(wrong)


def test_a_line_marked_before_the_report_it_repeats_is_counted_and_the_later_one_is_not() -> None:
    for (file, number), later in FORWARD_DUPLICATES.items():
        assert readings(file)[number - 1].counted, f"{file}:{number}"
        marks = [(readings(file)[n - 1].counted, readings(file)[n - 1].dup_of) for n in later]
        assert marks == [(False, number)] * len(later), f"{file}:{later}"


def test_every_corpus_file_is_either_done_or_reported() -> None:
    assert set(DONE) <= set(all_files())


def test_report_match_share_per_file(capsys: pytest.CaptureFixture[str]) -> None:
    rows = []
    for file in all_files():
        cases = load(file)
        strict = reported = reported_total = 0
        for case in cases:
            reading = reading_of(case)
            strict += not mismatches(case, reading)
            for field in REPORTED_FIELDS:
                if field in case.expected:
                    reported_total += 1
                    reported += value(reading.parsed, field) == case.expected[field]
        done = "done" if file in DONE else "    "
        rows.append(
            f"{file:<12} {done} kind+mac+ip(+severity) {strict:>3}/{len(cases):<3}"
            f" ({100 * strict / len(cases):5.1f}%)   hostname/iface/ssid/band"
            f" {reported:>3}/{reported_total:<3}"
        )
    with capsys.disabled():
        print("\ncorpus match share per file:")
        for row in rows:
            print("  " + row)
        for (file, number), (override, reason) in sorted(DISPUTED.items()):
            print(f"  disputed {file}:{number} {override}: {reason}")
        for (file, number), later in sorted(FORWARD_DUPLICATES.items()):
            print(f"  counted first {file}:{number}, marked as its duplicates: lines {later}")
