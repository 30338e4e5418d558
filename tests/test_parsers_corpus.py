"""Every line of tests/corpus/: framed as the router sends it, read as rsyslog reads it, parsed.

The files in DONE must match their expectations on every line: kind, MAC and IP, and the
header's severity where the expectation names one. The report test prints, for every file,
the share of lines whose kind, MAC and IP match and the share of the other fields, so the files
not yet done show how far they are without failing. Lines with ``dup_of`` or ``part_of`` are
read on their own like any other; counting an event once is the aggregation's job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from logweave.contract import SEVERITY_NAMES, Event
from logweave.parsers import line_from_event, parse
from logweave.parsers.base import Parsed
from logweave.syslog_header import Header, frame_pasted_line, read_header

CORPUS = Path(__file__).parent / "corpus"
RECEIVED = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

DONE = (
    "asus-merlin",
    "dd-wrt",
    "edge-cases",
    "fritzbox",
    "isc-dhcp",
    "linksys",
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
}

STRICT_FIELDS = ("kind", "mac", "ip")
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


def read(raw: bytes) -> tuple[Header, Parsed]:
    header = read_header(frame_pasted_line(raw), received=RECEIVED, fromhost="127.0.0.1")
    event = Event(
        id="",
        timereported=RECEIVED,
        timegenerated=RECEIVED,
        hostname=header.hostname,
        fromhost_ip="127.0.0.1",
        programname=header.programname,
        syslogtag=header.syslogtag,
        severity=header.severity,
        facility=header.facility,
        msg=header.msg,
        extra={},
    )
    return header, parse(line_from_event(event))


def value(parsed: Parsed, field: str) -> Any:
    return parsed.kind.value if field == "kind" else getattr(parsed, field)


def mismatches(case: Case, header: Header, parsed: Parsed) -> list[str]:
    wrong = [
        f"{field}: got {value(parsed, field)!r}, expected {case.expected[field]!r}"
        for field in STRICT_FIELDS
        if value(parsed, field) != case.expected[field]
    ]
    severity = case.expected.get("severity")
    if severity is not None and SEVERITY_NAMES[header.severity] != severity:
        wrong.append(f"severity: got {SEVERITY_NAMES[header.severity]!r}, expected {severity!r}")
    return wrong


DONE_CASES = [case for file in DONE for case in load(file)]


@pytest.mark.parametrize("case", DONE_CASES, ids=[case.id for case in DONE_CASES])
def test_done_family_line_reads_as_expected(case: Case) -> None:
    header, parsed = read(case.raw)
    wrong = mismatches(case, header, parsed)
    assert not wrong, f"{case.id} {case.raw!r}: " + "; ".join(wrong)


def test_every_corpus_file_is_either_done_or_reported() -> None:
    assert set(DONE) <= set(all_files())


def test_report_match_share_per_file(capsys: pytest.CaptureFixture[str]) -> None:
    rows = []
    for file in all_files():
        cases = load(file)
        strict = reported = reported_total = 0
        for case in cases:
            header, parsed = read(case.raw)
            strict += not mismatches(case, header, parsed)
            for field in REPORTED_FIELDS:
                if field in case.expected:
                    reported_total += 1
                    reported += value(parsed, field) == case.expected[field]
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
