"""Who is who: a router by the address it sends from, a client device by its MAC and vendor.

A router's HOSTNAME header is whatever its firmware writes (``OpenWrt``, ``unknown``, nothing at
all), and two routers may write the same one, so LogWeave keys a router by its sender address
and takes its name from the ``[routers]`` settings. A client device is its MAC; its vendor comes
from the IEEE's list of OUIs as Debian's ``ieee-data`` package installs it, read at run time.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger("logweave.identity")

OUI_FILES = (Path("/usr/share/ieee-data/oui.csv"), Path("/usr/share/ieee-data/oui.txt"))

# "00-22-72   (hex)		American Micro-Fuel Device Corp." in oui.txt
_OUI_TXT_LINE = re.compile(
    r"\s*([0-9A-Fa-f]{2})-([0-9A-Fa-f]{2})-([0-9A-Fa-f]{2})\s+\(hex\)\s+(.*)"
)


class Vendors:
    """MAC prefix (the first three octets) to the organisation the IEEE assigned it to."""

    def __init__(self, by_prefix: dict[str, str]) -> None:
        self._by_prefix = by_prefix

    def __len__(self) -> int:
        return len(self._by_prefix)

    def of(self, mac: str | None) -> str | None:
        """The vendor of a colon-separated lower-case MAC, None when unknown.

        A randomised MAC (locally administered, as phones use per network) has no vendor, even
        where its first octets happen to match an old assignment.
        """
        if not mac or len(mac) < 8:
            return None
        if int(mac[:2], 16) & 0x02:
            return None
        return self._by_prefix.get(mac[:8])

    @classmethod
    def load(cls, paths: Iterable[Path] = OUI_FILES) -> Vendors:
        """The first list that exists and reads; an empty one (vendor unknown) when none does.

        A missing list is logged once, here, and not for every device.
        """
        tried = []
        for path in paths:
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                tried.append(f"{path} ({exc.strerror or exc})")
                continue
            by_prefix = _read_csv(text) if path.suffix == ".csv" else _read_txt(text)
            if by_prefix:
                log.info("oui_list_loaded path=%s prefixes=%d", path, len(by_prefix))
                return cls(by_prefix)
            tried.append(f"{path} (no entries)")
        log.warning(
            "oui_list_missing tried=%s: device vendors stay unknown; install Debian's ieee-data",
            "; ".join(tried) or "-",
        )
        return cls({})


def _read_csv(text: str) -> dict[str, str]:
    """oui.csv: ``Registry,Assignment,Organization Name,Organization Address``."""
    by_prefix = {}
    for row in csv.reader(text.splitlines()):
        if len(row) >= 3 and len(row[1]) == 6 and row[0] == "MA-L":
            assignment = row[1].lower()
            prefix = ":".join(assignment[i : i + 2] for i in (0, 2, 4))
            by_prefix[prefix] = row[2].strip()
    return by_prefix


def _read_txt(text: str) -> dict[str, str]:
    by_prefix = {}
    for line in text.splitlines():
        found = _OUI_TXT_LINE.match(line)
        if found is not None:
            prefix = ":".join(part.lower() for part in found.groups()[:3])
            by_prefix[prefix] = found.group(4).strip()
    return by_prefix
