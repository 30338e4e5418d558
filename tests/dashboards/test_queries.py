"""Every panel, variable and alert query, run as Grafana would run it, on real router events.

One database is loaded once for the module through the real pipeline: the corpus, each file from
a loopback address of its own (as tests/integration/test_corpus_e2e.py sends it), and six hours
of simulated home-network traffic from 127.0.0.1, all through rsyslog, the producer, Kafka and
both consumers. Each query is then expanded with logweave.grafana_sql and run by a login in the
read-only logweave_reader role, the role Grafana's data source uses.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg2
import pytest

from logweave.migrate import migrate
from logweave.simulate import generate
from tests.dashboards import provisioned
from tests.dashboards.provisioned import Query, Result, run, selection, shape_problems
from tests.dashboards.test_files import render_alerting
from tests.harness.rsyslog import Rsyslog
from tests.harness.services import Service
from tests.integration.helpers import free_port, unique_topics
from tests.integration.pipeline import Pipeline
from tests.integration.test_corpus_e2e import ZONE_FLAGS, send_corpus

pytestmark = pytest.mark.integration

ASUS = "127.0.0.10"  # asus-merlin.log: the corpus files are sent from 127.0.0.10 on, by name
NETGEAR = "127.0.0.17"
OPENWRT = "127.0.0.18"
TPLINK = "127.0.0.21"
SIMULATED = "127.0.0.1"


@dataclass
class Loaded:
    reader_dsn: str
    admin_dsn: str
    sent_from: datetime  # just before the first line was sent
    loaded_at: datetime  # once every line was in the database
    alert_rules: dict[str, Any]

    def run(self, query: Query, start: datetime, end: datetime, **chosen: Any) -> Result:
        conn = psycopg2.connect(self.reader_dsn)
        try:
            conn.set_session(readonly=True)
            with conn, conn.cursor() as cur:
                # A zone half an hour off UTC: no panel may depend on the session's zone.
                cur.execute("SET TIME ZONE 'America/St_Johns'")
                return run(
                    cur, query, provisioned.time_range(start, end, query), selection(**chosen)
                )
        finally:
            conn.close()

    def panel(self, title: str) -> Query:
        (query,) = [q for q in provisioned.panel_queries() if q.title == title]
        return query


@pytest.fixture(scope="module")
def loaded(kafka: Any, postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    suffix = f"dash{secrets.token_hex(3)}"
    admin_dsn = postgres.create_database(f"logweave_{suffix}")
    migrate(admin_dsn)
    database = f"logweave_{suffix}"
    writer_dsn = postgres.create_login(database, f"writer_{suffix}", "logweave_writer")
    reader_dsn = postgres.create_login(database, f"grafana_{suffix}", "logweave_reader")

    workdir = tmp_path_factory.mktemp("dashboard-services")
    started: list[Service] = []

    def services(module: str, args: list[str], env: dict[str, str] | None = None) -> Service:
        service = Service(module, args, workdir, {"LOGWEAVE_CONFIG": "/dev/null", **(env or {})})
        started.append(service)
        return service

    topic, dlq = unique_topics(kafka, suffix)
    pipeline = Pipeline(
        kafka, postgres, services, admin_dsn, writer_dsn, topic, dlq, free_port(), suffix
    )
    daemon = Rsyslog(tmp_path_factory.mktemp("dashboard-rsyslog"), pipeline.port)
    try:
        pipeline.start("producer")
        pipeline.start("raw")
        pipeline.start("metrics", extra=ZONE_FLAGS)
        daemon.start()
        sent_from = datetime.now(UTC)
        routers = send_corpus(daemon, sent_from)
        simulated = [line for _, line in generate(routers=3, clients=12, span=6 * 3600.0, seed=7)]
        daemon.send_tcp(simulated, source=SIMULATED)
        # Something that is not rsyslog's JSON, straight to the producer: a dead letter.
        with socket.create_connection(("127.0.0.1", pipeline.port), timeout=10) as sock:
            sock.sendall(b"this is not an event\n")

        lines = sum(len(r.delivered) for r in routers) + len(simulated)
        dead = sum(sum(r.dead.values()) for r in routers) + 1
        pipeline.wait_until("SELECT count(*) FROM raw_logs", lines, timeout=180)
        pipeline.wait_until("SELECT count(*) FROM dead_letters", dead)
        pipeline.wait_until("SELECT count(*) FROM parsed_events", lines, timeout=180)
        loaded_at = datetime.now(UTC)
        for service in started:
            service.terminate()
        rules = render_alerting(tmp_path_factory.mktemp("dashboard-alerting"), {})
        yield Loaded(reader_dsn, admin_dsn, sent_from, loaded_at, rules["alert-rules.yaml"])
    finally:
        for service in started:
            service.kill()
        daemon.stop()


def everything(loaded: Loaded) -> list[Query]:
    return [
        *provisioned.panel_queries(),
        *provisioned.variable_queries(),
        *provisioned.alert_queries(loaded.alert_rules),
    ]


def whole_load(loaded: Loaded, query: Query) -> tuple[datetime, datetime]:
    if query.window is not None:  # an alert looks back from now
        return datetime.now(UTC) - query.window, datetime.now(UTC)
    return loaded.sent_from - timedelta(hours=1), loaded.loaded_at + timedelta(minutes=1)


def test_every_query_returns_what_its_panel_draws_for_all_routers(loaded: Loaded) -> None:
    problems = {}
    empty = []
    for query in everything(loaded):
        result = loaded.run(query, *whole_load(loaded, query))
        if found := shape_problems(query.kind, result):
            problems[query.name] = found
        if not result.rows:
            empty.append(query.name)
    assert problems == {}
    # The pipeline-stalled and WAN rules find their rows; the others fire on bursts that the
    # load does not have within their window, except the new devices just seen.
    quiet_alerts = {"alerts / WiFi authentication failures", "alerts / DHCP NAK storm"}
    assert set(empty) <= quiet_alerts, empty


def test_every_query_runs_for_one_router_and_one_device(loaded: Loaded) -> None:
    device = "02:00:00:0e:00:04"
    problems = {}
    for query in everything(loaded):
        result = loaded.run(query, *whole_load(loaded, query), routers=[ASUS], devices=[device])
        if found := shape_problems(query.kind, result):
            problems[query.name] = found
    assert problems == {}


def test_the_queries_see_only_what_the_selected_router_sent(loaded: Loaded) -> None:
    panel = loaded.panel("Active devices")
    everyone = loaded.run(panel, *whole_load(loaded, panel))
    asus = loaded.run(panel, *whole_load(loaded, panel), routers=[ASUS])
    assert everyone.rows[0][0] > asus.rows[0][0] == 8


# --- values worked out by hand from the corpus lines ----------------------------------------------


def hand_range(loaded: Loaded) -> tuple[datetime, datetime]:
    return loaded.sent_from - timedelta(seconds=5), loaded.loaded_at + timedelta(seconds=5)


def test_wifi_health_of_the_asus_router_per_access_point_as_worked_out_by_hand(
    loaded: Loaded,
) -> None:
    # asus-merlin.log, every WiFi line (wlceventd), by interface:
    #   eth1: line 1 "Assoc 02:..:0E:00:01", line 3 "Assoc 02:..:0E:00:02", line 5 "Disassoc
    #         02:..:0E:00:03"; line 2 is an "Auth" step, not an association
    #         -> 2 assoc, 1 disassoc: 100 * 2 / (2 + 0 + 0 + max(1 - 2, 0)) = 100.0
    #   eth2: line 8 "Deauth_ind"                -> 100 * 0 / (0 + 0 + 1 + 0) = 0.0
    #   eth3: lines 6 and 7 "Deauth_ind"         -> 100 * 0 / (0 + 0 + 2 + 0) = 0.0
    #   eth5: line 10 "Assoc", 11 "Disassoc", 12 "Deauth_ind" (MACs removed)
    #         -> 100 * 1 / (1 + 0 + 1 + max(1 - 1, 0)) = 50.0
    # No line names a band.
    result = loaded.run(
        loaded.panel("WiFi health per access point and band"), *hand_range(loaded), routers=[ASUS]
    )
    got = {
        row["access point"]: (
            row["associations"], row["auth failures"], row["deauths"],
            row["disassociations"], row["band"], float(row["health score"]),
        )
        for row in result.as_dicts()
    }  # fmt: skip
    assert got == {
        "eth1": (2, 0, 0, 1, "", 100.0),
        "eth2": (0, 0, 1, 0, "", 0.0),
        "eth3": (0, 0, 2, 0, "", 0.0),
        "eth5": (1, 0, 1, 1, "", 50.0),
    }


def test_wifi_health_score_of_the_asus_router_over_the_hour_as_worked_out_by_hand(
    loaded: Loaded,
) -> None:
    # The whole router (all four interfaces above): 3 assoc, 0 auth failures, 4 deauths,
    # 2 disassoc -> 100 * 3 / (3 + 0 + 4 + max(2 - 3, 0)) = 300 / 7 = 42.857... -> 42.9.
    # The corpus arrives within a second, so within one or two clock hours.
    result = loaded.run(
        loaded.panel("WiFi health score per hour"), *hand_range(loaded), routers=[ASUS]
    )
    if len(result.rows) == 1:
        assert [float(v) for v in result.of("score")] == [42.9]
    else:  # the second it arrived in straddled an hour: each hour has a score of its own
        assert len(result.rows) == 2
        assert all(0 <= float(v) <= 100 for v in result.of("score"))


def test_active_devices_of_the_asus_router_as_worked_out_by_hand(loaded: Loaded) -> None:
    # asus-merlin.log, the client MACs its events name (each event once; line 32 repeats
    # line 31 and names no MAC anyway):
    #   02:00:00:0e:00:01 (line 1), 02:00:00:0e:00:02 (lines 2, 3), 02:00:00:0e:00:03 (5),
    #   02:00:00:0e:00:04 (6, 7), 02:00:00:0f:00:01 (8), 02:00:00:10:00:01 (13, 14),
    #   02:00:00:11:00:01 (24, 25), 02:00:00:12:00:01 (33-36): 8 devices.
    result = loaded.run(loaded.panel("Active devices"), *hand_range(loaded), routers=[ASUS])
    assert result.rows == [(8,)]
    over_time = loaded.run(
        loaded.panel("Active devices over time"), *hand_range(loaded), routers=[ASUS]
    )
    # Each interval counts its own devices; together they are the same eight at most.
    assert 1 <= max(over_time.of("devices")) <= 8


def test_wan_uptime_per_router_as_worked_out_by_hand(loaded: Loaded) -> None:
    # The WAN events each router's lines carry, in order (the state before the first is
    # unknown and left out of the share):
    #   asus-merlin: 27 link DOWN, 30 link Up, 31 wan0-stopping (32 repeats it) -> down last
    #   netgear:     4 WAN up                                                  -> up last
    #   openwrt:     2 up, 22 down, 46 down, 62 up, 104 up (105/106 repeat it), 108 down,
    #                110 down                                                  -> down last
    #   tplink:      7 up, 14 up, 22 down (24 repeats it), 27 up               -> up last
    # A router's lines arrive within a second, and the range runs an hour past them, so the
    # last state fills all but a second of the known time: 0 % or 100 % when rounded.
    start = loaded.sent_from - timedelta(seconds=1)
    result = loaded.run(
        loaded.panel("WAN uptime"),
        start,
        start + timedelta(hours=1),
        routers=[ASUS, NETGEAR, OPENWRT, TPLINK],
    )
    got = {row["router"]: round(float(row["uptime"])) for row in result.as_dicts()}
    assert got == {ASUS: 0, NETGEAR: 100, OPENWRT: 0, TPLINK: 100}


def test_the_wan_down_alert_finds_the_routers_whose_wan_is_down_now(loaded: Loaded) -> None:
    # As above: asus-merlin and openwrt ended down, netgear and tplink up.
    (rule,) = [q for q in provisioned.alert_queries(loaded.alert_rules) if q.title == "WAN down"]
    result = loaded.run(rule, *whole_load(loaded, rule))
    minutes = {row["router"]: row["minutes_down"] for row in result.as_dicts()}
    corpus = {r: float(minutes[r]) for r in (ASUS, NETGEAR, OPENWRT, TPLINK)}
    assert {r for r, m in corpus.items() if m > 0} == {ASUS, OPENWRT}
    assert {r for r, m in corpus.items() if m == 0} == {NETGEAR, TPLINK}


def test_device_problem_ranking_of_the_asus_router_as_worked_out_by_hand(loaded: Loaded) -> None:
    # asus-merlin.log: lines 6 and 7 deauthenticate 02:00:00:0E:00:04, line 8 02:00:00:0F:00:01;
    # line 12's deauth names no MAC, and no line of this router is an auth failure or a NAK.
    result = loaded.run(loaded.panel("Device problem ranking"), *hand_range(loaded), routers=[ASUS])
    got = [(r["MAC"], r["problem score"], r["what went wrong"]) for r in result.as_dicts()]
    assert got == [
        ("02:00:00:0e:00:04", 2, "2 deauths"),
        ("02:00:00:0f:00:01", 1, "1 deauths"),
    ]


def test_the_reader_role_cannot_change_anything(loaded: Loaded) -> None:
    conn = psycopg2.connect(loaded.reader_dsn)
    try:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege), conn, conn.cursor() as cur:
            cur.execute("DELETE FROM metrics_ingest_hourly")
    finally:
        conn.close()
