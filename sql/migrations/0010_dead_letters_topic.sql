-- dead_letters: a Kafka position is a topic, a partition and an offset. Rejects come from the
-- dead-letter topic and from the event topic (records no producer of ours wrote, and records
-- PostgreSQL refused), and the same partition and offset exist on both: without the topic in the
-- key, the second of two such rejects was taken for a redelivery of the first and dropped.
--
-- Rows written before this migration have no topic (NULL): they stay as they are.

ALTER TABLE dead_letters ADD COLUMN kafka_topic text;
COMMENT ON COLUMN dead_letters.kafka_topic IS 'Topic the reject was read from (NULL: written before it was recorded)';

ALTER TABLE dead_letters DROP CONSTRAINT dead_letters_kafka_partition_kafka_offset_key;
ALTER TABLE dead_letters
    ADD CONSTRAINT dead_letters_kafka_position UNIQUE (kafka_topic, kafka_partition, kafka_offset);
