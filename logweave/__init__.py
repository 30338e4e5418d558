"""LogWeave: home and small-office router logs from syslog through Kafka into PostgreSQL."""

__version__ = "0.1.0"
