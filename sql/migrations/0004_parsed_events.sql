-- parsed_events: the metrics consumer's typed reading of each event, keyed and partitioned like
-- raw_logs, so the consumer counts an event in the metric tables only when its row is new here.

CREATE TABLE parsed_events (
    event_id uuid NOT NULL,
    received_at timestamptz NOT NULL,
    reported_at timestamptz NOT NULL,
    router text NOT NULL,
    kind text NOT NULL,
    family text NOT NULL,
    parse_ok boolean NOT NULL,
    mac text,
    ip text,
    hostname text,
    iface text,
    ssid text,
    band text,
    severity smallint NOT NULL CHECK (severity BETWEEN 0 AND 7),
    program text,
    detail text,
    PRIMARY KEY (event_id, received_at)
) PARTITION BY RANGE (received_at);

COMMENT ON TABLE parsed_events IS
    'One typed record per event (kind, device, interface); daily partitions parsed_events_pYYYYMMDD';
COMMENT ON COLUMN parsed_events.family IS 'The router family whose parser read the line';
COMMENT ON COLUMN parsed_events.parse_ok IS 'False when no parser recognised the line (kind other)';

-- Panels that list one kind of event (deauths, DHCP NAKs, WAN drops) over a time range.
CREATE INDEX parsed_events_kind_received_at ON parsed_events (kind, received_at);
-- A device's history. Most lines name no device, so those rows stay out of the index.
CREATE INDEX parsed_events_mac_received_at ON parsed_events (mac, received_at)
    WHERE mac IS NOT NULL;
CREATE INDEX parsed_events_received_at_brin ON parsed_events USING brin (received_at);

GRANT SELECT, INSERT, UPDATE ON parsed_events TO logweave_writer;
GRANT SELECT ON parsed_events TO logweave_reader;

SELECT logweave_ensure_partitions(
    'parsed_events', (now() AT TIME ZONE 'UTC')::date - 1, (now() AT TIME ZONE 'UTC')::date + 7
);
