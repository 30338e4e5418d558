-- raw_logs: every event exactly once, as the producer published it, one partition per UTC day.
--
-- The key is the event id plus the partition key (PostgreSQL wants the partition key in every
-- unique index), so a redelivered event meets its earlier copy and ON CONFLICT DO NOTHING keeps
-- one. received_at is rsyslog's timegenerated, the time the line reached the log host: a router's
-- own clock (reported_at) can be wrong by years after a reboot without NTP.
--
-- There is no default partition: a row for a day without a partition fails loudly, and the
-- consumer creates the day first (logweave.db.ensure_partitions_for). A default partition would
-- swallow such rows and then block creating that day's partition.

CREATE TABLE raw_logs (
    event_id uuid NOT NULL,
    received_at timestamptz NOT NULL,
    reported_at timestamptz NOT NULL,
    router text NOT NULL,
    hostname text NOT NULL DEFAULT '',
    program text NOT NULL DEFAULT '',
    syslogtag text NOT NULL DEFAULT '',
    severity smallint NOT NULL CHECK (severity BETWEEN 0 AND 7),
    facility smallint NOT NULL CHECK (facility BETWEEN 0 AND 23),
    msg text NOT NULL,
    extra jsonb,
    kafka_partition int,
    kafka_offset bigint,
    inserted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, received_at)
) PARTITION BY RANGE (received_at);

COMMENT ON TABLE raw_logs IS 'Every router log event exactly once; daily partitions raw_logs_pYYYYMMDD';
COMMENT ON COLUMN raw_logs.received_at IS 'When the log host received the line (timegenerated), UTC';
COMMENT ON COLUMN raw_logs.reported_at IS 'The time the router wrote in the line (timereported)';
COMMENT ON COLUMN raw_logs.router IS 'The sending address (fromhost-ip)';
COMMENT ON COLUMN raw_logs.extra IS 'RFC 5424 fields when the line had them (app-name, msgid, ...)';

-- A dashboard panel asks for one router over a time range.
CREATE INDEX raw_logs_router_received_at ON raw_logs (router, received_at);
-- Rows arrive in nearly time order, so a BRIN index of a few pages per day narrows "the last 15
-- minutes" inside a day's partition; a B-tree on the same column would grow with every row.
CREATE INDEX raw_logs_received_at_brin ON raw_logs USING brin (received_at);

GRANT SELECT, INSERT, UPDATE ON raw_logs TO logweave_writer;
GRANT SELECT ON raw_logs TO logweave_reader;

-- Yesterday (late lines after midnight) through a week ahead, so a fresh install has room before
-- the first consumer runs.
SELECT logweave_ensure_partitions(
    'raw_logs', (now() AT TIME ZONE 'UTC')::date - 1, (now() AT TIME ZONE 'UTC')::date + 7
);
