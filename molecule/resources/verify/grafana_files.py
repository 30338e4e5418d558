"""Check Grafana's provisioning and dashboard files the way Grafana reads them.

Reads on stdin a JSON object {"provisioning_dir": ..., "files": {path: base64 content}} holding
every file the host has under the provisioning folder and under each dashboard provider's path,
and prints one JSON summary. Exits 1, naming each file and what is wrong with it, when a file
does not parse, lacks what Grafana needs, or refers to a data source or contact point that is not
provisioned. Nothing here knows LogWeave's dashboards or alert rules by name: whatever the role
provisions is checked.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

import yaml

# Data source uids Grafana resolves itself: expressions, the built-in, mixed and dashboard
# sources. A uid starting with "$" is a template variable, resolved when the dashboard loads.
BUILT_IN_UIDS = {"__expr__", "grafana", "-- Grafana --", "-- Mixed --", "-- Dashboard --"}

Documents = dict[PurePosixPath, Any]


def main() -> int:
    request = json.load(sys.stdin)
    provisioning_dir = PurePosixPath(request["provisioning_dir"])
    problems: list[str] = []

    documents: Documents = {}
    for name, content in sorted(request["files"].items()):
        path = PurePosixPath(name)
        try:
            documents[path] = parse(path, base64.b64decode(content).decode("utf-8"))
        except (ValueError, yaml.YAMLError) as error:
            problems.append(f"{path}: {error}")

    provisioning = {p: d for p, d in documents.items() if p.is_relative_to(provisioning_dir)}
    dashboards = {p: d for p, d in documents.items() if not p.is_relative_to(provisioning_dir)}
    by_kind = group_provisioning(provisioning_dir, provisioning, problems)
    datasource_uids = provisioned_datasources(by_kind["datasources"], problems)
    dashboard_uids = check_dashboards(dashboards, datasource_uids, problems)
    rule_uids, contact_points = check_alerting(by_kind["alerting"], datasource_uids, problems)

    summary = {
        "files checked": len(documents),
        "provisioning files": [str(p) for p in sorted(provisioning)],
        "data sources": sorted(datasource_uids),
        "dashboard provider paths": provider_paths(by_kind["dashboards"]),
        "dashboards": dashboard_uids,
        "alert rules": rule_uids,
        "contact points": len(contact_points),
        "problems": problems,
    }
    json.dump(summary, sys.stdout)
    return 1 if problems else 0


def parse(path: PurePosixPath, text: str) -> Any:
    """Grafana reads .json as JSON and .yaml or .yml as YAML; it skips any other file."""
    if path.suffix == ".json":
        return json.loads(text)
    if path.suffix in (".yaml", ".yml"):
        return yaml.safe_load(text)
    raise ValueError("Grafana reads only .json, .yaml and .yml files here; it ignores this one")


def group_provisioning(
    provisioning_dir: PurePosixPath, provisioning: Documents, problems: list[str]
) -> dict[str, Documents]:
    """Provisioning files by their folder (datasources, dashboards, alerting, ...)."""
    by_kind: dict[str, Documents] = {"datasources": {}, "dashboards": {}, "alerting": {}}
    for path, document in provisioning.items():
        if not isinstance(document, dict) or document.get("apiVersion") != 1:
            problems.append(f"{path}: not a provisioning file (a mapping with apiVersion: 1)")
            continue
        kind = path.relative_to(provisioning_dir).parts[0]
        by_kind.setdefault(kind, {})[path] = document
    for kind in ("datasources", "dashboards"):
        if not by_kind[kind]:
            problems.append(f"{provisioning_dir / kind}: no provisioning file")
    return by_kind


def provisioned_datasources(files: Documents, problems: list[str]) -> set[str]:
    uids = set()
    for path, document in files.items():
        for source in document.get("datasources") or []:
            if not source.get("uid"):
                problems.append(f"{path}: data source {source.get('name')!r} has no uid")
            uids.add(str(source.get("uid")))
    return uids


def provider_paths(files: Documents) -> list[str]:
    return sorted(
        provider["options"]["path"]
        for document in files.values()
        for provider in document.get("providers") or []
        if provider.get("type") == "file"
    )


def check_dashboards(
    dashboards: Documents, datasource_uids: set[str], problems: list[str]
) -> list[str]:
    """Each dashboard has a title and a uid of its own and queries provisioned data sources."""
    seen: dict[str, PurePosixPath] = {}
    for path, dashboard in dashboards.items():
        if (
            not isinstance(dashboard, dict)
            or not dashboard.get("title")
            or not dashboard.get("uid")
        ):
            problems.append(f"{path}: a dashboard needs a title and a uid")
            continue
        uid = dashboard["uid"]
        if uid in seen:
            problems.append(f"{path}: uid {uid} is also the uid of {seen[uid]}")
        seen[uid] = path
        for source in sorted(set(datasource_references(dashboard)) - datasource_uids):
            problems.append(f"{path}: refers to data source {source!r}, which is not provisioned")
    return sorted(seen)


def datasource_references(node: Any) -> Iterator[str]:
    """Every data source uid that a dashboard's panels, targets and variables name."""
    if isinstance(node, dict):
        source = node.get("datasource")
        if isinstance(source, dict) and not is_built_in(source.get("uid")):
            yield str(source.get("uid"))
        for value in node.values():
            yield from datasource_references(value)
    elif isinstance(node, list):
        for value in node:
            yield from datasource_references(value)


def check_alerting(
    files: Documents, datasource_uids: set[str], problems: list[str]
) -> tuple[list[str], set[str]]:
    """Rules query provisioned data sources; policies send to provisioned contact points."""
    rule_uids: list[str] = []
    contact_points: set[str] = set()
    receivers: list[tuple[PurePosixPath, str]] = []
    for path, document in files.items():
        for group in document.get("groups") or []:
            for rule in group.get("rules") or []:
                rule_uids.append(str(rule.get("uid")))
                check_rule(path, rule, datasource_uids, problems)
        contact_points.update(point.get("name") for point in document.get("contactPoints") or [])
        receivers.extend(
            (path, policy.get("receiver")) for policy in document.get("policies") or []
        )
    for path, receiver in receivers:
        if receiver not in contact_points:
            problems.append(f"{path}: the policy sends to {receiver!r}, which is no contact point")
    return sorted(rule_uids), contact_points


def check_rule(
    path: PurePosixPath, rule: dict[str, Any], datasource_uids: set[str], problems: list[str]
) -> None:
    name = rule.get("uid") or rule.get("title")
    if not rule.get("uid") or not rule.get("title") or not rule.get("condition"):
        problems.append(f"{path}: rule {name!r} lacks a uid, title or condition")
    ref_ids = {query.get("refId") for query in rule.get("data") or []}
    if rule.get("condition") not in ref_ids:
        problems.append(f"{path}: rule {name!r} has no query {rule.get('condition')!r} to alert on")
    for query in rule.get("data") or []:
        uid = query.get("datasourceUid")
        if not is_built_in(uid) and uid not in datasource_uids:
            problems.append(f"{path}: rule {name!r} queries data source {uid!r}, not provisioned")


def is_built_in(uid: object) -> bool:
    return isinstance(uid, str) and (uid in BUILT_IN_UIDS or uid.startswith("$"))


if __name__ == "__main__":
    sys.exit(main())
