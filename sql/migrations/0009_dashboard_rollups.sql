-- What the dashboards need that the consumers' tables do not give cheaply (docs/dashboards.md).
--
-- metrics_ingest_hourly: lines stored in raw_logs per hour and router, and the newest of them.
-- "Events in per hour" and "newest event age" (and the pipeline-stalled alert) would otherwise
-- count or scan every raw_logs row of the range: over a month of a busy router that is seconds,
-- where a panel has half a second. A statement trigger on raw_logs fills it from the rows each
-- INSERT really added (its transition table leaves out rows that ON CONFLICT DO NOTHING skipped),
-- so a redelivered batch adds nothing, exactly as it adds nothing to raw_logs.

CREATE TABLE metrics_ingest_hourly (
    hour timestamptz NOT NULL,
    router text NOT NULL,
    lines bigint NOT NULL DEFAULT 0,
    newest timestamptz NOT NULL,
    PRIMARY KEY (hour, router)
);
COMMENT ON TABLE metrics_ingest_hourly IS
    'Lines stored in raw_logs per hour (received_at, UTC) and router, with the newest received_at';

CREATE FUNCTION logweave_count_ingest() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, public, pg_temp
AS $function$
BEGIN
    INSERT INTO public.metrics_ingest_hourly AS m (hour, router, lines, newest)
    SELECT date_trunc('hour', received_at, 'UTC'), router, count(*), max(received_at)
    FROM stored
    GROUP BY 1, 2
    ORDER BY 1, 2  -- one lock order for every writer, so two batches cannot deadlock
    ON CONFLICT (hour, router) DO UPDATE
    SET lines = m.lines + EXCLUDED.lines,
        newest = GREATEST(m.newest, EXCLUDED.newest);
    RETURN NULL;
END
$function$;

COMMENT ON FUNCTION logweave_count_ingest() IS 'raw_logs trigger: add each INSERT''s rows to metrics_ingest_hourly';

CREATE TRIGGER raw_logs_count_ingest
    AFTER INSERT ON raw_logs
    REFERENCING NEW TABLE AS stored
    FOR EACH STATEMENT EXECUTE FUNCTION logweave_count_ingest();

-- What is there already.
INSERT INTO metrics_ingest_hourly (hour, router, lines, newest)
SELECT date_trunc('hour', received_at, 'UTC'), router, count(*), max(received_at)
FROM raw_logs
GROUP BY 1, 2;

-- "Firewall drops by protocol and port" sums a month per router, protocol and port. Scans of
-- random ports give a month hundreds of thousands of such keys; read in key order from this
-- index (without touching the table) they are summed as they come, instead of hashed or sorted
-- in more memory than a dashboard query has.
CREATE INDEX metrics_firewall_hourly_ports
    ON metrics_firewall_hourly (router, proto, dport, hour) INCLUDE (drops);

-- The trigger runs as the role that inserts into raw_logs, the consumers' writer.
GRANT SELECT, INSERT, UPDATE ON metrics_ingest_hourly TO logweave_writer;
GRANT SELECT ON metrics_ingest_hourly TO logweave_reader;
