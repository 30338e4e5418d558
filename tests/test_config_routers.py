"""The [routers] table and the [parsing] section: sender addresses, names, zones, bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from logweave.config import ConfigError, RouterSettings, load


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "logweave.toml"
    path.write_text(text)
    return path


def test_routers_are_keyed_by_sender_address_with_name_and_zone(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[routers."192.168.1.1"]\nname = "gw"\ntimezone = "Europe/Berlin"\n'
        '[routers."2001:DB8:0::1"]\nname = "ap-1"\n',
    )
    settings = load(path, environ={})
    # An IPv6 address is kept in the short lower-case form rsyslog writes fromhost-ip in.
    assert settings.routers == {
        "192.168.1.1": RouterSettings(name="gw", timezone="Europe/Berlin"),
        "2001:db8::1": RouterSettings(name="ap-1", timezone=""),
    }


def test_parsing_defaults_and_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, '[parsing]\ntimezone = "America/New_York"\n')
    settings = load(path, {"parsing.clock_skew_s": "60"}, environ={})
    assert settings.parsing.timezone == "America/New_York"
    assert settings.parsing.clock_skew_s == 60.0
    assert settings.parsing.correlation_window_s == 30.0
    assert settings.routers == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[routers."gw.lan"]\nname = "gw"\n',
            'config key routers."gw.lan": expected the router\'s sender address (an IP address)',
        ),
        (
            '[routers."192.168.1.1"]\ntimezone = "Mars/Base"\n',
            'config key routers."192.168.1.1".timezone: expected an IANA time zone name such as'
            " Europe/Berlin, got 'Mars/Base'",
        ),
        (
            '[routers."192.168.1.1"]\nzone = "UTC"\n',
            'config key routers."192.168.1.1".zone: no such setting (name, timezone)',
        ),
        ('[routers]\n"192.168.1.1" = "gw"\n', 'config key routers."192.168.1.1": expected a table'),
        (
            '[parsing]\ntimezone = "Nowhere/Else"\n',
            "config key parsing.timezone: expected an IANA time zone name such as Europe/Berlin,"
            " got 'Nowhere/Else'",
        ),
    ],
)
def test_bad_router_or_parsing_setting_names_its_key(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, text), environ={})
    assert str(caught.value).startswith(message)


def test_parsing_settings_have_environment_variables_and_routers_do_not(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    settings = load(path, environ={"LOGWEAVE_PARSING_CORRELATION_WINDOW_S": "12"})
    assert settings.parsing.correlation_window_s == 12.0
    with pytest.raises(ConfigError, match=r"config key routers\.x: no such setting"):
        load(path, {"routers.x": "gw"}, environ={})
