"""A line's device time: RFC 3164 times in the router's zone and year, RFC 5424 as written, skew."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from logweave.contract import Event
from logweave.timeinfo import device_time, is_rfc5424, place_in_year, zone_named

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SKEW = timedelta(minutes=5)


def event(reported: str, received: str, tag: str = "dnsmasq[1]:", **extra: str) -> Event:
    """An event as the producer publishes it: both times normalised to UTC."""
    return Event(
        id="",
        timereported=datetime.fromisoformat(reported).astimezone(UTC),
        timegenerated=datetime.fromisoformat(received).astimezone(UTC),
        hostname="gw",
        fromhost_ip="192.0.2.1",
        programname=tag.split("[")[0].rstrip(":"),
        syslogtag=tag,
        severity=6,
        facility=3,
        msg=" text",
        extra=extra,
    )


def test_line_from_new_years_eve_received_after_midnight_keeps_the_old_year() -> None:
    # rsyslog gave "Dec 31 23:59:58" the receive year, 2027: a year in the future.
    line = event("2027-12-31T23:59:58+00:00", "2027-01-01T00:00:03.120000+00:00")
    assert device_time(line, UTC, UTC, SKEW).at == datetime(2026, 12, 31, 23, 59, 58, tzinfo=UTC)


def test_line_from_a_clock_a_little_fast_on_new_years_eve_lands_in_the_new_year() -> None:
    line = event("2026-01-01T00:00:02+00:00", "2026-12-31T23:59:59.500000+00:00")
    found = device_time(line, UTC, UTC, SKEW)
    assert found.at == datetime(2027, 1, 1, 0, 0, 2, tzinfo=UTC)
    assert not found.clock_skew


def test_year_rule_picks_the_latest_year_not_in_the_future() -> None:
    received = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert place_in_year(datetime(1900, 5, 31, 8, 0), UTC, received).year == 2026
    assert place_in_year(datetime(1900, 6, 3, 8, 0), UTC, received).year == 2025
    # A day of tolerance for a router whose clock runs ahead.
    assert place_in_year(datetime(1900, 6, 2, 8, 0), UTC, received).year == 2026


def test_february_29th_goes_back_to_the_last_leap_year() -> None:
    received = datetime(2026, 3, 1, tzinfo=UTC)
    wall = datetime(2000, 2, 29, 10, 0)
    assert place_in_year(wall, UTC, received) == datetime(2024, 2, 29, 10, 0, tzinfo=UTC)


def test_rfc3164_time_is_read_in_the_routers_zone_not_the_log_hosts() -> None:
    # The router in Berlin wrote 14:00 local (12:00 UTC in summer); rsyslog in UTC read 14:00Z.
    line = event("2026-07-01T14:00:00+00:00", "2026-07-01T12:00:01.250000+00:00")
    found = device_time(line, BERLIN, UTC, SKEW)
    assert found.at == datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert not found.clock_skew


def test_each_router_gets_its_own_zone() -> None:
    line = event("2026-01-15T09:30:00+00:00", "2026-01-15T14:30:00.5+00:00")
    assert device_time(line, NEW_YORK, UTC, SKEW).at == datetime(2026, 1, 15, 14, 30, tzinfo=UTC)
    assert device_time(line, BERLIN, UTC, SKEW).at == datetime(2026, 1, 15, 8, 30, tzinfo=UTC)


def test_wall_clock_is_taken_back_out_in_the_zone_rsyslog_ran_in() -> None:
    # rsyslog in Berlin wrote the router's "10:00" as 10:00+01:00; the producer made it 09:00Z.
    line = event("2026-01-15T10:00:00+01:00", "2026-01-15T15:00:00.1+00:00")
    found = device_time(line, NEW_YORK, BERLIN, SKEW)
    assert found.at == datetime(2026, 1, 15, 15, 0, tzinfo=UTC)


def test_rfc5424_time_keeps_the_offset_the_router_wrote() -> None:
    line = event(
        "2023-09-21T08:09:21+02:00",
        "2023-09-21T06:09:22.5+00:00",
        tag="dhclient[5856]",
        **{"app-name": "dhclient", "procid": "5856", "structured-data": '[meta sequenceId="8"]'},
    )
    assert is_rfc5424(line)
    found = device_time(line, NEW_YORK, UTC, SKEW)
    assert found.at == datetime(2023, 9, 21, 6, 9, 21, tzinfo=UTC)
    assert not found.clock_skew


def test_rfc5424_without_msgid_or_structured_data_is_known_by_its_tag() -> None:
    reported, received = "2024-05-27T17:26:51-04:00", "2024-05-27T21:26:52+00:00"
    fields = {"app-name": "logread", "procid": "13023"}
    assert is_rfc5424(event(reported, received, tag="logread[13023]", **fields))
    # An RFC 3164 TAG ends in a colon.
    assert not is_rfc5424(event(reported, received, tag="logread[13023]:", **fields))


def test_rfc3339_stamp_of_another_year_in_an_rfc3164_line_is_kept_as_written() -> None:
    line = event("2017-05-29T00:09:32+10:00", "2026-12-04T14:00:00.3+00:00", tag="netifd[]:")
    assert device_time(line, NEW_YORK, UTC, SKEW).at == datetime(2017, 5, 28, 14, 9, 32, tzinfo=UTC)


def test_line_without_a_time_has_no_device_time_and_no_skew() -> None:
    line = event("2026-12-04T14:00:00.123456+00:00", "2026-12-04T14:00:00.123456+00:00")
    found = device_time(line, BERLIN, UTC, SKEW)
    assert (found.at, found.clock_skew) == (None, False)


@pytest.mark.parametrize(
    ("reported", "skewed"),
    [("2026-12-04T14:04:59+00:00", False), ("2026-12-04T14:05:01+00:00", True)],
)
def test_clock_skew_is_a_device_time_further_than_the_bound(reported: str, skewed: bool) -> None:
    line = event(reported, "2026-12-04T14:00:00.5+00:00")
    assert device_time(line, UTC, UTC, SKEW).clock_skew is skewed


def test_unknown_zone_name_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"expected an IANA time zone name .* got 'Mars/Base'"):
        zone_named("Mars/Base")
