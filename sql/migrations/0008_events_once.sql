-- Each event counted once, the router's own time, firewall drops, and who routers and devices are.
--
-- parsed_events learns which rows are events (counted) and which repeat or continue one
-- (dup_of, part_of: the event id of the line they repeat or belong to), the time the router
-- meant (device_time, read in the router's zone, NULL when the line carried none) and whether
-- its clock is off (clock_skew), and the destination of a dropped packet (the source is ip).
-- The metric tables sum counted rows only. docs/parsing.md explains the rules.
--
-- New columns without a default (or with a constant one) cost no table rewrite, so this runs in
-- a moment on a full parsed_events; rows written before it count as events, as they did.

ALTER TABLE parsed_events
    ADD COLUMN device_time timestamptz,
    ADD COLUMN clock_skew boolean NOT NULL DEFAULT false,
    ADD COLUMN counted boolean NOT NULL DEFAULT true,
    ADD COLUMN dup_of uuid,
    ADD COLUMN part_of uuid,
    ADD COLUMN dst_ip text,
    ADD COLUMN proto text,
    ADD COLUMN dport int CHECK (dport BETWEEN 0 AND 65535);

COMMENT ON COLUMN parsed_events.device_time IS
    'When the router says it happened, in its configured zone; NULL when the line had no time';
COMMENT ON COLUMN parsed_events.clock_skew IS
    'device_time is further from received_at than parsing.clock_skew_s';
COMMENT ON COLUMN parsed_events.counted IS
    'False for a line that repeats an event already counted (dup_of) or continues one (part_of)';
COMMENT ON COLUMN parsed_events.dup_of IS 'event_id of the counted event this line reports again';
COMMENT ON COLUMN parsed_events.part_of IS 'event_id of the line whose record this line continues';
COMMENT ON COLUMN parsed_events.ip IS
    'The client address; for a firewall drop the packet''s source, for the WAN its address';
COMMENT ON COLUMN parsed_events.dst_ip IS 'Firewall drops: where the packet was going';

-- Firewall drops per hour, router, protocol and destination port. Sources are not a key: a scan
-- from many addresses would make a row each; parsed_events keeps them for the drill-down.
CREATE TABLE metrics_firewall_hourly (
    hour timestamptz NOT NULL,
    router text NOT NULL,
    proto text NOT NULL DEFAULT '',
    dport int NOT NULL DEFAULT -1,
    drops int NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, router, proto, dport)
);
COMMENT ON TABLE metrics_firewall_hourly IS
    'Dropped packets per hour, router, protocol and destination port (-1: none or unknown)';

-- A client device across days: its vendor and the hostname it last gave the DHCP server.
CREATE TABLE devices (
    mac text PRIMARY KEY,
    vendor text,
    hostname text,
    hostname_seen timestamptz,
    ip text,
    router text NOT NULL,
    first_seen timestamptz NOT NULL,
    last_seen timestamptz NOT NULL
);
COMMENT ON TABLE devices IS 'One row per client MAC ever seen; vendor from the IEEE OUI list';
COMMENT ON COLUMN devices.hostname IS 'The latest hostname from a DHCP line (a client may change it)';

ALTER TABLE metrics_device_daily ADD COLUMN vendor text;
COMMENT ON COLUMN metrics_device_daily.vendor IS 'From the IEEE OUI list; NULL for randomised MACs';

-- The routers as their sender address (the key everywhere) and the name the settings give it.
CREATE TABLE routers (
    address text PRIMARY KEY,
    name text,
    hostname text,
    first_seen timestamptz NOT NULL,
    last_seen timestamptz NOT NULL
);
COMMENT ON TABLE routers IS 'Each sender address seen, with its name from the [routers] settings';
COMMENT ON COLUMN routers.hostname IS 'The HOSTNAME its latest line carried (not an identity)';

-- The metrics consumer's context per router (see logweave/correlate.py), written in the same
-- transaction as the rows it read, so that the next batch continues where this one ended.
CREATE TABLE router_streams (
    router text PRIMARY KEY,
    state jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE router_streams IS
    'Per router, what later lines need of earlier ones: open record, latest report per subject';

GRANT SELECT, INSERT, UPDATE
    ON metrics_firewall_hourly, devices, routers, router_streams
    TO logweave_writer;
GRANT SELECT ON metrics_firewall_hourly, devices, routers, router_streams TO logweave_reader;
