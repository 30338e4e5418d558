-- The two group roles that the deployment puts login users into, and a locked-down schema.
--
-- Roles belong to the whole cluster: a second LogWeave database, or this migration replayed into a
-- restored database, finds them already there. Creating one needs a superuser or a role with
-- CREATEROLE; where an administrator has created both roles beforehand, the database owner alone
-- can run this migration.

DO $roles$
DECLARE
    group_role text;
BEGIN
    FOREACH group_role IN ARRAY ARRAY['logweave_writer', 'logweave_reader'] LOOP
        CONTINUE WHEN EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = group_role);
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN', group_role);
        EXCEPTION WHEN duplicate_object THEN
            -- Another database's migration created it in the meantime.
            NULL;
        END;
    END LOOP;
END
$roles$;

COMMENT ON ROLE logweave_writer IS
    'LogWeave consumers: write events, metrics, dead letters and offsets; create day partitions';
COMMENT ON ROLE logweave_reader IS 'LogWeave dashboards (Grafana): read everything, change nothing';

-- PostgreSQL 15 no longer lets everyone create objects in public, but a cluster upgraded from an
-- older release keeps the old grant. Only the owner of the tables creates anything here.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Day partitions are created later, by logweave_ensure_partitions running as the role that runs
-- these migrations; this makes each new partition readable to dashboards that query it by name.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO logweave_reader;
