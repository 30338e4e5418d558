"""The event contract: normalisation, synonyms, stable ids and the reasons for rejecting."""

from datetime import UTC, datetime

import pytest

from logweave.contract import ContractError, Event, normalise

RECEIVED = datetime(2026, 12, 4, 10, 0, 0, tzinfo=UTC)

RSYSLOG_EVENT = {
    "timereported": "2026-12-04T11:59:58.000000+01:00",
    "timegenerated": "2026-12-04T10:59:58.123456+00:00",
    "hostname": "OpenWrt",
    "fromhost-ip": "192.168.101.1",
    "programname": "hostapd",
    "syslogtag": "hostapd:",
    "severity": "6",
    "facility": 3,
    "msg": " wlan0: STA 02:00:00:01:00:01 IEEE 802.11: associated",
    "uuid": "8F1C0E2A3B4D4E5F8A9B0C1D2E3F4A5B",
}


def test_rsyslog_event_is_read_field_by_field() -> None:
    event = normalise(RSYSLOG_EVENT, received=RECEIVED)
    assert event.id == "8f1c0e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
    assert event.timereported == datetime(2026, 12, 4, 10, 59, 58, tzinfo=UTC)
    assert event.timegenerated == datetime(2026, 12, 4, 10, 59, 58, 123456, tzinfo=UTC)
    assert (event.hostname, event.fromhost_ip, event.programname) == (
        "OpenWrt",
        "192.168.101.1",
        "hostapd",
    )
    assert (event.severity, event.severity_name, event.facility) == (6, "info", 3)
    assert event.key == b"192.168.101.1"


def test_event_survives_a_trip_through_kafka_unchanged() -> None:
    event = normalise(RSYSLOG_EVENT, received=RECEIVED)
    assert Event.from_json(event.to_json()) == event


def test_synonyms_from_hand_written_templates_are_accepted() -> None:
    event = normalise(
        {
            "@timestamp": "2026-12-04T10:00:00Z",
            "received_at": "2026-12-04T10:00:01Z",
            "host": "gw",
            "source_ip": "10.0.0.1",
            "program": "dnsmasq-dhcp",
            "level": "warn",
            "syslog_fac": "daemon",
            "message": "DHCPACK(br-lan) 10.0.0.5 02:00:00:00:00:05",
        },
        received=RECEIVED,
    )
    assert (event.hostname, event.fromhost_ip, event.programname) == (
        "gw",
        "10.0.0.1",
        "dnsmasq-dhcp",
    )
    assert (event.severity, event.facility) == (4, 3)
    assert event.timegenerated == datetime(2026, 12, 4, 10, 0, 1, tzinfo=UTC)


def test_id_without_uuid_is_stable_for_the_same_content_and_differs_otherwise() -> None:
    base = {k: v for k, v in RSYSLOG_EVENT.items() if k != "uuid"}
    first = normalise(base, received=RECEIVED).id
    assert normalise(dict(base), received=RECEIVED).id == first
    assert normalise({**base, "msg": base["msg"] + "!"}, received=RECEIVED).id != first


def test_missing_receive_time_takes_the_producer_clock() -> None:
    event = normalise({"msg": "hello"}, received=RECEIVED)
    assert event.timegenerated == RECEIVED == event.timereported
    assert event.fromhost_ip == "unknown"


@pytest.mark.parametrize(
    ("data", "reason", "detail"),
    [
        ({"hostname": "x"}, "missing_field", "no msg (or message) field"),
        ({"msg": 5}, "bad_field", "msg must be a string, got int"),
        ({"msg": "x", "severity": 9}, "bad_field", "severity 9 is not 0-7 or a syslog name"),
        (
            {"msg": "x", "timegenerated": "yesterday"},
            "bad_field",
            "timegenerated is not an RFC 3339 time: 'yesterday'",
        ),
        ({"msg": "x", "uuid": "nope"}, "bad_field", "uuid is not a UUID: 'nope'"),
    ],
)
def test_unusable_objects_are_rejected_with_a_named_reason(
    data: dict[str, object], reason: str, detail: str
) -> None:
    with pytest.raises(ContractError) as caught:
        normalise(data, received=RECEIVED)
    assert (caught.value.reason, caught.value.detail) == (reason, detail)


def test_empty_message_is_a_message() -> None:
    # rsyslog sends msg "" for a line that is all header, e.g. "Dec  1 09:49:56 syslogd exiting".
    event = normalise({"msg": "", "message": "ignored"}, received=RECEIVED)
    assert event.msg == ""


def test_malformed_pri_facility_word_is_kept() -> None:
    assert normalise({"msg": "x", "facility": "invld"}, received=RECEIVED).facility == 24


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (
            {"msg": "a", "timereported": "0001-01-01T00:00:00+14:00"},
            "timereported is out of range in UTC: '0001-01-01T00:00:00+14:00'",
        ),
        (
            {"msg": "lone \ud800 surrogate"},
            "a text field holds an unpaired UTF-16 surrogate, not valid Unicode",
        ),
        (
            {"msg": "a", "fromhost-ip": "10.0.0.1\x00"},
            "fromhost-ip contains a NUL character: '10.0.0.1\\x00'",
        ),
        ({"msg": "a", "fromhost-ip": "h" * 256}, "fromhost-ip is 256 characters long, at most 255"),
        (
            {"msg": "a", "timegenerated": "9999-12-31T23:59:59Z"},
            "timegenerated '9999-12-31T23:59:59Z' is ahead of this host's clock"
            " (2026-12-04T00:00:00.000000Z)",
        ),
    ],
)
def test_values_no_later_stage_can_carry_are_refused(data: dict[str, str], detail: str) -> None:
    with pytest.raises(ContractError) as refused:
        normalise(data, received=datetime(2026, 12, 4, tzinfo=UTC))
    assert (refused.value.reason, refused.value.detail) == ("bad_field", detail)


def test_a_receive_time_within_a_day_ahead_is_accepted() -> None:
    received = datetime(2026, 12, 4, tzinfo=UTC)
    event = normalise({"msg": "a", "timegenerated": "2026-12-04T23:00:00Z"}, received=received)
    assert event.timegenerated == datetime(2026, 12, 4, 23, tzinfo=UTC)


def test_a_kafka_record_without_a_value_is_not_an_event() -> None:
    with pytest.raises(ContractError) as refused:
        Event.from_json(None)
    assert (refused.value.reason, refused.value.detail) == (
        "not_an_event",
        "Kafka record without a value",
    )
