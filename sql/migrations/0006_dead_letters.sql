-- dead_letters: input that could not become an event, read from the dead-letter topic (or found
-- unreadable on the event topic), kept with the reason so an operator can see what the routers
-- send that LogWeave does not understand.
--
-- The Kafka position is unique, so a redelivered dead letter inserts nothing. payload keeps the
-- bytes as they came; payload_text is the same decoded leniently, for reading in Grafana.

CREATE TABLE dead_letters (
    id bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    reason text NOT NULL,
    detail text,
    payload bytea,
    payload_text text,
    kafka_partition int,
    kafka_offset bigint,
    UNIQUE (kafka_partition, kafka_offset)
);
COMMENT ON TABLE dead_letters IS 'Rejected input with the reason (not_json, not_utf8, bad_field, ...)';

CREATE INDEX dead_letters_received_at ON dead_letters (received_at);

GRANT SELECT, INSERT, UPDATE ON dead_letters TO logweave_writer;
GRANT USAGE ON SEQUENCE dead_letters_id_seq TO logweave_writer;
GRANT SELECT ON dead_letters TO logweave_reader;
