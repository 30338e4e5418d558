"""The macro expander: Grafana's PostgreSQL data source rules, one behaviour per test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from logweave.grafana_sql import (
    ALL,
    MacroError,
    TimeRange,
    Variable,
    expand,
    format_interval,
    rfc3339,
)

RANGE = TimeRange(
    datetime(2026, 11, 3, 10, 0, tzinfo=UTC),
    datetime(2026, 11, 3, 16, 30, 15, tzinfo=UTC),
    timedelta(seconds=90),
)


def test_time_filter_becomes_between_two_utc_rfc3339_literals() -> None:
    assert expand("WHERE $__timeFilter(received_at)", RANGE) == (
        "WHERE received_at BETWEEN '2026-11-03T10:00:00Z' AND '2026-11-03T16:30:15Z'"
    )


def test_time_filter_writes_utc_whatever_zone_the_range_is_given_in() -> None:
    plus_two = TimeRange(
        datetime(2026, 11, 3, 12, 0, tzinfo=UTC).astimezone(datetime.now().astimezone().tzinfo),
        datetime(2026, 11, 3, 14, 0, 0, 250000, tzinfo=UTC),
        timedelta(minutes=1),
    )
    assert expand("$__timeFilter(t)", plus_two) == (
        "t BETWEEN '2026-11-03T12:00:00Z' AND '2026-11-03T14:00:00.25Z'"
    )


def test_time_from_and_to_are_the_quoted_timestamps() -> None:
    assert expand("$__timeFrom() .. $__timeTo()", RANGE) == (
        "'2026-11-03T10:00:00Z' .. '2026-11-03T16:30:15Z'"
    )


def test_time_group_floors_the_epoch_to_the_interval_in_seconds() -> None:
    assert expand("$__timeGroup(received_at, '5m')", RANGE) == (
        "floor(extract(epoch from received_at)/300)*300"
    )
    assert expand("$__timeGroup(hour,1h, previous)", RANGE) == (
        "floor(extract(epoch from hour)/3600)*3600"
    )


def test_time_group_alias_names_the_column_time() -> None:
    assert expand("SELECT $__timeGroupAlias(t, '1d')", RANGE) == (
        'SELECT floor(extract(epoch from t)/86400)*86400 AS "time"'
    )


def test_time_macro_aliases_the_column() -> None:
    assert expand("SELECT $__time(hour), 1", RANGE) == 'SELECT hour AS "time", 1'


def test_unix_epoch_filter_compares_whole_seconds() -> None:
    assert expand("$__unixEpochFilter(ts)", RANGE) == "ts >= 1793700000 AND ts <= 1793723415"


def test_unix_epoch_group_divides_the_column_itself() -> None:
    assert expand("$__unixEpochGroup(ts, '10m')", RANGE) == "floor((ts)/600)*600"
    assert expand("$__unixEpochGroupAlias(ts, 30s)", RANGE) == 'floor((ts)/30)*30 AS "time"'


def test_interval_is_replaced_before_the_macros_truncated_to_its_largest_unit() -> None:
    # 90 s is "1m": Grafana truncates to the largest whole unit.
    assert expand("$__timeGroupAlias(t, $__interval) -- $__interval_ms", RANGE) == (
        'floor(extract(epoch from t)/60)*60 AS "time" -- 90000'
    )


@pytest.mark.parametrize(
    ("interval", "text"),
    [
        (timedelta(milliseconds=500), "500ms"),
        (timedelta(seconds=59), "59s"),
        (timedelta(seconds=119), "1m"),
        (timedelta(hours=47), "1d"),
        (timedelta(days=400), "1y"),
        (timedelta(microseconds=10), "1ms"),
    ],
)
def test_format_interval_uses_the_largest_whole_unit(interval: timedelta, text: str) -> None:
    assert format_interval(interval) == text


def test_unix_epoch_from_and_to_are_seconds() -> None:
    assert expand("$__unixEpochFrom()-$__unixEpochTo()", RANGE) == "1793700000-1793723415"


def test_a_single_value_is_escaped_but_not_quoted() -> None:
    variables = {"router": Variable(["o'hare"])}
    assert expand("WHERE router = '$router'", RANGE, variables) == "WHERE router = 'o''hare'"


def test_multi_values_are_quoted_and_comma_joined() -> None:
    variables = {"router": Variable(["10.0.0.1", "it's"], multi=True)}
    assert expand("router IN (${router})", RANGE, variables) == ("router IN ('10.0.0.1','it''s')")


def test_one_value_of_a_multi_variable_is_still_quoted() -> None:
    variables = {"device": Variable(["aa:bb"], multi=True)}
    assert expand("mac IN ([[device]])", RANGE, variables) == "mac IN ('aa:bb')"


def test_all_with_a_custom_all_value_is_written_as_is() -> None:
    variables = {"router": Variable([ALL], multi=True, include_all=True, all_value="'__all__'")}
    assert expand("'__all__' IN ($router)", RANGE, variables) == "'__all__' IN ('__all__')"


def test_all_without_a_custom_value_lists_every_option() -> None:
    variables = {"router": Variable([ALL], include_all=True, options=["a", "b"])}
    assert expand("IN ($router)", RANGE, variables) == "IN ('a','b')"


def test_variables_are_replaced_before_macros_so_a_macro_can_take_one() -> None:
    variables = {"col": Variable(["received_at"])}
    assert expand("$__timeFilter($col)", RANGE, variables) == (
        "received_at BETWEEN '2026-11-03T10:00:00Z' AND '2026-11-03T16:30:15Z'"
    )


def test_a_name_that_is_no_variable_stays() -> None:
    assert expand("SELECT '$notavariable'", RANGE, {}) == "SELECT '$notavariable'"


def test_macro_arguments_end_at_the_first_closing_parenthesis() -> None:
    # As in Grafana: the arguments cannot hold ")", so these are "coalesce(a" and "b", and the
    # ")" after them stays in the text.
    assert expand("$__time(coalesce(a))", RANGE) == 'coalesce(a AS "time")'
    with pytest.raises(MacroError, match=r"got 2: \['coalesce\(a', 'b'\]"):
        expand("$__time(coalesce(a, b))", RANGE)


def test_an_unknown_macro_is_refused() -> None:
    with pytest.raises(MacroError, match="no such macro"):
        expand("$__timeEpochish(t)", RANGE)


def test_a_macro_with_the_wrong_arguments_is_refused() -> None:
    with pytest.raises(MacroError, match="takes 1 to 1"):
        expand("$__timeFilter(a, b)", RANGE)
    with pytest.raises(MacroError, match="interval"):
        expand("$__timeGroup(t, soon)", RANGE)


def test_rfc3339_drops_trailing_zeros_of_the_fraction() -> None:
    assert rfc3339(datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC)) == ("2026-01-02T03:04:05.12Z")


def test_a_naive_time_range_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        TimeRange(datetime(2026, 1, 1), datetime(2026, 1, 2, tzinfo=UTC), timedelta(1))
