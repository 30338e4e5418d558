"""LogWeave's Grafana dashboards and alert rules as code.

``python -m logweave.dashboards`` writes the dashboard JSON files into
``roles/grafana/files/dashboards/`` and the alert rules into
``roles/grafana/templates/alert-rules.yaml.j2`` (a template: the data source uid, the folder,
the contact point and the thresholds are role variables). ``--check`` only compares, for CI.
Every query reads the metric tables through the read-only ``logweave_reader`` role; the tests
run each one, expanded as Grafana expands it (logweave.grafana_sql), on a real PostgreSQL.
docs/dashboards.md says what each panel shows.
"""

# ruff: noqa: S608 -- every query is a constant of this module; no input is formatted into one

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATASOURCE = {"type": "grafana-postgresql-datasource", "uid": "logweave-postgres"}
ROLE = Path(__file__).resolve().parents[1] / "roles" / "grafana"
ALERT_TEMPLATE = "alert-rules.yaml.j2"

# A custom "All" value, written into the SQL as is: '__all__' IN (...) is true for All and false
# for any real selection, and PostgreSQL folds it away before planning.
ALL_VALUE = "'__all__'"
ROUTER = "('__all__' IN ($router) OR {col} IN ($router))"
DEVICE = "('__all__' IN ($device) OR {col} IN ($device))"
# The hourly tables hold whole hours: the hour that the range starts in counts.
HOURS = "{col} BETWEEN date_trunc('hour', $__timeFrom()::timestamptz, 'UTC') AND $__timeTo()"
ROUTER_NAME = "coalesce(r.name, {col})"
SEVERITY_NAME = "(ARRAY['emerg','alert','crit','err','warning','notice','info','debug'])[{col} + 1]"
PROBLEM_KINDS = "('wifi_deauth', 'wifi_auth_fail', 'dhcp_nak')"

# The WiFi health score of a group of metrics_wifi_hourly rows (see docs/dashboards.md).
WIFI_SCORE = (
    "round(100.0 * sum(w.assoc) / nullif(sum(w.assoc) + sum(w.auth_fail) + sum(w.deauth)"
    " + greatest(sum(w.disassoc) - sum(w.assoc), 0), 0), 1)"
)
WIFI_SCORE_TEXT = (
    "Successful associations as a share of everything that happened on the radio: "
    "100 * associations / (associations + authentication failures + deauthentications + "
    "disassociations beyond one per association). 100 is a calm network; each failed login, "
    "kick or extra disconnect pulls it down. Empty where there was no WiFi activity."
)

# WAN state changes of each selected router: those in the range, and the state each router
# was in when the range began (its last change before it). Each change lasts until the next,
# the last one until the end of the range. Lines that rsyslog read in one go share their
# received_at; the router's own time orders those.
WAN_SPANS = f"""changes AS (
    SELECT router, received_at AS at, 1 AS step, device_time, reported_at,
           kind = 'wan_up' AS up
    FROM parsed_events
    WHERE kind IN ('wan_up', 'wan_down') AND counted AND $__timeFilter(received_at)
      AND {ROUTER.format(col="router")}
    UNION ALL
    (SELECT DISTINCT ON (router) router, $__timeFrom()::timestamptz, 0, NULL, NULL,
            kind = 'wan_up'
     FROM parsed_events
     WHERE kind IN ('wan_up', 'wan_down') AND counted AND received_at < $__timeFrom()
       AND {ROUTER.format(col="router")}
     ORDER BY router, received_at DESC, device_time DESC NULLS LAST, reported_at DESC)
),
spans AS (
    SELECT router, up, at,
           lead(at, 1, $__timeTo()::timestamptz) OVER (
               PARTITION BY router ORDER BY at, step, device_time NULLS FIRST, reported_at
           ) AS until
    FROM changes
)"""


# --- panels --------------------------------------------------------------------------------------


@dataclass
class Panel:
    """One panel: its title, Grafana panel type, SQL, size and options."""

    title: str
    type: str
    sql: str
    description: str
    width: int = 12
    height: int = 8
    format: str = "table"
    unit: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    interval: str | None = None

    @property
    def time_series(self) -> bool:
        return self.format == "time_series"


def timeseries(title: str, sql: str, description: str, **kw: Any) -> Panel:
    options = {
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True, "calcs": []},
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    return Panel(title, "timeseries", sql, description, format="time_series", options=options, **kw)


def stat(title: str, sql: str, description: str, **kw: Any) -> Panel:
    options = {
        "reduceOptions": {"values": True, "calcs": [], "fields": ""},
        "colorMode": "value",
        "graphMode": "none",
        "textMode": "auto",
        "justifyMode": "auto",
        "orientation": "auto",
    }
    return Panel(title, "stat", sql, description, options=options, **kw)


def table(title: str, sql: str, description: str, **kw: Any) -> Panel:
    options = {"showHeader": True, "cellHeight": "sm"}
    return Panel(title, "table", sql, description, options=options, **kw)


def state_timeline(title: str, sql: str, description: str, **kw: Any) -> Panel:
    options = {
        "showValue": "never",
        "mergeValues": True,
        "rowHeight": 0.9,
        "alignValue": "left",
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True, "calcs": []},
        "tooltip": {"mode": "single", "sort": "none"},
    }
    return Panel(
        title, "state-timeline", sql, description, format="time_series", options=options, **kw
    )


@dataclass
class Dashboard:
    uid: str
    title: str
    description: str
    panels: list[Panel | str]  # a str starts a row of that title
    variables: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": ["logweave"],
            "timezone": "browser",
            "editable": False,
            "graphTooltip": 1,
            "time": {"from": "now-24h", "to": "now"},
            "refresh": "1m",
            "schemaVersion": 36,
            "fiscalYearStartMonth": 0,
            "templating": {"list": self.variables},
            "annotations": {"list": []},
            "links": [],
            "panels": _layout(self.panels),
        }


def _layout(panels: list[Panel | str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    x = y = row_height = 0
    for number, panel in enumerate(panels, 1):
        if isinstance(panel, str):
            y += row_height
            x = row_height = 0
            out.append(
                {
                    "type": "row",
                    "id": number,
                    "title": panel,
                    "collapsed": False,
                    "gridPos": {"x": 0, "y": y, "w": 24, "h": 1},
                    "panels": [],
                }
            )
            y += 1
            continue
        if x + panel.width > 24:
            y += row_height
            x = row_height = 0
        out.append(_panel_json(panel, number, x, y))
        x += panel.width
        row_height = max(row_height, panel.height)
    return out


def _panel_json(panel: Panel, number: int, x: int, y: int) -> dict[str, Any]:
    defaults: dict[str, Any] = {**panel.defaults}
    if panel.unit is not None:
        defaults["unit"] = panel.unit
    out: dict[str, Any] = {
        "type": panel.type,
        "id": number,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": panel.width, "h": panel.height},
        "targets": [
            {
                "refId": "A",
                "datasource": DATASOURCE,
                "editorMode": "code",
                "format": panel.format,
                "rawQuery": True,
                "rawSql": panel.sql.strip(),
            }
        ],
        "options": panel.options,
        "fieldConfig": {"defaults": defaults, "overrides": []},
    }
    if panel.interval is not None:
        out["interval"] = panel.interval
    return out


def _variable(name: str, label: str, sql: str) -> dict[str, Any]:
    return {
        "type": "query",
        "name": name,
        "label": label,
        "datasource": DATASOURCE,
        "query": sql.strip(),
        "refresh": 2,  # on every time range change: new routers and devices appear
        "sort": 1,
        "multi": True,
        "includeAll": True,
        "allValue": ALL_VALUE,
        "current": {"text": ["All"], "value": ["$__all"]},
        "options": [],
        "hide": 0,
    }


VARIABLES = [
    _variable(
        "router",
        "Router",
        """
SELECT address AS __value, coalesce(name, hostname, address) || ' (' || address || ')' AS __text
FROM routers ORDER BY 2""",
    ),
    _variable(
        "device",
        "Device",
        f"""
SELECT mac AS __value, coalesce(hostname, vendor, 'unknown') || ' (' || mac || ')' AS __text
FROM devices WHERE {ROUTER.format(col="router")} ORDER BY 2""",
    ),
]


# --- Router health -------------------------------------------------------------------------------

WIFI_BY_AP = table(
    "WiFi health per access point and band",
    f"""
SELECT {ROUTER_NAME.format(col="w.router")} AS "router", w.iface AS "access point",
       w.band AS "band", sum(w.assoc) AS "associations", sum(w.auth_fail) AS "auth failures",
       sum(w.deauth) AS "deauths", sum(w.disassoc) AS "disassociations",
       {WIFI_SCORE} AS "health score"
FROM metrics_wifi_hourly w LEFT JOIN routers r ON r.address = w.router
WHERE {HOURS.format(col="w.hour")} AND {ROUTER.format(col="w.router")}
GROUP BY w.router, r.name, w.iface, w.band
ORDER BY "health score" NULLS LAST, 1, 2, 3""",
    WIFI_SCORE_TEXT + " One row per router, radio interface and band.",
    width=14,
    defaults={"thresholds": {"mode": "absolute", "steps": [
        {"color": "red", "value": None}, {"color": "orange", "value": 60},
        {"color": "green", "value": 85}]}},
)  # fmt: skip

WIFI_SCORE_OVER_TIME = timeseries(
    "WiFi health score per hour",
    f"""
SELECT w.hour AS "time", {ROUTER_NAME.format(col="w.router")} AS "metric",
       {WIFI_SCORE} AS "score"
FROM metrics_wifi_hourly w LEFT JOIN routers r ON r.address = w.router
WHERE {HOURS.format(col="w.hour")} AND {ROUTER.format(col="w.router")}
GROUP BY w.hour, w.router, r.name
ORDER BY 1, 2""",
    WIFI_SCORE_TEXT + " One line per router, one point per hour.",
    width=10,
    defaults={"min": 0, "max": 100},
)

ACTIVE_DEVICES = stat(
    "Active devices",
    f"""
SELECT count(DISTINCT mac) AS "active devices"
FROM parsed_events
WHERE $__timeFilter(received_at) AND mac IS NOT NULL AND counted
  AND {ROUTER.format(col="router")}""",
    "Client devices (distinct MAC addresses) that any event of the selected routers named in "
    "the time range.",
    width=4,
)

ACTIVE_DEVICES_OVER_TIME = timeseries(
    "Active devices over time",
    f"""
SELECT $__timeGroupAlias(received_at, $__interval), count(DISTINCT mac) AS "devices"
FROM parsed_events
WHERE $__timeFilter(received_at) AND mac IS NOT NULL AND counted
  AND {ROUTER.format(col="router")}
GROUP BY 1
ORDER BY 1""",
    "Distinct client MACs named by an event in each interval.",
    width=10,
    interval="5m",
)

NEW_DEVICES = table(
    "New devices",
    f"""
SELECT d.first_seen AS "first seen", d.mac AS "MAC", coalesce(d.hostname, '') AS "hostname",
       coalesce(d.vendor, '') AS "vendor", {ROUTER_NAME.format(col="d.router")} AS "router"
FROM devices d LEFT JOIN routers r ON r.address = d.router
WHERE $__timeFilter(d.first_seen) AND {ROUTER.format(col="d.router")}
ORDER BY 1 DESC
LIMIT 100""",
    "Client devices seen for the first time in the time range.",
    width=10,
)

DEVICE_PROBLEMS = table(
    "Device problem ranking",
    f"""
SELECT coalesce(d.hostname, '') AS "hostname", p.mac AS "MAC", coalesce(d.vendor, '') AS "vendor",
       max(p.received_at) AS "last problem", d.last_seen AS "last seen",
       count(*) AS "problem score",
       concat_ws(', ',
           nullif(count(*) FILTER (WHERE p.kind = 'wifi_auth_fail'), 0) || ' auth failures',
           nullif(count(*) FILTER (WHERE p.kind = 'wifi_deauth'), 0) || ' deauths',
           nullif(count(*) FILTER (WHERE p.kind = 'dhcp_nak'), 0) || ' DHCP NAKs'
       ) AS "what went wrong"
FROM parsed_events p LEFT JOIN devices d ON d.mac = p.mac
WHERE p.kind IN {PROBLEM_KINDS} AND p.counted AND p.mac IS NOT NULL
  AND $__timeFilter(p.received_at)
  AND {ROUTER.format(col="p.router")} AND {DEVICE.format(col="p.mac")}
GROUP BY p.mac, d.hostname, d.vendor, d.last_seen
ORDER BY "problem score" DESC, 2
LIMIT 50""",
    "Client devices by their problems in the time range: one point for each authentication "
    "failure, deauthentication and DHCP NAK that names them.",
    width=24,
)

WAN_UPTIME = stat(
    "WAN uptime",
    f"""
WITH {WAN_SPANS}
SELECT {ROUTER_NAME.format(col="s.router")} AS "router",
       round(100 * sum(extract(epoch FROM s.until - s.at)) FILTER (WHERE s.up)
             / nullif(sum(extract(epoch FROM s.until - s.at)), 0), 2) AS "uptime"
FROM spans s LEFT JOIN routers r ON r.address = s.router
GROUP BY s.router, r.name
ORDER BY 1""",
    "Share of the time range each router's WAN was up, from its WAN up and down events. The "
    "state before a router's first WAN event is unknown and left out; a router that never "
    "reported its WAN does not appear.",
    width=6,
    unit="percent",
    defaults={"decimals": 1, "thresholds": {"mode": "absolute", "steps": [
        {"color": "red", "value": None}, {"color": "green", "value": 99}]}},
)  # fmt: skip

WAN_TIMELINE = state_timeline(
    "WAN state",
    f"""
WITH {WAN_SPANS},
grid AS (
    SELECT to_timestamp(step) AS t
    FROM generate_series(
        floor(extract(epoch FROM $__timeFrom()::timestamptz) / ($__interval_ms / 1000.0))
            * ($__interval_ms / 1000.0),
        extract(epoch FROM $__timeTo()::timestamptz),
        $__interval_ms / 1000.0) AS step
)
SELECT g.t AS "time", {ROUTER_NAME.format(col="s.router")} AS "metric",
       min(s.up::int) AS "WAN"
FROM grid g
JOIN spans s ON s.at < g.t + $__interval_ms * interval '1 ms' AND s.until > g.t
LEFT JOIN routers r ON r.address = s.router
GROUP BY 1, s.router, r.name
ORDER BY 1, 2""",
    "Up or down in each interval, per router; an interval with any downtime shows down.",
    width=18,
    defaults={"mappings": [{"type": "value", "options": {
        "0": {"text": "down", "color": "red", "index": 0},
        "1": {"text": "up", "color": "green", "index": 1}}}]},
    interval="1m",
)  # fmt: skip

EVENTS_BY_SEVERITY = timeseries(
    "Events by severity",
    f"""
SELECT hour AS "time", {SEVERITY_NAME.format(col="severity")} AS "metric",
       sum(events) AS "events"
FROM metrics_system_hourly
WHERE {HOURS.format(col="hour")} AND {ROUTER.format(col="router")}
GROUP BY hour, severity
ORDER BY 1, severity""",
    "Events per hour by syslog severity (each event once, repeats and continuation lines left "
    "out).",
)

EVENTS_BY_PROGRAM = timeseries(
    "Events by program",
    f"""
WITH top AS (
    SELECT program FROM metrics_system_hourly
    WHERE {HOURS.format(col="hour")} AND {ROUTER.format(col="router")}
    GROUP BY program ORDER BY sum(events) DESC LIMIT 10
)
SELECT hour AS "time", CASE WHEN program = '' THEN '(none)' ELSE program END AS "metric",
       sum(events) AS "events"
FROM metrics_system_hourly
WHERE {HOURS.format(col="hour")} AND {ROUTER.format(col="router")}
  AND program IN (SELECT program FROM top)
GROUP BY hour, program
ORDER BY 1, 2""",
    "Events per hour of the ten programs that logged most in the time range.",
)

DHCP = timeseries(
    "DHCP requests, acks and NAKs per hour",
    f"""
SELECT hour AS "time", sum(request) AS "requests", sum(ack) AS "acks", sum(nak) AS "NAKs"
FROM metrics_dhcp_hourly
WHERE {HOURS.format(col="hour")} AND {ROUTER.format(col="router")}
GROUP BY hour
ORDER BY 1""",
    "DHCP messages the selected routers logged per hour. NAKs refuse a client its address: many "
    "of them mean a client that keeps asking for an address from another network.",
)

LEASES = table(
    "Leases per device",
    f"""
SELECT coalesce(d.hostname, '') AS "hostname", p.mac AS "MAC",
       (array_agg(p.ip ORDER BY p.received_at DESC) FILTER (WHERE p.ip IS NOT NULL))[1]
           AS "address",
       count(*) AS "leases", max(p.received_at) AS "last lease"
FROM parsed_events p LEFT JOIN devices d ON d.mac = p.mac
WHERE p.kind = 'dhcp_ack' AND p.counted AND p.mac IS NOT NULL AND $__timeFilter(p.received_at)
  AND {ROUTER.format(col="p.router")} AND {DEVICE.format(col="p.mac")}
GROUP BY p.mac, d.hostname
ORDER BY "leases" DESC, 2
LIMIT 100""",
    "DHCP acknowledgements per client device in the time range, with its latest address.",
)

SYSTEM_ERRORS = table(
    "System errors by program and severity",
    f"""
SELECT {ROUTER_NAME.format(col="m.router")} AS "router",
       CASE WHEN m.program = '' THEN '(none)' ELSE m.program END AS "program",
       {SEVERITY_NAME.format(col="m.severity")} AS "severity",
       sum(m.errors) AS "system errors",
       sum(m.events) FILTER (WHERE m.severity <= 3) AS "err or worse"
FROM metrics_system_hourly m LEFT JOIN routers r ON r.address = m.router
WHERE {HOURS.format(col="m.hour")} AND {ROUTER.format(col="m.router")}
  AND (m.errors > 0 OR m.severity <= 3)
GROUP BY m.router, r.name, m.program, m.severity
ORDER BY 4 DESC, 5 DESC NULLS LAST, 1, 2""",
    "System errors (kernel faults, crashes, out-of-memory kills) and every event at severity "
    "err or worse, per router, program and severity.",
)

FIREWALL_TABLE = table(
    "Firewall drops by protocol and port",
    f"""
SELECT {ROUTER_NAME.format(col="f.router")} AS "router",
       CASE WHEN f.proto = '' THEN '(unknown)' ELSE f.proto END AS "protocol",
       CASE WHEN f.dport < 0 THEN NULL ELSE f.dport END AS "port", f.drops AS "drops"
FROM (
    -- Summed before the join: scans of random ports make a month hold hundreds of thousands
    -- of (router, protocol, port) keys, which the index of migration 0009 hands over in order.
    SELECT router, proto, dport, sum(drops) AS drops
    FROM metrics_firewall_hourly
    WHERE {HOURS.format(col="hour")} AND {ROUTER.format(col="router")}
    GROUP BY router, proto, dport
    ORDER BY 4 DESC, 1, 2, 3
    LIMIT 25
) f LEFT JOIN routers r ON r.address = f.router
ORDER BY "drops" DESC, 1, 2, 3""",
    "Packets the routers' firewalls dropped, by destination protocol and port.",
)

FIREWALL_OVER_TIME = timeseries(
    "Firewall drops per hour",
    f"""
SELECT hour AS "time", sum(drops) AS "drops"
FROM metrics_firewall_hourly
WHERE {HOURS.format(col="hour")} AND {ROUTER.format(col="router")}
GROUP BY hour
ORDER BY 1""",
    "Dropped packets per hour, all protocols.",
)

ROUTER_HEALTH = Dashboard(
    "logweave-router-health",
    "Router health",
    "WiFi, devices, WAN, DHCP, errors and firewall of the home routers that send to LogWeave.",
    [
        "WiFi",
        WIFI_BY_AP,
        WIFI_SCORE_OVER_TIME,
        "Devices",
        ACTIVE_DEVICES,
        ACTIVE_DEVICES_OVER_TIME,
        NEW_DEVICES,
        DEVICE_PROBLEMS,
        "WAN",
        WAN_UPTIME,
        WAN_TIMELINE,
        "Events",
        EVENTS_BY_SEVERITY,
        EVENTS_BY_PROGRAM,
        SYSTEM_ERRORS,
        "DHCP",
        DHCP,
        LEASES,
        "Firewall",
        FIREWALL_TABLE,
        FIREWALL_OVER_TIME,
    ],
    VARIABLES,
)


# --- Pipeline health -----------------------------------------------------------------------------

EVENTS_IN = timeseries(
    "Events in per hour",
    f"""
SELECT i.hour AS "time", {ROUTER_NAME.format(col="i.router")} AS "metric",
       sum(i.lines) AS "lines"
FROM metrics_ingest_hourly i LEFT JOIN routers r ON r.address = i.router
WHERE {HOURS.format(col="i.hour")} AND {ROUTER.format(col="i.router")}
GROUP BY i.hour, i.router, r.name
ORDER BY 1, 2""",
    "Lines stored in raw_logs per hour and router (dead letters are apart).",
    width=16,
)

NEWEST_EVENT_AGE = stat(
    "Newest event age",
    f"""
SELECT extract(epoch FROM now() - max(newest)) AS "newest event age"
FROM metrics_ingest_hourly
WHERE {ROUTER.format(col="router")}""",
    "Time since the newest line was stored. It grows when routers fall silent or the pipeline "
    "stalls.",
    width=8,
    unit="s",
    defaults={"thresholds": {"mode": "absolute", "steps": [
        {"color": "green", "value": None}, {"color": "orange", "value": 300},
        {"color": "red", "value": 900}]}},
)  # fmt: skip

DEAD_LETTERS = stat(
    "Dead letters",
    """
SELECT count(*) AS "dead letters" FROM dead_letters WHERE $__timeFilter(received_at)""",
    "Input that could not become an event in the time range (see the reasons beside).",
    width=6,
)

DEAD_LETTER_REASONS = table(
    "Dead-letter reasons",
    """
SELECT reason AS "reason", count(*) AS "dead letters", max(received_at) AS "latest",
       (array_agg(left(coalesce(payload_text, detail, ''), 200) ORDER BY received_at DESC))[1]
           AS "latest input"
FROM dead_letters
WHERE $__timeFilter(received_at)
GROUP BY reason
ORDER BY 2 DESC, 1""",
    "Why input was rejected, with the latest rejected input of each reason.",
    width=18,
)

PARSE_FAILURES = table(
    "Unparsed lines per router",
    f"""
SELECT {ROUTER_NAME.format(col="m.router")} AS "router", sum(m.unparsed) AS "unparsed",
       sum(m.events) AS "events",
       round(100.0 * sum(m.unparsed) / nullif(sum(m.events), 0), 2) AS "parse failure rate"
FROM metrics_system_hourly m LEFT JOIN routers r ON r.address = m.router
WHERE {HOURS.format(col="m.hour")} AND {ROUTER.format(col="m.router")}
GROUP BY m.router, r.name
ORDER BY 4 DESC NULLS LAST, 1""",
    "Events no parser recognised, per router: a high rate means a router dialect LogWeave "
    "does not read yet.",
    width=12,
)

CONSUMER_LAG = table(
    "Consumer lag",
    """
SELECT consumer AS "consumer", topic AS "topic",
       sum(end_offset - committed_offset) AS "lag", max(updated_at) AS "updated"
FROM consumer_progress
GROUP BY consumer, topic
ORDER BY 3 DESC NULLS LAST, 1, 2""",
    "Records each consumer still has to read (partition end minus committed offset) when it "
    "last committed; 'updated' says how old that figure is. It is the state now, not over the "
    "time range.",
    width=12,
)

PIPELINE_HEALTH = Dashboard(
    "logweave-pipeline-health",
    "Pipeline health",
    "Is LogWeave keeping up: lines in, rejects, unparsed lines, freshness and consumer lag.",
    [
        "Flow",
        EVENTS_IN,
        NEWEST_EVENT_AGE,
        "Rejects",
        DEAD_LETTERS,
        DEAD_LETTER_REASONS,
        "Parsing and consumers",
        PARSE_FAILURES,
        CONSUMER_LAG,
    ],
    VARIABLES[:1],
)

DASHBOARDS = {"router-health.json": ROUTER_HEALTH, "pipeline-health.json": PIPELINE_HEALTH}


# --- alert rules ---------------------------------------------------------------------------------


class Jinja(str):
    """A value written into the alert template unquoted: a Jinja expression."""


@dataclass
class AlertRule:
    uid: str
    title: str
    sql: str
    threshold: Jinja
    window_s: int
    summary: str
    for_: str = "0s"
    no_data: str = "OK"

    def to_json(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "title": self.title,
            "condition": "C",
            "data": [
                {
                    "refId": "A",
                    "relativeTimeRange": {"from": self.window_s, "to": 0},
                    "datasourceUid": Jinja("{{ grafana_datasource_uid | to_json }}"),
                    "model": {
                        "refId": "A",
                        "editorMode": "code",
                        "format": "table",
                        "rawQuery": True,
                        "rawSql": self.sql.strip(),
                    },
                },
                {
                    "refId": "C",
                    "datasourceUid": "__expr__",
                    "model": {
                        "refId": "C",
                        "type": "threshold",
                        "expression": "A",
                        "conditions": [{"evaluator": {"type": "gt", "params": [self.threshold]}}],
                    },
                },
            ],
            "noDataState": self.no_data,
            "execErrState": "Error",
            "for": self.for_,
            "annotations": {"summary": self.summary},
            "labels": {"source": "logweave"},
        }


ALERT_RULES = [
    AlertRule(
        "logweave-wan-down",
        "WAN down",
        """
SELECT DISTINCT ON (p.router) coalesce(r.name, p.router) AS router,
       CASE WHEN p.kind = 'wan_down' THEN extract(epoch FROM now() - p.received_at) / 60
            ELSE 0 END AS minutes_down
FROM parsed_events p LEFT JOIN routers r ON r.address = p.router
WHERE p.kind IN ('wan_up', 'wan_down') AND p.counted AND $__timeFilter(p.received_at)
ORDER BY p.router, p.received_at DESC, p.device_time DESC NULLS LAST, p.reported_at DESC""",
        Jinja("{{ grafana_alert_wan_down_minutes }}"),
        7 * 86400,
        "The WAN of {{ '{{' }} $labels.router {{ '}}' }} has been down for more than "
        "{{ grafana_alert_wan_down_minutes }} minutes.",
    ),
    AlertRule(
        "logweave-wifi-auth-failures",
        "WiFi authentication failures",
        """
SELECT coalesce(r.name, p.router) AS router, count(*) AS auth_failures
FROM parsed_events p LEFT JOIN routers r ON r.address = p.router
WHERE p.kind = 'wifi_auth_fail' AND p.counted AND $__timeFilter(p.received_at)
GROUP BY p.router, r.name""",
        Jinja("{{ grafana_alert_auth_failures }}"),
        600,
        "More than {{ grafana_alert_auth_failures }} WiFi authentication failures in 10 minutes "
        "on {{ '{{' }} $labels.router {{ '}}' }}: a wrong password, or someone guessing.",
    ),
    AlertRule(
        "logweave-dhcp-nak-storm",
        "DHCP NAK storm",
        """
SELECT coalesce(r.name, p.router) AS router, count(*) AS naks
FROM parsed_events p LEFT JOIN routers r ON r.address = p.router
WHERE p.kind = 'dhcp_nak' AND p.counted AND $__timeFilter(p.received_at)
GROUP BY p.router, r.name""",
        Jinja("{{ grafana_alert_dhcp_naks }}"),
        600,
        "More than {{ grafana_alert_dhcp_naks }} DHCP NAKs in 10 minutes on "
        "{{ '{{' }} $labels.router {{ '}}' }}: a client keeps asking for an address the "
        "router will not give, or a second DHCP server is on the network.",
    ),
    AlertRule(
        "logweave-new-device",
        "New device",
        """
SELECT mac, coalesce(hostname, '') AS hostname, coalesce(vendor, '') AS vendor, 1 AS new_device
FROM devices
WHERE $__timeFilter(first_seen)""",
        Jinja("0"),
        900,
        "A device LogWeave had never seen joined: {{ '{{' }} $labels.mac {{ '}}' }} "
        "{{ '{{' }} $labels.hostname {{ '}}' }} {{ '{{' }} $labels.vendor {{ '}}' }}.",
    ),
    AlertRule(
        "logweave-pipeline-stalled",
        "Pipeline stalled",
        """
SELECT extract(epoch FROM now() - max(newest)) / 60 AS minutes_since_newest_line
FROM metrics_ingest_hourly""",
        Jinja("{{ grafana_alert_stall_minutes }}"),
        600,
        "No line has reached raw_logs for more than {{ grafana_alert_stall_minutes }} minutes.",
        no_data="Alerting",
    ),
]


def alert_rules_yaml() -> str:
    header = (
        "{{ ansible_managed | comment }}\n"
        "#\n"
        "# LogWeave's alert rules, generated by `python -m logweave.dashboards`: edit that, not\n"
        "# this file. The thresholds, the folder and the data source are role variables; the\n"
        "# notification policy in logweave-contact-points.yaml sends every alert to the\n"
        "# contact point.\n"
        "# Reference: https://grafana.com/docs/grafana/latest/alerting/set-up/provision-alerting-"
        "resources/file-provisioning/\n"
    )
    document = {
        "apiVersion": 1,
        "groups": [
            {
                "orgId": 1,
                "name": "LogWeave",
                "folder": Jinja("{{ grafana_dashboards_folder | to_json }}"),
                "interval": "1m",
                "rules": [rule.to_json() for rule in ALERT_RULES],
            }
        ],
    }
    return header + "\n".join(_yaml(document, 0)) + "\n"


def _yaml(value: Any, indent: int) -> list[str]:
    """Block YAML for dicts, lists and scalars; multi-line strings as literal blocks."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            lines += _yaml_entry(f"{pad}{key}:", item, indent)
    elif isinstance(value, list):
        for item in value:
            entry = _yaml(item, indent + 2)
            if isinstance(item, dict | list) and entry:
                lines.append(f"{pad}- {entry[0].lstrip()}")
                lines += entry[1:]
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    return lines


def _yaml_entry(prefix: str, item: Any, indent: int) -> list[str]:
    if isinstance(item, dict | list) and item:
        return [prefix, *_yaml(item, indent + 2)]
    if isinstance(item, str) and "\n" in item:
        body = [" " * (indent + 2) + line if line else "" for line in item.split("\n")]
        return [f"{prefix} |-", *body]
    return [f"{prefix} {_scalar(item)}"]


def _scalar(value: Any) -> str:
    if isinstance(value, Jinja):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False)


# --- files ---------------------------------------------------------------------------------------


def generated(role: Path = ROLE) -> dict[Path, str]:
    """Each generated file under the grafana role, and the text it must hold."""
    files = {
        role / "files" / "dashboards" / name: json.dumps(board.to_json(), indent=2) + "\n"
        for name, board in DASHBOARDS.items()
    }
    files[role / "templates" / ALERT_TEMPLATE] = alert_rules_yaml()
    return files


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m logweave.dashboards", description=__doc__)
    parser.add_argument("--role", type=Path, default=ROLE, help="the grafana role's folder")
    parser.add_argument("--check", action="store_true", help="only say which files differ")
    args = parser.parse_args(argv)
    stale = []
    for path, text in generated(args.role).items():
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(text)
    verb = "differs" if args.check else "written"
    for path in stale:
        print(f"{path}: {verb}", file=sys.stderr)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
