-- consumer_progress: each consumer's Kafka position, written in the same transaction as the data
-- it covers, so the database always knows how far it is and Grafana can draw the lag
-- (end_offset - committed_offset) without reaching into Kafka.

CREATE TABLE consumer_progress (
    consumer text NOT NULL,
    topic text NOT NULL,
    kafka_partition int NOT NULL,
    committed_offset bigint NOT NULL,
    end_offset bigint,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, topic, kafka_partition)
);
COMMENT ON TABLE consumer_progress IS
    'Per consumer group and partition: the next offset to read and the partition end when written';
COMMENT ON COLUMN consumer_progress.end_offset IS 'The partition''s high watermark; NULL when unknown';

GRANT SELECT, INSERT, UPDATE ON consumer_progress TO logweave_writer;
GRANT SELECT ON consumer_progress TO logweave_reader;
