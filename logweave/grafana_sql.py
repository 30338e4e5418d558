"""Panel SQL as Grafana's PostgreSQL data source sends it to the server, for running it elsewhere.

Grafana never runs here, so the dashboards' queries are proven by expanding them the way Grafana
does and running the result on PostgreSQL. The order is Grafana's:

1. the dashboard's template variables, in the browser: a single value has its quotes doubled but
   gets none around it; a multi-value or include-All variable quotes each value and joins them
   with commas; a custom All value goes in as written;
2. ``$__interval_ms`` and ``$__interval`` (the largest whole unit, truncated: 90 s is ``1m``),
   then ``$__unixEpochFrom()`` and ``$__unixEpochTo()``;
3. the macros, each ``$__name(arguments)``; the arguments run to the first ``)``, so they
   cannot contain one, and are split at commas.

Where Grafana quietly ignores surplus macro arguments, this refuses them: a query that relies
on that is a mistake.

Reference: https://grafana.com/docs/grafana/latest/datasources/postgres/query-editor/#macros
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

ALL = "$__all"  # the value Grafana stores for "All" in a variable's current selection


class MacroError(ValueError):
    """A query Grafana would refuse: an unknown macro or one with the wrong arguments."""


@dataclass(frozen=True)
class Variable:
    """A dashboard template variable as the query sees it: its selection and how it is quoted."""

    values: Sequence[str]
    multi: bool = False
    include_all: bool = False
    all_value: str | None = None
    # What "All" stands for when there is no custom all_value: every option of the variable.
    options: Sequence[str] = field(default_factory=tuple)

    def render(self) -> str:
        if list(self.values) == [ALL]:
            if self.all_value is not None:
                return self.all_value
            return ",".join(_quote(v) for v in self.options)
        if self.multi or self.include_all:
            return ",".join(_quote(v) for v in self.values)
        (value,) = self.values
        return value.replace("'", "''")


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime
    interval: timedelta

    def __post_init__(self) -> None:
        for moment in (self.start, self.end):
            if moment.tzinfo is None:
                raise ValueError(f"time range needs aware datetimes, got {moment!r}")


def expand(sql: str, time_range: TimeRange, variables: Mapping[str, Variable] | None = None) -> str:
    """The text Grafana's PostgreSQL data source would send for ``sql`` over ``time_range``."""
    sql = _variables(sql, variables or {})
    sql = sql.replace("$__interval_ms", str(_milliseconds(time_range.interval)))
    sql = sql.replace("$__interval", format_interval(time_range.interval))
    sql = sql.replace("$__unixEpochFrom()", str(int(time_range.start.timestamp())))
    sql = sql.replace("$__unixEpochTo()", str(int(time_range.end.timestamp())))
    return _MACRO.sub(lambda found: _macro(found, time_range), sql)


def format_interval(interval: timedelta) -> str:
    """Grafana's interval text: the largest unit that fits at least once, truncated."""
    ms = _milliseconds(interval)
    for unit, size in _FORMAT_UNITS:
        if ms >= size:
            return f"{ms // size}{unit}"
    return "1ms"


def parse_interval(text: str) -> timedelta:
    """An interval as a macro argument takes it: ``5m``, ``'1h'``, ``30s``, ``1d``."""
    found = re.fullmatch(r"(\d+)(ms|s|m|h|d|w|y)", text.strip().strip("'\""))
    if found is None:
        raise MacroError(f"interval {text!r}: expected a number and one of ms, s, m, h, d, w, y")
    return timedelta(milliseconds=int(found.group(1)) * _PARSE_UNITS[found.group(2)])


def rfc3339(moment: datetime) -> str:
    """Go's RFC 3339 in UTC with trailing zeros of the fraction dropped, as Grafana writes it."""
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_FORMAT_UNITS = (("y", 365 * _MS["d"]), ("d", _MS["d"]), ("h", _MS["h"]), ("m", _MS["m"]),
                 ("s", _MS["s"]), ("ms", 1))  # fmt: skip
_PARSE_UNITS = {**_MS, "w": 7 * _MS["d"], "y": 365 * _MS["d"]}

# ``$name``, ``${name}`` and ``[[name]]``; a name that is not a variable of the dashboard stays.
_VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)\]\]")
_MACRO = re.compile(r"\$(\w+)\(([^)]*)\)")


def _variables(sql: str, variables: Mapping[str, Variable]) -> str:
    def replace(found: re.Match[str]) -> str:
        name = found.group(1) or found.group(2) or found.group(4)
        if name not in variables:
            return found.group(0)
        if found.group(3) is not None:
            raise MacroError(f"${{{name}:{found.group(3)}}}: formats are not expanded here")
        return variables[name].render()

    return _VARIABLE.sub(replace, sql)


def _milliseconds(interval: timedelta) -> int:
    return interval // timedelta(milliseconds=1)


def _seconds(interval: timedelta) -> str:
    seconds = interval.total_seconds()
    return str(int(seconds)) if seconds == int(seconds) else repr(seconds)


def _macro(found: re.Match[str], time_range: TimeRange) -> str:
    name = found.group(1)
    args = [arg.strip() for arg in found.group(2).split(",")] if found.group(2).strip() else []
    macro = _MACROS.get(name)
    if macro is None:
        raise MacroError(f"${name}(): Grafana's PostgreSQL data source has no such macro")
    return macro(name, args, time_range)


def _need(name: str, args: list[str], least: int, most: int) -> None:
    if not least <= len(args) <= most:
        raise MacroError(f"${name}() takes {least} to {most} arguments, got {len(args)}: {args}")


def _time(name: str, args: list[str], _range: TimeRange) -> str:
    _need(name, args, 1, 1)
    return f'{args[0]} AS "time"'


def _time_filter(name: str, args: list[str], r: TimeRange) -> str:
    _need(name, args, 1, 1)
    return f"{args[0]} BETWEEN '{rfc3339(r.start)}' AND '{rfc3339(r.end)}'"


def _time_from(name: str, args: list[str], r: TimeRange) -> str:
    _need(name, args, 0, 0)
    return f"'{rfc3339(r.start)}'"


def _time_to(name: str, args: list[str], r: TimeRange) -> str:
    _need(name, args, 0, 0)
    return f"'{rfc3339(r.end)}'"


def _time_group(name: str, args: list[str], _range: TimeRange) -> str:
    # A third argument names how Grafana fills gaps (NULL, previous, 0); it changes the frame
    # Grafana builds afterwards, not the SQL.
    _need(name, args, 2, 3)
    seconds = _seconds(parse_interval(args[1]))
    group = f"floor(extract(epoch from {args[0]})/{seconds})*{seconds}"
    return group + ' AS "time"' if name.endswith("Alias") else group


def _unix_epoch_filter(name: str, args: list[str], r: TimeRange) -> str:
    _need(name, args, 1, 1)
    return f"{args[0]} >= {int(r.start.timestamp())} AND {args[0]} <= {int(r.end.timestamp())}"


def _unix_epoch_group(name: str, args: list[str], _range: TimeRange) -> str:
    _need(name, args, 2, 3)
    seconds = _seconds(parse_interval(args[1]))
    group = f"floor(({args[0]})/{seconds})*{seconds}"
    return group + ' AS "time"' if name.endswith("Alias") else group


_MACROS: dict[str, Callable[[str, list[str], TimeRange], str]] = {
    "__time": _time,
    "__timeFilter": _time_filter,
    "__timeFrom": _time_from,
    "__timeTo": _time_to,
    "__timeGroup": _time_group,
    "__timeGroupAlias": _time_group,
    "__unixEpochFilter": _unix_epoch_filter,
    "__unixEpochGroup": _unix_epoch_group,
    "__unixEpochGroupAlias": _unix_epoch_group,
}


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
