"""Shared fixtures: real servers started per test session by tests/harness/."""

pytest_plugins = [
    "tests.harness.kafka",
    "tests.harness.postgres",
    "tests.harness.rsyslog",
    "tests.harness.services",
]
