\echo Use "ALTER EXTENSION samegoal_transfer UPDATE TO '1.3'" to load this file. \quit
-- samegoal_transfer 1.2.1 -> 1.3, written by hand: it must end in exactly the
-- catalog that samegoal_transfer--1.3.sql installs (test/checks/upgrade.sh).
-- Until 1.3 is released this script changes with src/sql.

-- Built-in names resolve in pg_catalog alone, as in the install script.
-- ALTER EXTENSION restores search_path after.
SET LOCAL search_path = pg_catalog, pg_temp;

-- As in every update: a schema samegoal that a role other than a superuser
-- owns lets that role swap what the SECURITY DEFINER functions call.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_namespace n
                 JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
                WHERE n.nspname OPERATOR(pg_catalog.=) 'samegoal' AND NOT r.rolsuper) THEN
        RAISE EXCEPTION 'schema "samegoal" is owned by a role that is not a superuser'
            USING ERRCODE = '42501',
                  HINT = 'Drop the schema, or make a superuser its owner (ALTER SCHEMA samegoal OWNER TO ...), before installing the extension.';
    END IF;
END
$$;
