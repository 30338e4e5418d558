"""The queries of the provisioned dashboards and alert rules, and what Grafana needs of each.

Read from the files the grafana role provisions, not from the generator, so what is proven is
what Grafana gets. Shared by the tests and bench/dashboards.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from logweave.grafana_sql import ALL, TimeRange, Variable, expand, parse_interval

ROLE = Path(__file__).resolve().parents[2] / "roles" / "grafana"
DASHBOARDS = sorted((ROLE / "files" / "dashboards").glob("*.json"))
# Grafana asks for about one point per pixel of a panel's width; 1000 is a wide panel.
MAX_DATA_POINTS = 1000

# PostgreSQL type oids, as psycopg2 reports them in cursor.description.
NUMERIC = {20, 21, 23, 700, 701, 1700}
TIMES = {1082, 1114, 1184}
TEXT = {19, 25, 1042, 1043}


@dataclass(frozen=True)
class Query:
    dashboard: str
    title: str
    kind: str  # the panel type, "variable" or "alert"
    sql: str
    min_interval: timedelta | None = None
    window: timedelta | None = None  # an alert's relative time range

    @property
    def name(self) -> str:
        return f"{self.dashboard} / {self.title}"


def panel_queries() -> list[Query]:
    queries = []
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            if panel["type"] == "row":
                continue
            (target,) = panel["targets"]
            interval = panel.get("interval")
            queries.append(
                Query(
                    board["title"],
                    panel["title"],
                    panel["type"],
                    target["rawSql"],
                    parse_interval(interval) if interval else None,
                )
            )
    return queries


def variable_queries() -> list[Query]:
    return [
        Query(board["title"], f"${variable['name']}", "variable", variable["query"])
        for board in (json.loads(path.read_text()) for path in DASHBOARDS)
        for variable in board["templating"]["list"]
    ]


def alert_queries(rules_file: Mapping[str, Any]) -> list[Query]:
    """The SQL of each rule of a rendered alert-rules.yaml, with its time window."""
    queries = []
    for group in rules_file["groups"]:
        for rule in group["rules"]:
            sql = next(q for q in rule["data"] if q["datasourceUid"] != "__expr__")
            span = sql["relativeTimeRange"]
            window = timedelta(seconds=span["from"] - span["to"])
            queries.append(
                Query("alerts", rule["title"], "alert", sql["model"]["rawSql"], window=window)
            )
    return queries


def time_range(start: datetime, end: datetime, query: Query) -> TimeRange:
    """The range and the interval Grafana would give this query's panel: the range over the
    data points, rounded to a round interval, and no less than the panel's minimum."""
    interval = round_interval((end - start) / MAX_DATA_POINTS)
    if query.min_interval is not None:
        interval = max(interval, query.min_interval)
    return TimeRange(start, end, interval)


# Grafana's browser rounds a computed interval to the round one in whose band it falls: the
# upper end of each band, and the interval it becomes.
_ROUND = [
    (15, "10ms"), (35, "20ms"), (75, "50ms"), (150, "100ms"), (350, "200ms"), (750, "500ms"),
    (1_500, "1s"), (3_500, "2s"), (7_500, "5s"), (12_500, "10s"), (17_500, "15s"),
    (25_000, "20s"), (45_000, "30s"), (90_000, "1m"), (210_000, "2m"), (450_000, "5m"),
    (750_000, "10m"), (1_050_000, "15m"), (1_500_000, "20m"), (2_700_000, "30m"),
    (5_400_000, "1h"), (9_000_000, "2h"), (16_200_000, "3h"), (32_400_000, "6h"),
    (86_400_000, "12h"), (604_800_000, "1d"), (1_814_400_000, "1w"), (3_628_800_000, "30d"),
]  # fmt: skip


def round_interval(interval: timedelta) -> timedelta:
    ms = interval / timedelta(milliseconds=1)
    for below, rounded in _ROUND:
        if ms < below:
            return parse_interval(rounded)
    return parse_interval("1y")


def selection(
    routers: Sequence[str] = (ALL,), devices: Sequence[str] = (ALL,)
) -> dict[str, Variable]:
    """The router and device variables as the dashboards define them, with this selection."""
    return {
        "router": Variable(routers, multi=True, include_all=True, all_value="'__all__'"),
        "device": Variable(devices, multi=True, include_all=True, all_value="'__all__'"),
    }


def run(cur: Any, query: Query, span: TimeRange, chosen: Mapping[str, Variable]) -> Result:
    cur.execute(expand(query.sql, span, chosen))
    columns = [(column.name, column.type_code) for column in cur.description]
    return Result(columns, cur.fetchall())


@dataclass
class Result:
    columns: list[tuple[str, int]]
    rows: list[tuple[Any, ...]]

    def of(self, name: str) -> list[Any]:
        index = [column for column, _ in self.columns].index(name)
        return [row[index] for row in self.rows]

    def as_dicts(self) -> list[dict[str, Any]]:
        names = [column for column, _ in self.columns]
        return [dict(zip(names, row, strict=True)) for row in self.rows]


def shape_problems(kind: str, result: Result) -> list[str]:
    """What Grafana would not be able to draw from this result in a panel of this kind."""
    names = [name for name, _ in result.columns]
    numeric = [name for name, oid in result.columns if oid in NUMERIC]
    problems = []
    if len(set(names)) != len(names):
        problems.append(f"repeated column names {names}")
    if kind in ("timeseries", "state-timeline"):
        types = dict(result.columns)
        if types.get("time") not in TIMES | NUMERIC:
            problems.append(f"no time column of a time or number type: {result.columns}")
        if not [name for name in numeric if name != "time"]:
            problems.append(f"no numeric value column: {result.columns}")
        times = result.of("time") if "time" in names else []
        if times != sorted(times):
            problems.append("rows are not in time order")
    elif kind in ("stat", "bargauge", "gauge") and not numeric:
        problems.append(f"no numeric column for the stat: {result.columns}")
    elif kind == "variable" and names != ["__value", "__text"]:
        problems.append(f"a variable query returns __value and __text, not {names}")
    elif kind == "alert":
        labels = [name for name, oid in result.columns if oid not in NUMERIC]
        if len(numeric) != 1:
            problems.append(f"an alert query needs one numeric column, has {numeric}")
        if any(oid not in TEXT for name, oid in result.columns if name in labels):
            problems.append(f"label columns must be text: {result.columns}")
        keys = [tuple(row[names.index(label)] for label in labels) for row in result.rows]
        if len(set(keys)) != len(keys):
            problems.append(f"two rows share the labels {labels}: Grafana refuses that")
    return problems
