"""Client devices by MAC: the vendor from Debian's IEEE OUI list, read where it is installed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from logweave.identity import OUI_FILES, Vendors

CSV = """Registry,Assignment,Organization Name,Organization Address
MA-L,002272,American Micro-Fuel Device Corp.,2181 Buchanan Loop Ferndale WA US 98248
MA-L,F4F5D8,"Google, Inc.",1600 Amphitheatre Parkway Mountain View CA US 94043
MA-M,F4F5D81,Someone Else,Nowhere
"""
TXT = """OUI/MA-L                                                    Organization
company_id                                                  Organization

00-22-72   (hex)\t\tAmerican Micro-Fuel Device Corp.
002272     (base 16)\t\tAmerican Micro-Fuel Device Corp.
\t\t\t\t2181 Buchanan Loop
"""


def test_vendor_comes_from_the_first_three_octets_of_the_csv_list(tmp_path: Path) -> None:
    path = tmp_path / "oui.csv"
    path.write_text(CSV)
    vendors = Vendors.load([path])
    assert vendors.of("00:22:72:aa:bb:cc") == "American Micro-Fuel Device Corp."
    assert vendors.of("f4:f5:d8:00:00:01") == "Google, Inc."
    assert len(vendors) == 2  # MA-M blocks are not three-octet prefixes


def test_txt_list_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "oui.txt"
    path.write_text(TXT)
    assert Vendors.load([path]).of("00:22:72:00:00:01") == "American Micro-Fuel Device Corp."


def test_randomised_mac_has_no_vendor(tmp_path: Path) -> None:
    path = tmp_path / "oui.csv"
    path.write_text(CSV.replace("002272", "022272"))
    assert Vendors.load([path]).of("02:22:72:00:00:01") is None


def test_missing_list_leaves_vendors_unknown_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="logweave.identity"):
        vendors = Vendors.load([tmp_path / "oui.csv", tmp_path / "oui.txt"])
        assert vendors.of("00:22:72:00:00:01") is None
        assert vendors.of("00:22:72:00:00:02") is None
    assert [r.getMessage().split(" ", 1)[0] for r in caplog.records] == ["oui_list_missing"]


def test_debians_installed_list_names_a_well_known_vendor() -> None:
    assert OUI_FILES[0].exists(), (
        "Debian's ieee-data is missing: scripts/install-deps.sh installs it"
    )
    # 00:00:0C is Cisco's first block, in every edition of the list since the 1980s.
    assert "cisco" in (Vendors.load().of("00:00:0c:12:34:56") or "").lower()
