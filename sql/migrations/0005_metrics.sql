-- The metric tables Grafana draws from: per-hour counters per router, and one row per device per
-- day. The metrics consumer adds to them in the same statement that inserts new parsed_events rows.
--
-- Counters are NOT NULL DEFAULT 0 so that "counter + EXCLUDED.counter" never turns into NULL.
-- Text parts of a key default to '' rather than NULL: NULLs never conflict, and each upsert would
-- add a row instead of adding to one. Each primary key starts with the time column, which is
-- what a dashboard's time range filters on.

CREATE TABLE metrics_wifi_hourly (
    hour timestamptz NOT NULL,
    router text NOT NULL,
    iface text NOT NULL DEFAULT '',
    band text NOT NULL DEFAULT '',
    ssid text NOT NULL DEFAULT '',
    assoc int NOT NULL DEFAULT 0,
    disassoc int NOT NULL DEFAULT 0,
    deauth int NOT NULL DEFAULT 0,
    auth_fail int NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, router, iface, band, ssid)
);
COMMENT ON TABLE metrics_wifi_hourly IS 'Wi-Fi associations, disassociations, deauths, auth failures per hour';

CREATE TABLE metrics_dhcp_hourly (
    hour timestamptz NOT NULL,
    router text NOT NULL,
    discover int NOT NULL DEFAULT 0,
    offer int NOT NULL DEFAULT 0,
    request int NOT NULL DEFAULT 0,
    ack int NOT NULL DEFAULT 0,
    nak int NOT NULL DEFAULT 0,
    release int NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, router)
);
COMMENT ON TABLE metrics_dhcp_hourly IS 'DHCP messages per hour and router';

CREATE TABLE metrics_system_hourly (
    hour timestamptz NOT NULL,
    router text NOT NULL,
    program text NOT NULL DEFAULT '',
    severity smallint NOT NULL CHECK (severity BETWEEN 0 AND 7),
    events int NOT NULL DEFAULT 0,
    errors int NOT NULL DEFAULT 0,
    unparsed int NOT NULL DEFAULT 0,
    wan_up int NOT NULL DEFAULT 0,
    wan_down int NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, router, program, severity)
);
COMMENT ON TABLE metrics_system_hourly IS
    'All events per hour, router, program and severity: volume, errors, unparsed lines, WAN changes';

CREATE TABLE metrics_device_daily (
    day date NOT NULL,
    mac text NOT NULL,
    router text NOT NULL,
    hostname text,
    ip text,
    first_seen timestamptz NOT NULL,
    last_seen timestamptz NOT NULL,
    events int NOT NULL DEFAULT 0,
    problems int NOT NULL DEFAULT 0,
    PRIMARY KEY (day, mac)
);
COMMENT ON TABLE metrics_device_daily IS
    'One row per client device (MAC) per UTC day: where it was last seen and how often it had trouble';
COMMENT ON COLUMN metrics_device_daily.problems IS 'Deauths, authentication failures and DHCP NAKs';

-- One device's days, for the device drill-down panel.
CREATE INDEX metrics_device_daily_mac_day ON metrics_device_daily (mac, day);

GRANT SELECT, INSERT, UPDATE
    ON metrics_wifi_hourly, metrics_dhcp_hourly, metrics_system_hourly, metrics_device_daily
    TO logweave_writer;
GRANT SELECT
    ON metrics_wifi_hourly, metrics_dhcp_hourly, metrics_system_hourly, metrics_device_daily
    TO logweave_reader;
