-- Daily partitions by native SQL: create the days that are missing, drop the days past retention.
--
-- A partition of table T for UTC day D is named T_pYYYYMMDD and holds [D 00:00 UTC, D+1 00:00 UTC).
-- Both functions are SECURITY DEFINER: they run as the role that ran this migration, which owns
-- the tables, so the consumers' unprivileged writer role can add tomorrow's partition without
-- owning anything. The search_path is pinned and every name they build is schema-qualified, so a
-- caller cannot slip in objects of their own. They accept only range-partitioned tables of the
-- public schema keyed by one timestamptz column, which are LogWeave's.
--
-- Both take a transaction-scoped advisory lock per parent table (key 'LWpt' in ASCII, then the
-- table's oid), so two consumers reaching a new day at once create its partition once, and a
-- retention run never drops a partition another caller is about to rely on.

CREATE FUNCTION logweave_ensure_partitions(parent regclass, first_day date, last_day date)
    RETURNS SETOF text
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    parent_schema name;
    parent_table name;
    parent_namespace oid;
    day date;
    partition_name text;
BEGIN
    IF first_day IS NULL OR last_day IS NULL OR last_day < first_day THEN
        RAISE EXCEPTION 'logweave_ensure_partitions: need first_day <= last_day, got % and %',
            first_day, last_day
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- A guard against a bad timestamp turning into thousands of partitions in one call.
    IF last_day - first_day >= 366 THEN
        RAISE EXCEPTION 'logweave_ensure_partitions: % to % is more than 366 days',
            first_day, last_day
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Call it once per stretch of at most 366 days.';
    END IF;

    SELECT n.nspname, c.relname, n.oid INTO parent_schema, parent_table, parent_namespace
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_partitioned_table p ON p.partrelid = c.oid
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = p.partattrs[0]
    WHERE c.oid = parent
      AND n.nspname = 'public'
      AND p.partstrat = 'r'
      AND p.partnatts = 1
      AND a.atttypid = 'timestamptz'::regtype;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'logweave_ensure_partitions: % is not a LogWeave table partitioned by day',
            parent
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    PERFORM pg_advisory_xact_lock(1280798836, parent::oid::int);

    FOR offset_days IN 0 .. last_day - first_day LOOP
        day := first_day + offset_days;
        partition_name := parent_table || '_p' || to_char(day, 'YYYYMMDD');
        CONTINUE WHEN EXISTS (
            SELECT FROM pg_class
            WHERE relname = partition_name
              AND relnamespace = parent_namespace
        );
        -- Bounds written as UTC literals, so the caller's TimeZone setting cannot shift them.
        EXECUTE format(
            'CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)',
            parent_schema, partition_name, parent_schema, parent_table,
            to_char(day, 'YYYY-MM-DD') || ' 00:00:00+00',
            to_char(day + 1, 'YYYY-MM-DD') || ' 00:00:00+00'
        );
        RETURN NEXT partition_name;
    END LOOP;
END
$function$;

COMMENT ON FUNCTION logweave_ensure_partitions(regclass, date, date) IS
    'Create the missing daily partitions of parent for first_day..last_day (UTC); returns the new ones';


CREATE FUNCTION logweave_drop_partitions(parent regclass, keep_days int)
    RETURNS SETOF text
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    parent_schema name;
    parent_table name;
    oldest_kept date;
    old record;
BEGIN
    -- Today's partition is always kept: the consumers are writing into it.
    IF keep_days IS NULL OR keep_days < 1 THEN
        RAISE EXCEPTION 'logweave_drop_partitions: keep_days must be 1 or more, got %', keep_days
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    SELECT n.nspname, c.relname INTO parent_schema, parent_table
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_partitioned_table p ON p.partrelid = c.oid
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = p.partattrs[0]
    WHERE c.oid = parent
      AND n.nspname = 'public'
      AND p.partstrat = 'r'
      AND p.partnatts = 1
      AND a.atttypid = 'timestamptz'::regtype;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'logweave_drop_partitions: % is not a LogWeave table partitioned by day',
            parent
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    PERFORM pg_advisory_xact_lock(1280798836, parent::oid::int);

    -- A day partition ends at midnight after its day, so it lies wholly before the kept window
    -- when its day is older than the oldest kept day.
    oldest_kept := (now() AT TIME ZONE 'UTC')::date - keep_days;
    FOR old IN
        SELECT c.relname,
               to_date(right(c.relname, 8), 'YYYYMMDD') AS day
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = parent
          -- Only partitions named by logweave_ensure_partitions; anything else was put there by
          -- hand and is left to whoever did that.
          AND left(c.relname, -10) = parent_table
          AND right(c.relname, 10) ~ '^_p[0-9]{8}$'
        ORDER BY day
    LOOP
        EXIT WHEN old.day >= oldest_kept;
        EXECUTE format('DROP TABLE %I.%I', parent_schema, old.relname);
        RETURN NEXT old.relname;
    END LOOP;
END
$function$;

COMMENT ON FUNCTION logweave_drop_partitions(regclass, int) IS
    'Drop the daily partitions of parent older than today minus keep_days (UTC); returns them';

-- A function is executable by everyone unless revoked, and these run with the owner's rights.
REVOKE ALL ON FUNCTION logweave_ensure_partitions(regclass, date, date) FROM PUBLIC;
REVOKE ALL ON FUNCTION logweave_drop_partitions(regclass, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION logweave_ensure_partitions(regclass, date, date) TO logweave_writer;
GRANT EXECUTE ON FUNCTION logweave_drop_partitions(regclass, int) TO logweave_writer;
