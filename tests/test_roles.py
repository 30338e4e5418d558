"""The Ansible roles: documented inputs, refused bad input, and what their templates render.

No server is contacted and nothing is installed. Every ansible-playbook run here targets this
machine's localhost with connection=local and either stops at the role's argument validation or
preflight assertions (which change nothing, in check mode and with tags that select no other
task), or only renders templates into the test's tmp dir.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from logweave import config

REPO = Path(__file__).resolve().parent.parent
ROLES = ["grafana", "kafka", "logweave", "postgres", "rsyslog"]
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")
SERVICES = ["logweave-producer", "logweave-consumer-raw", "logweave-consumer-metrics"]
RUN_TIMEOUT_S = 180


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def role_defaults(role: str) -> dict[str, Any]:
    defaults = load_yaml(REPO / "roles" / role / "defaults" / "main.yml")
    assert isinstance(defaults, dict)
    return defaults


def role_spec(role: str, entry_point: str = "main") -> dict[str, Any]:
    specs = load_yaml(REPO / "roles" / role / "meta" / "argument_specs.yml")
    options = specs["argument_specs"][entry_point]["options"]
    assert isinstance(options, dict)
    return options


def run_playbook(
    tmp_path: Path, play: dict[str, Any], *args: str
) -> subprocess.CompletedProcess[str]:
    """ansible-playbook on one play against localhost (connection=local), from the repository."""
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
    )
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
    }
    return subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", str(inventory), str(playbook), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def role_play(role: str, variables: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": f"Validate the {role} role's input",
        "hosts": "localhost",
        "gather_facts": False,
        "roles": [{"role": role, "vars": variables}],
    }


# --- Documented inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_in_the_argument_spec_with_the_same_value(role: str) -> None:
    defaults = role_defaults(role)
    spec = role_spec(role)

    assert sorted(defaults) == sorted(spec)
    for name, value in defaults.items():
        assert spec[name].get("default") == value, name


@pytest.mark.parametrize("role", ROLES)
def test_every_option_has_a_type_and_a_one_line_description(role: str) -> None:
    for name, option in role_spec(role).items():
        assert option.get("type"), name
        description = option.get("description")
        assert isinstance(description, str), name
        assert description and "\n" not in description.strip(), name


@pytest.mark.parametrize("role", ROLES)
def test_every_variable_of_the_role_carries_its_prefix(role: str) -> None:
    prefix = f"{role}_"
    assert [name for name in role_defaults(role) if not name.startswith(prefix)] == []
    internal = load_yaml(REPO / "roles" / role / "vars" / "main.yml")
    assert [name for name in internal if not name.startswith(f"_{prefix}")] == []


def test_the_memberships_entry_point_documents_its_variables_like_main() -> None:
    main = role_spec("postgres")
    memberships = role_spec("postgres", "memberships")

    assert set(memberships) <= set(main)
    for name, option in memberships.items():
        assert option == main[name], name


def test_the_roles_agree_on_the_shared_defaults() -> None:
    postgres = role_defaults("postgres")
    logweave = role_defaults("logweave")
    grafana = role_defaults("grafana")
    rsyslog = role_defaults("rsyslog")
    kafka = role_defaults("kafka")

    secrets_dirs = {
        postgres["postgres_secrets_dir"],
        logweave["logweave_secrets_dir"],
        grafana["grafana_secrets_dir"],
    }
    assert secrets_dirs == {"/var/lib/logweave-secrets"}
    assert logweave["logweave_postgres_user"] == postgres["postgres_logweave_user"]
    assert grafana["grafana_postgres_user"] == postgres["postgres_grafana_user"]
    assert logweave["logweave_postgres_port"] == postgres["postgres_port"]
    assert grafana["grafana_postgres_port"] == postgres["postgres_port"]
    assert logweave["logweave_postgres_database"] == postgres["postgres_database"]
    assert grafana["grafana_postgres_database"] == postgres["postgres_database"]
    producer = f"{rsyslog['rsyslog_forward_host']}:{rsyslog['rsyslog_forward_port']}"
    assert logweave["logweave_producer_listen"] == producer
    assert logweave["logweave_kafka_bootstrap"] == "{}:{}".format(
        kafka["kafka_listen_address"], kafka["kafka_port"]
    )


# --- Bad input is refused by name ----------------------------------------------------------------


def refusal(tmp_path: Path, role: str, variables: dict[str, Any], *tags: str) -> str:
    """Run the role in check mode with only ``tags`` selected; return the failure's output.

    Argument validation is tagged "always", so it runs whatever the tags; the role's own task
    files are tagged by step, so a tag that no task carries runs nothing else at all.
    """
    result = run_playbook(
        tmp_path,
        role_play(role, variables),
        "--check",
        "--tags",
        ",".join(tags or ("nothing_but_validation",)),
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert re.search(r"changed=0\b", output), output
    return output


@pytest.mark.parametrize(
    ("role", "variables", "named"),
    [
        ("kafka", {"kafka_heap_mb": "a lot"}, "kafka_heap_mb"),
        ("kafka", {"kafka_log_level": "LOUD"}, "kafka_log_level"),
        ("postgres", {"postgres_port": "five-four-three-two"}, "postgres_port"),
        (
            "postgres",
            {"postgres_hba_entries": [{"type": "host", "address": "127.0.0.1/32"}]},
            "postgres_hba_entries",
        ),
        ("logweave", {"logweave_watchdog_sec": "soon"}, "logweave_watchdog_sec"),
        ("logweave", {"logweave_log_level": "chatty"}, "logweave_log_level"),
        ("grafana", {"grafana_install_method": "snap"}, "grafana_install_method"),
        ("grafana", {"grafana_port": "http"}, "grafana_port"),
        ("rsyslog", {"rsyslog_syslog_port": "syslog"}, "rsyslog_syslog_port"),
        (
            "rsyslog",
            {"rsyslog_allowed_senders": {"router": "192.0.2.1"}},
            "rsyslog_allowed_senders",
        ),
    ],
)
def test_a_wrongly_typed_variable_is_refused_by_its_name(
    tmp_path: Path, role: str, variables: dict[str, Any], named: str
) -> None:
    output = refusal(tmp_path, role, variables)

    assert "Validating arguments against arg spec" in output
    assert named in output


@pytest.mark.parametrize(
    ("role", "variables", "message"),
    [
        ("kafka", {"kafka_heap_mb": 128}, "kafka_heap_mb is 128: Kafka needs at least 256"),
        (
            "kafka",
            {"kafka_local_archive": "/nonexistent/kafka_2.13-4.4.0.tgz"},
            "kafka_local_archive: no such file on the controller",
        ),
        ("kafka", {"kafka_archive_checksum": "md5:abc"}, "kafka_archive_checksum must read"),
        (
            "rsyslog",
            {"rsyslog_allowed_senders": ["192.0.2.0/33"]},
            'rsyslog_allowed_senders: "192.0.2.0/33" is not an IPv4 network',
        ),
        (
            "grafana",
            {"grafana_install_method": "deb"},
            "grafana_install_method is deb, so grafana_local_deb must name a .deb file",
        ),
        ("grafana", {"grafana_admin_password": "pa$$word"}, "grafana_admin_password must not"),
        ("logweave", {"logweave_producer_listen": "10514"}, "logweave_producer_listen must be"),
        ("postgres", {"postgres_grafana_user": "logweave"}, "postgres_logweave_user and"),
    ],
)
def test_preflight_names_the_variable_to_fix(
    tmp_path: Path, role: str, variables: dict[str, Any], message: str
) -> None:
    output = refusal(tmp_path, role, variables, f"{role}_preflight")

    assert message in " ".join(output.split())


@pytest.mark.parametrize("role", ROLES)
def test_the_defaults_pass_validation_and_preflight(tmp_path: Path, role: str) -> None:
    result = run_playbook(tmp_path, role_play(role, {}), "--check", "--tags", f"{role}_preflight")

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"failed=0\b", output), output
    assert re.search(r"changed=0\b", output), output


# --- Rendered templates ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every role template rendered with the role's defaults, by Ansible's template module."""
    out = tmp_path_factory.mktemp("rendered")

    def files(role: str) -> list[str]:
        return [str(REPO / "roles" / role / part / "main.yml") for part in ("defaults", "vars")]

    def render(role: str, template: str, dest: str) -> dict[str, Any]:
        return {
            "name": f"Render {role}/{template}",
            "ansible.builtin.template": {
                "src": str(REPO / "roles" / role / "templates" / template),
                "dest": str(out / dest),
                "mode": "0644",
            },
        }

    tasks = [
        {
            "name": "Render the LogWeave units",
            "ansible.builtin.template": {
                "src": str(REPO / "roles/logweave/templates/logweave.service.j2"),
                "dest": str(out / "{{ item.name }}.service"),
                "mode": "0644",
            },
            "loop": "{{ _logweave_services }}",
        },
        render("logweave", "logweave.toml.j2", "logweave.toml"),
        render("kafka", "kafka.service.j2", "kafka.service"),
        render("kafka", "server.properties.j2", "server.properties"),
        render("kafka", "log4j2.yaml.j2", "log4j2.yaml"),
        render("postgres", "pg_hba.conf.j2", "pg_hba.conf"),
        render("postgres", "logweave.conf.j2", "postgresql-logweave.conf"),
        render("grafana", "grafana.ini.j2", "grafana.ini"),
        render("grafana", "datasource.yaml.j2", "datasource.yaml"),
        render("grafana", "dashboards.yaml.j2", "dashboards.yaml"),
        render("rsyslog", "logweave.conf.j2", "rsyslog-logweave.conf"),
        render("rsyslog", "rsyslog-check-dropin.sh.j2", "rsyslog-check-dropin"),
    ]
    play = {
        "name": "Render the role templates",
        "hosts": "localhost",
        "gather_facts": False,
        "vars_files": [path for role in ROLES for path in files(role)],
        "tasks": tasks,
    }
    work = tmp_path_factory.mktemp("render-run")
    result = run_playbook(work, play)
    assert result.returncode == 0, result.stdout + result.stderr
    yield out


def unit_settings(path: Path) -> dict[str, list[str]]:
    """Each key=value of a unit file, keeping repeated keys in order (continuations joined)."""
    text = re.sub(r"\\\n\s*", "", path.read_text())
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


@pytest.mark.parametrize("service", SERVICES)
def test_each_logweave_unit_is_a_watched_sandboxed_notify_service(
    rendered: Path, service: str
) -> None:
    unit = unit_settings(rendered / f"{service}.service")

    assert unit["Type"] == ["notify"]
    assert unit["NotifyAccess"] == ["main"]
    assert unit["WatchdogSec"] == ["30s"]
    assert unit["Restart"] == ["on-failure"]
    assert unit["TimeoutStopSec"] == ["30s"]  # drain_timeout_s 10 plus 20
    assert unit["ExecStart"] == [
        f"/opt/logweave/venv/bin/{service} --config /etc/logweave/logweave.toml"
    ]
    assert unit["User"] == ["logweave"]
    assert unit["LoadCredential"] == ["postgres-password:/etc/logweave/postgres-password"]
    assert unit["After"] == ["network.target kafka.service postgresql.service"]
    assert unit["Wants"] == ["kafka.service postgresql.service"]
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "ProtectProc": "invisible",
        "ProcSubset": "pid",
        "MemoryDenyWriteExecute": "yes",
        "CapabilityBoundingSet": "",
        "UMask": "0077",
        "IPAddressDeny": "any",
        "IPAddressAllow": "localhost",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
        "SystemCallArchitectures": "native",
    }.items():
        assert unit[key] == [value], key
    assert unit["SystemCallFilter"][0] == "@system-service"


def exposure(unit: Path) -> float:
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None, "systemd-analyze is missing: scripts/install-deps.sh installs it"
    result = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", unit.name],
        cwd=unit.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    return float(match.group(1))


@pytest.mark.parametrize("service", SERVICES)
def test_each_logweave_unit_scores_at_most_3_in_systemd_analyze_security(
    rendered: Path, service: str
) -> None:
    assert exposure(rendered / f"{service}.service") <= 3.0


def test_the_kafka_unit_is_ready_only_once_the_client_port_accepts(rendered: Path) -> None:
    unit = unit_settings(rendered / "kafka.service")

    assert unit["Type"] == ["exec"]
    assert unit["User"] == ["kafka"]
    assert unit["Restart"] == ["on-failure"]
    (exec_start,) = unit["ExecStart"]
    assert "-Xms384m -Xmx384m" in exec_start
    assert exec_start.endswith(
        "-cp '/opt/kafka/current/libs/*' kafka.Kafka /etc/kafka/server.properties"
    )
    assert unit["ExecStartPost"] == [
        "/usr/bin/timeout 120 /bin/bash -c "
        "'until (: </dev/tcp/127.0.0.1/9092) 2>/dev/null; do sleep 1; done'"
    ]
    assert unit["TimeoutStartSec"] == ["150"]
    assert unit["IPAddressDeny"] == ["any"]
    assert "MemoryDenyWriteExecute" not in unit  # the JIT compiler writes code
    assert exposure(rendered / "kafka.service") <= 3.0


def properties(path: Path) -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    return {key: value for key, value in pairs}


def test_kafka_runs_kraft_on_loopback_with_its_data_under_var_lib(rendered: Path) -> None:
    server = properties(rendered / "server.properties")

    assert server["process.roles"] == "broker,controller"
    assert server["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert server["controller.quorum.bootstrap.servers"] == "127.0.0.1:9093"
    assert server["log.dirs"] == "/var/lib/kafka/data"
    assert server["log.retention.hours"] == "168"
    assert server["auto.create.topics.enable"] == "false"
    log4j = load_yaml(rendered / "log4j2.yaml")
    assert log4j["Configuration"]["Loggers"]["Root"]["level"] == "INFO"
    assert list(log4j["Configuration"]["Appenders"]) == ["Console"]


def test_logweave_toml_passes_check_config_with_the_password_from_credentials(
    rendered: Path, tmp_path: Path
) -> None:
    settings = tomllib.loads((rendered / "logweave.toml").read_text())
    credential = "${CREDENTIALS_DIRECTORY}/postgres-password"
    assert settings["postgres"]["password_file"] == credential
    assert settings["kafka"]["partitions"] == 3
    assert settings["kafka"]["dlq_retention_hours"] == 720
    assert settings["producer"]["listen"] == "127.0.0.1:10514"
    assert "password" not in settings["postgres"]["dsn"]

    (tmp_path / "postgres-password").write_text("s3cret")
    result = subprocess.run(
        [sys.executable, "-m", "logweave.cli", "check-config", "--config", "logweave.toml"],
        cwd=rendered,
        env={**os.environ, "CREDENTIALS_DIRECTORY": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "configuration ok" in result.stdout
    assert "s3cret" not in result.stdout


def test_postgres_accepts_tcp_only_with_scram_and_listens_on_loopback(rendered: Path) -> None:
    rules = [
        line.split()
        for line in (rendered / "pg_hba.conf").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules == [
        ["local", "all", "postgres", "peer"],
        ["local", "all", "all", "peer"],
        ["host", "all", "all", "127.0.0.1/32", "scram-sha-256"],
        ["host", "all", "all", "::1/128", "scram-sha-256"],
    ]
    conf = (rendered / "postgresql-logweave.conf").read_text()
    assert "listen_addresses = '127.0.0.1'" in conf
    assert "password_encryption = 'scram-sha-256'" in conf


def test_grafana_is_closed_to_strangers_and_reads_its_secrets_from_files(rendered: Path) -> None:
    ini = configparser.ConfigParser(interpolation=None)
    ini.read_string((rendered / "grafana.ini").read_text())

    assert ini["server"]["http_addr"] == "0.0.0.0"
    assert ini["server"]["http_port"] == "3000"
    assert ini["users"]["allow_sign_up"] == "false"
    assert ini["auth.anonymous"]["enabled"] == "false"
    assert ini["analytics"]["reporting_enabled"] == "false"
    assert ini["analytics"]["check_for_updates"] == "false"
    from_files = {
        "admin_password": "$__file{/etc/grafana/secrets/admin-password}",
        "secret_key": "$__file{/etc/grafana/secrets/secret-key}",
    }
    assert {key: ini["security"][key] for key in from_files} == from_files

    (datasource,) = load_yaml(rendered / "datasource.yaml")["datasources"]
    assert datasource["url"] == "127.0.0.1:5432"
    assert datasource["user"] == "grafana"
    assert datasource["jsonData"]["database"] == "logweave"
    assert datasource["secureJsonData"] == {
        "password": "$__file{/etc/grafana/secrets/postgres-password}"
    }
    (provider,) = load_yaml(rendered / "dashboards.yaml")["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards/logweave"


@pytest.mark.parametrize(
    "name", ["logweave-producer.service", "kafka.service", "grafana.ini", "pg_hba.conf"]
)
def test_rendered_files_start_with_the_managed_header_and_a_reference(
    rendered: Path, name: str
) -> None:
    head = (rendered / name).read_text().splitlines()[:12]

    assert head[1] == "# Ansible managed"
    assert any("https://" in line for line in head)


def test_the_rsyslog_validate_step_accepts_the_rendered_drop_in(rendered: Path) -> None:
    assert shutil.which("rsyslogd", path="/usr/sbin:/usr/bin:/sbin"), (
        "rsyslogd is missing: scripts/install-deps.sh installs it"
    )
    check = rendered / "rsyslog-check-dropin"
    check.chmod(0o755)
    env = {**os.environ, "PATH": f"/usr/sbin:/sbin:{os.environ.get('PATH', '')}"}

    result = subprocess.run(
        [str(check), str(rendered / "rsyslog-logweave.conf")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    broken = rendered / "rsyslog-broken.conf"
    broken.write_text('input(type="imudp" port="notaport")\n')
    result = subprocess.run(
        [str(check), str(broken)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0


def test_logweave_routers_become_the_routers_table_the_services_read(tmp_path: Path) -> None:
    routers = [
        {"address": "192.168.1.1", "name": "gateway", "timezone": "Europe/Berlin"},
        {"address": "2001:DB8:0::1", "name": "attic ap"},
    ]
    play = {
        "name": "Render logweave.toml with routers",
        "hosts": "localhost",
        "gather_facts": False,
        "vars_files": [
            str(REPO / "roles/logweave" / part / "main.yml") for part in ("defaults", "vars")
        ],
        "tasks": [
            {
                "name": "Render logweave.toml",
                "ansible.builtin.template": {
                    "src": str(REPO / "roles/logweave/templates/logweave.toml.j2"),
                    "dest": str(tmp_path / "logweave.toml"),
                    "mode": "0644",
                },
            }
        ],
    }
    # As inventory variables would (a role default in vars_files would win over play vars).
    result = run_playbook(tmp_path, play, "-e", json.dumps({"logweave_routers": routers}))
    assert result.returncode == 0, result.stdout + result.stderr

    settings = config.load(tmp_path / "logweave.toml", environ={})
    assert settings.routers == {
        "192.168.1.1": config.RouterSettings(name="gateway", timezone="Europe/Berlin"),
        "2001:db8::1": config.RouterSettings(name="attic ap", timezone=""),
    }
