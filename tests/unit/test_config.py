"""Settings: file, environment and flags in order, and errors that name the key."""

from pathlib import Path

import pytest

from logweave.cli import main
from logweave.config import ConfigError, load


def test_defaults_bind_to_loopback(tmp_path: Path) -> None:
    settings = load(None, environ={"LOGWEAVE_CONFIG": str(_write(tmp_path, ""))})
    assert settings.producer.listen == "127.0.0.1:10514"
    assert settings.kafka.bootstrap == "127.0.0.1:9092"
    assert settings.producer.max_line_bytes == 65536


def test_flags_beat_environment_beat_file(tmp_path: Path) -> None:
    path = _write(tmp_path, '[kafka]\nbootstrap = "127.0.0.1:1"\ntopic = "from.file"\n')
    env = {"LOGWEAVE_KAFKA_BOOTSTRAP": "127.0.0.1:2", "LOGWEAVE_PRODUCER_MAX_LINE_BYTES": "99"}
    settings = load(path, {"kafka.bootstrap": "127.0.0.1:3"}, environ=env)
    assert settings.kafka.bootstrap == "127.0.0.1:3"
    assert settings.kafka.topic == "from.file"
    assert settings.producer.max_line_bytes == 99


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[kafka]\nbootstrap = "nohost"\n',
            "config key kafka.bootstrap: expected host:port, got 'nohost'",
        ),
        (
            "[producer]\nmax_line_bytes = -1\n",
            "config key producer.max_line_bytes: expected a positive whole number, got -1",
        ),
        (
            "[producer]\nmax_line_bytes = 2000000\n",
            "config key producer.max_line_bytes: expected at most 131072 (Kafka's message limit),"
            " got 2000000",
        ),
        ('[kafka]\nbootstrapp = "x:1"\n', "config key kafka.bootstrapp: no such setting"),
        (
            '[service]\nlog_level = "loud"\n',
            "config key service.log_level: expected one of debug, info, warning, error, got 'loud'",
        ),
    ],
)
def test_bad_setting_names_its_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(_write(tmp_path, text), environ={})
    assert str(caught.value) == message


def test_unknown_section_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown section \[kafak\]"):
        load(_write(tmp_path, "[kafak]\n"), environ={})


def test_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load(tmp_path / "missing.toml", environ={})


def test_password_file_is_appended_to_the_dsn(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("it's\n")
    path = _write(tmp_path, f'[postgres]\npassword_file = "{secret}"\n')
    assert load(path, environ={}).postgres_dsn().endswith("password='it\\'s'")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "logweave.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_non_finite_numbers_are_refused_naming_the_key(value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load("/dev/null", {"service.drain_timeout_s": value}, environ={})
    assert str(refused.value) == (
        f"config key service.drain_timeout_s: expected a positive number, got '{value}'"
    )


def test_a_file_that_is_not_utf8_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "logweave.toml"
    path.write_bytes(b"\xff\xfe[kafka]\n")
    with pytest.raises(ConfigError) as refused:
        load(path, environ={})
    assert str(refused.value) == (
        f"config file {path}: 'utf-8' codec can't decode byte 0xff in position 0:"
        " invalid start byte"
    )


def test_routers_that_is_not_a_table_is_refused_as_such(tmp_path: Path) -> None:
    path = _write(tmp_path, 'routers = "192.168.1.1"\n')
    with pytest.raises(ConfigError) as refused:
        load(path, environ={})
    assert str(refused.value) == f"config file {path}: [routers] must be a table"


def test_check_config_hides_the_password_of_a_uri_dsn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, '[postgres]\ndsn = "postgresql://logweave:s3cret@db/logweave"\n')
    assert main(["check-config", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "postgres.dsn = 'postgresql://logweave:***@db/logweave'" in out
    assert "s3cret" not in out
