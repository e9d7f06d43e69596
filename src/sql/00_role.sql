-- The application role. Roles are cluster-wide, so it survives DROP EXTENSION and
-- is only created when missing; it owns nothing and gets only the grants below.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'samegoal_app') THEN
        CREATE ROLE samegoal_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;

COMMENT ON SCHEMA samegoal IS 'SameGoal special-education documents and district-to-district transfer';
