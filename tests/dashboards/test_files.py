"""The provisioned files: generated, not edited; shaped as Grafana's own models say.

The structure check reads each file with grafana-foundation-sdk's models (generated from
Grafana's schema) and writes it back: a key those models do not know, or a panel option or
field option under the wrong name, is dropped on the way, so the file must come back with every
key and value it had. The alert rules and the contact point are rendered by Ansible's template
module with the role's defaults first, as the role writes them on a host.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Self

import pytest
import yaml
from grafana_foundation_sdk.cog import runtime
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.cog.variants import Dataquery
from grafana_foundation_sdk.models import alerting, dashboard

from logweave import dashboards

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "grafana"
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")


class SqlQuery(Dataquery):
    """The PostgreSQL data source's query, with exactly the keys its query editor writes."""

    KEYS = ("refId", "datasource", "editorMode", "format", "rawQuery", "rawSql", "hide")

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = {key: data[key] for key in self.KEYS if key in data}

    def to_json(self) -> dict[str, object]:
        return dict(self.data)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(data)


@pytest.fixture(scope="module", autouse=True)
def sdk() -> None:
    register_default_plugins()
    runtime.register_dataquery_variant(
        runtime.DataqueryConfig(dashboards.DATASOURCE["type"], SqlQuery.from_json)
    )


def lost(original: Any, read_back: Any, path: str = "") -> list[str]:
    """Where ``read_back`` lacks or changed something of ``original`` (it may add defaults)."""
    if isinstance(original, dict):
        if not isinstance(read_back, dict):
            return [f"{path}: {read_back!r}"]
        return [
            problem
            for key, value in original.items()
            for problem in (
                lost(value, read_back[key], f"{path}.{key}")
                if key in read_back
                else [f"{path}.{key}: dropped"]
            )
        ]
    if isinstance(original, list):
        if not isinstance(read_back, list) or len(read_back) != len(original):
            return [f"{path}: {read_back!r}"]
        return [
            p
            for n, (a, b) in enumerate(zip(original, read_back, strict=True))
            for p in lost(a, b, f"{path}[{n}]")
        ]
    return [] if original == read_back else [f"{path}: {original!r} came back as {read_back!r}"]


def through_sdk(model: Any, data: dict[str, Any]) -> Any:
    return json.loads(json.dumps(model.from_json(data), cls=JSONEncoder))


def test_the_checked_in_files_are_what_the_generator_writes() -> None:
    for path, text in dashboards.generated(ROLE).items():
        assert path.exists(), f"{path} is missing: run python -m logweave.dashboards"
        assert path.read_text() == text, f"{path} differs: run python -m logweave.dashboards"


def test_the_generator_check_mode_reports_a_stale_file(tmp_path: Path) -> None:
    (tmp_path / "files" / "dashboards").mkdir(parents=True)
    (tmp_path / "templates").mkdir()
    assert dashboards.main(["--role", str(tmp_path), "--check"]) == 1
    assert dashboards.main(["--role", str(tmp_path)]) == 0
    assert dashboards.main(["--role", str(tmp_path), "--check"]) == 0
    (tmp_path / "files" / "dashboards" / "router-health.json").write_text("{}\n")
    assert dashboards.main(["--role", str(tmp_path), "--check"]) == 1


@pytest.mark.parametrize("name", sorted(dashboards.DASHBOARDS))
def test_each_dashboard_reads_back_whole_through_grafanas_models(name: str) -> None:
    data = json.loads((ROLE / "files" / "dashboards" / name).read_text())

    assert lost(data, through_sdk(dashboard.Dashboard, data)) == []


@pytest.mark.parametrize("name", sorted(dashboards.DASHBOARDS))
def test_each_panel_is_a_builtin_type_reading_the_logweave_datasource(name: str) -> None:
    data = json.loads((ROLE / "files" / "dashboards" / name).read_text())
    builtin = set(runtime.Runtime().panelcfg_variants) | {"row"}
    panels = [p for p in data["panels"] if p["type"] != "row"]

    assert {p["type"] for p in data["panels"]} <= builtin
    assert len({p["id"] for p in data["panels"]}) == len(data["panels"])
    for panel in panels:
        assert panel["datasource"] == dashboards.DATASOURCE, panel["title"]
        assert panel["description"], panel["title"]
        (target,) = panel["targets"]
        assert target["datasource"] == dashboards.DATASOURCE, panel["title"]
        expected = "time_series" if panel["type"] in ("timeseries", "state-timeline") else "table"
        assert target["format"] == expected, panel["title"]
    for variable in data["templating"]["list"]:
        assert variable["datasource"] == dashboards.DATASOURCE
        assert variable["allValue"] == dashboards.ALL_VALUE


def test_no_two_panels_overlap_and_each_fits_the_grid() -> None:
    for board in dashboards.DASHBOARDS.values():
        cells: set[tuple[int, int]] = set()
        for panel in board.to_json()["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] + pos["w"] <= 24, panel["title"]
            mine = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                    for y in range(pos["y"], pos["y"] + pos["h"])}  # fmt: skip
            assert not mine & cells, panel["title"]
            cells |= mine


def test_the_router_health_dashboard_has_the_router_and_device_variables() -> None:
    variables = dashboards.ROUTER_HEALTH.to_json()["templating"]["list"]
    assert [(v["name"], v["type"], v["multi"], v["includeAll"]) for v in variables] == [
        ("router", "query", True, True),
        ("device", "query", True, True),
    ]


# --- alerting -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def alerting_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return render_alerting(tmp_path_factory.mktemp("alerting"), {})


def render_alerting(out: Path, extra_vars: dict[str, Any]) -> dict[str, Any]:
    """The two alerting templates as the role writes them, parsed; rendered by Ansible."""
    if not ANSIBLE_PLAYBOOK.exists():
        pytest.fail("ansible-playbook is not in the venv: make venv")
    tasks = [
        {
            "name": f"Render {name}",
            "ansible.builtin.template": {
                "src": str(ROLE / "templates" / f"{name}.j2"),
                "dest": str(out / name),
                "mode": "0644",
            },
        }
        for name in ("alert-rules.yaml", "contact-points.yaml")
    ]
    play = [
        {
            "name": "Render the alerting templates",
            "hosts": "localhost",
            "gather_facts": False,
            "vars_files": [str(ROLE / "defaults" / "main.yml"), str(ROLE / "vars" / "main.yml")],
            "tasks": tasks,
        }
    ]
    (out / "play.yml").write_text(yaml.safe_dump(play))
    command = [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-c", "local", str(out / "play.yml")]
    done = subprocess.run(
        [*command, "-e", json.dumps(extra_vars)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=out,
        env={
            "ANSIBLE_LOCAL_TEMP": str(out / "tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "PATH": "/usr/bin:/bin",
        },
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return {
        name: yaml.safe_load((out / name).read_text())
        for name in ("alert-rules.yaml", "contact-points.yaml")
    }


def test_the_alert_rules_read_back_whole_through_grafanas_models(
    alerting_files: dict[str, Any],
) -> None:
    (group,) = alerting_files["alert-rules.yaml"]["groups"]
    assert (group["name"], group["folder"], group["interval"]) == ("LogWeave", "LogWeave", "1m")
    titles = [rule["title"] for rule in group["rules"]]
    assert titles == [
        "WAN down",
        "WiFi authentication failures",
        "DHCP NAK storm",
        "New device",
        "Pipeline stalled",
    ]
    for rule in group["rules"]:
        assert lost(rule, through_sdk(alerting.Rule, rule)) == [], rule["title"]
        assert rule["condition"] in {query["refId"] for query in rule["data"]}
        sql, threshold = rule["data"]
        assert sql["datasourceUid"] == "logweave-postgres"
        assert threshold["datasourceUid"] == "__expr__"
        assert threshold["model"]["expression"] == sql["refId"]


def test_the_thresholds_are_the_role_variables(tmp_path: Path) -> None:
    files = render_alerting(
        tmp_path,
        {
            "grafana_alert_wan_down_minutes": 7,
            "grafana_alert_auth_failures": 11,
            "grafana_alert_dhcp_naks": 3,
            "grafana_alert_stall_minutes": 20,
            "grafana_datasource_uid": "elsewhere",
        },
    )
    (group,) = files["alert-rules.yaml"]["groups"]
    given = {
        rule["uid"]: rule["data"][1]["model"]["conditions"][0]["evaluator"]["params"]
        for rule in group["rules"]
    }
    assert given == {
        "logweave-wan-down": [7],
        "logweave-wifi-auth-failures": [11],
        "logweave-dhcp-nak-storm": [3],
        "logweave-new-device": [0],
        "logweave-pipeline-stalled": [20],
    }
    assert {rule["data"][0]["datasourceUid"] for rule in group["rules"]} == {"elsewhere"}
    wan = group["rules"][0]["annotations"]["summary"]
    assert wan == ("The WAN of {{ $labels.router }} has been down for more than 7 minutes.")


def test_the_contact_point_is_the_role_variable_and_the_policy_routes_to_it(
    alerting_files: dict[str, Any],
) -> None:
    provisioned = alerting_files["contact-points.yaml"]
    (contact,) = provisioned["contactPoints"]
    (receiver,) = contact["receivers"]
    assert contact["name"] == "LogWeave operator"
    assert (receiver["type"], receiver["settings"]) == ("email", {"addresses": "root@localhost"})
    assert lost(receiver, through_sdk(alerting.ContactPoint, receiver)) == []
    (policy,) = provisioned["policies"]
    assert policy["receiver"] == contact["name"]
    # orgId belongs to the provisioning file, around the policy itself.
    tree = {key: value for key, value in policy.items() if key != "orgId"}
    assert lost(tree, through_sdk(alerting.NotificationPolicy, tree)) == []
